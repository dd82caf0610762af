//! The 64-byte header (FORMAT.md, "Header"): decoded and checked against the blob by
//! [`Header::read`], encoded by [`Header::encode`], both through the field offsets below; where
//! the tables start (they follow from the version and the counts); and the CRC-32 as each
//! version defines it ([`checksum`]).

use super::crc32::crc32_of;
use super::version::{GRAPH_VERSION, I16_BIAS_VERSION, INT_BIAS_VERSION, MAGIC, MIN_VERSION, VERSION};
use crate::bytes::{f32_at, put, slice, u16_at, u32_at};
use crate::error::{Error, Part};

/// Bytes of the header, at the start of every blob.
pub const HEADER_LEN: usize = 64;
/// Flag bit 0: integer-path constants present.
pub const FLAG_HAS_INT: u16 = 1;
/// Most tensors a blob may hold.
pub const MAX_TENSORS: u16 = 1024;
/// Most layers a version 1–4 blob may hold.
pub const MAX_LAYERS: u16 = 64;
/// Most nodes a version 5 blob may hold (the parser's stack arrays are this long).
pub const MAX_NODES: u16 = 128;
/// Bytes of one tensor-table entry (FORMAT.md, "Tensor table entry").
pub const TENSOR_ENTRY_LEN: usize = 32;
/// Bytes of one layer-table entry (FORMAT.md, "Layer table entry", versions 1–4).
pub const LAYER_ENTRY_LEN: usize = 24;
/// Bytes of one node-table entry (FORMAT.md, "Node table entry", version 5).
pub const NODE_ENTRY_LEN: usize = 40;
/// Bytes of the front-end record, just after the header (version 5).
pub const FRONT_END_LEN: usize = 16;
/// Bytes of one operand-list entry (a value id).
pub const OPERAND_LEN: usize = 2;

// Field offsets.
const MAGIC_AT: usize = 0;
const VERSION_AT: usize = 4;
const FLAGS_AT: usize = 6;
const TOTAL_LEN_AT: usize = 8;
const CRC32_AT: usize = 12;
/// First byte the CRC-32 of versions 1–4 covers: everything after the checksum field.
pub const CRC_START: usize = CRC32_AT + 4;
const N_TENSORS_AT: usize = 16;
const N_NODES_AT: usize = 18;
const INPUT_LEN_AT: usize = 20;
const OUTPUT_LEN_AT: usize = 22;
const TENSOR_TABLE_AT: usize = 24;
const NODE_TABLE_AT: usize = 28;
/// The four buffer sizes, in the order of [`Header::buffer_lens`].
const BUFFER_LENS_AT: [usize; 4] = [32, 36, 40, 44];
const INPUT_SCALE_AT: usize = 48;
const N_OPERANDS_AT: usize = 52;
const INPUT_HEIGHT_AT: usize = 54;
/// Reserved to the end of the header: from byte 52 in versions 1–4, from 56 in version 5.
const RESERVED_CHAIN_AT: usize = 52;
const RESERVED_GRAPH_AT: usize = 56;

/// The CRC-32/ISO-HDLC a blob's header stores, as its version (bytes 4..6) defines it: version 5
/// the whole blob with bytes 12..16 read as zero, versions 1–4 bytes `[CRC_START, len)`.
pub fn checksum(blob: &[u8]) -> u32 {
    let version = u16_at(blob, VERSION_AT, Part::Header).unwrap_or(0);
    let after = blob.get(CRC_START..).unwrap_or(&[]);
    if version < GRAPH_VERSION {
        return crc32_of(&[after]);
    }
    crc32_of(&[blob.get(..CRC32_AT).unwrap_or(blob), &[0; 4], after])
}

/// The 64-byte header. The table offsets are not stored here: they follow from the version and
/// the counts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Header {
    /// Format version ([`MIN_VERSION`]..=[`VERSION`]).
    pub version: u16,
    /// Flag bits: [`FLAG_HAS_INT`] or none.
    pub flags: u16,
    /// Bytes of the whole blob, header included.
    pub total_len: u32,
    /// The CRC-32 ([`checksum`]).
    pub crc32: u32,
    /// Entries of the tensor table.
    pub n_tensors: u16,
    /// Entries of the node table (versions 1–4: of the layer table).
    pub n_nodes: u16,
    /// Elements of the input (value 0): the features of one frame.
    pub input_len: u16,
    /// Elements of the output (the last node's value).
    pub output_len: u16,
    /// f32 elements of activation arena the f32 path needs.
    pub f32_arena_len: u32,
    /// f32 elements of streaming state the f32 path needs.
    pub f32_state_len: u32,
    /// i8 elements of activation arena the integer path needs (0 without [`FLAG_HAS_INT`]).
    pub i8_arena_len: u32,
    /// i8 elements of streaming state the integer path needs (0 without [`FLAG_HAS_INT`]).
    pub i8_state_len: u32,
    /// Integer path: a feature `x` enters as `clamp(round(x / input_scale), −127, 127)`; 0
    /// without [`FLAG_HAS_INT`].
    pub input_scale: f32,
    /// Entries of the operand list (version 5; 0 before).
    pub n_operands: u16,
    /// Height of value 0 (version 5: 1 or `input_len`; 1 before).
    pub input_height: u16,
}

impl Header {
    /// Reads and checks the header against the whole blob, in the order of FORMAT.md ("What
    /// each check protects"): the fields before the CRC one by one, the CRC, then the fields it
    /// covers and how the version and flags fit them.
    pub fn read(b: &[u8]) -> Result<Header, Error> {
        let h = Self::decode(b)?;
        if h.flags & !FLAG_HAS_INT != 0 {
            return Err(Error::UnknownFlags(h.flags));
        }
        if h.total_len != len32(b) {
            return Err(Error::LengthMismatch { header: h.total_len, actual: len32(b) });
        }
        let computed = checksum(b);
        if computed != h.crc32 {
            return Err(Error::Checksum { stored: h.crc32, computed });
        }
        let p = Part::Header;
        let reserved_at = if h.is_graph() { RESERVED_GRAPH_AT } else { RESERVED_CHAIN_AT };
        if slice(b, reserved_at, HEADER_LEN - reserved_at, p)?.iter().any(|&x| x != 0) {
            return Err(Error::Reserved(p));
        }
        let tables = (u32_at(b, TENSOR_TABLE_AT, p)? as usize, u32_at(b, NODE_TABLE_AT, p)? as usize);
        if tables != (h.tensor_table_offset(), h.node_table_offset()) {
            return Err(Error::OutOfBounds(p));
        }
        h.check_fields()?;
        Ok(h)
    }

    /// Decodes the fields; checks the length, the magic and the version range.
    fn decode(b: &[u8]) -> Result<Header, Error> {
        let p = Part::Header;
        if b.len() < HEADER_LEN {
            return Err(Error::Truncated { needed: HEADER_LEN as u32, got: len32(b) });
        }
        if slice(b, MAGIC_AT, MAGIC.len(), p)? != MAGIC {
            return Err(Error::BadMagic);
        }
        let version = u16_at(b, VERSION_AT, p)?;
        if !(MIN_VERSION..=VERSION).contains(&version) {
            return Err(Error::UnsupportedVersion(version));
        }
        let graph = version >= GRAPH_VERSION;
        let [a, s, ia, is] = BUFFER_LENS_AT;
        Ok(Header {
            version,
            flags: u16_at(b, FLAGS_AT, p)?,
            total_len: u32_at(b, TOTAL_LEN_AT, p)?,
            crc32: u32_at(b, CRC32_AT, p)?,
            n_tensors: u16_at(b, N_TENSORS_AT, p)?,
            n_nodes: u16_at(b, N_NODES_AT, p)?,
            input_len: u16_at(b, INPUT_LEN_AT, p)?,
            output_len: u16_at(b, OUTPUT_LEN_AT, p)?,
            f32_arena_len: u32_at(b, a, p)?,
            f32_state_len: u32_at(b, s, p)?,
            i8_arena_len: u32_at(b, ia, p)?,
            i8_state_len: u32_at(b, is, p)?,
            input_scale: f32_at(b, INPUT_SCALE_AT, p)?,
            n_operands: if graph { u16_at(b, N_OPERANDS_AT, p)? } else { 0 },
            input_height: if graph { u16_at(b, INPUT_HEIGHT_AT, p)? } else { 1 },
        })
    }

    /// The counts' ranges; value 0's height; the integer-path flag against the input scale and
    /// the i8 sizes; the version against the flag (versions 3 and 4 hold integer constants).
    fn check_fields(&self) -> Result<(), Error> {
        let h = self;
        let p = Part::Header;
        let max_nodes = if h.is_graph() { MAX_NODES } else { MAX_LAYERS };
        let height_ok = h.input_height == 1 || h.input_height == h.input_len;
        if h.n_tensors > MAX_TENSORS || h.n_nodes == 0 || h.n_nodes > max_nodes || h.input_len == 0 || !height_ok {
            return Err(Error::InvalidField(p));
        }
        let int_agrees = if h.has_int() {
            h.input_scale != 0.0
        } else {
            h.input_scale == 0.0 && h.i8_arena_len == 0 && h.i8_state_len == 0
        };
        if !int_agrees {
            return Err(Error::FlagMismatch(p));
        }
        if h.has_int() && !(h.input_scale.is_finite() && h.input_scale > 0.0) {
            return Err(Error::InvalidField(p));
        }
        if (I16_BIAS_VERSION..=INT_BIAS_VERSION).contains(&h.version) && !h.has_int() {
            return Err(Error::VersionMismatch { version: h.version, part: p });
        }
        Ok(())
    }

    /// The 64 bytes of this header (table offsets from the version and the counts, reserved
    /// bytes zero; the version 5 fields only in a version 5 header).
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        put(&mut b, MAGIC_AT, MAGIC);
        put(&mut b, VERSION_AT, self.version.to_le_bytes());
        put(&mut b, FLAGS_AT, self.flags.to_le_bytes());
        put(&mut b, TOTAL_LEN_AT, self.total_len.to_le_bytes());
        put(&mut b, CRC32_AT, self.crc32.to_le_bytes());
        put(&mut b, N_TENSORS_AT, self.n_tensors.to_le_bytes());
        put(&mut b, N_NODES_AT, self.n_nodes.to_le_bytes());
        put(&mut b, INPUT_LEN_AT, self.input_len.to_le_bytes());
        put(&mut b, OUTPUT_LEN_AT, self.output_len.to_le_bytes());
        put(&mut b, TENSOR_TABLE_AT, (self.tensor_table_offset() as u32).to_le_bytes());
        put(&mut b, NODE_TABLE_AT, (self.node_table_offset() as u32).to_le_bytes());
        for (at, v) in BUFFER_LENS_AT.into_iter().zip(self.buffer_lens()) {
            put(&mut b, at, v.to_le_bytes());
        }
        put(&mut b, INPUT_SCALE_AT, self.input_scale.to_le_bytes());
        if self.is_graph() {
            put(&mut b, N_OPERANDS_AT, self.n_operands.to_le_bytes());
            put(&mut b, INPUT_HEIGHT_AT, self.input_height.to_le_bytes());
        }
        b
    }

    /// Whether [`FLAG_HAS_INT`] is set: the blob carries the integer path's constants.
    pub fn has_int(&self) -> bool {
        self.flags & FLAG_HAS_INT != 0
    }

    /// Whether the blob is a node graph (version 5), not a chain of layers (versions 1–4).
    pub fn is_graph(&self) -> bool {
        self.version >= GRAPH_VERSION
    }

    /// f32 arena, f32 state, i8 arena, i8 state: the four sizes a caller's buffers need.
    pub fn buffer_lens(&self) -> [u32; 4] {
        [self.f32_arena_len, self.f32_state_len, self.i8_arena_len, self.i8_state_len]
    }

    /// Sets the four sizes of [`Header::buffer_lens`].
    pub fn set_buffer_lens(&mut self, [a, s, ia, is]: [u32; 4]) {
        (self.f32_arena_len, self.f32_state_len, self.i8_arena_len, self.i8_state_len) = (a, s, ia, is);
    }

    /// Where the tensor table starts: after the header, and in version 5 the front-end record.
    pub fn tensor_table_offset(&self) -> usize {
        HEADER_LEN + if self.is_graph() { FRONT_END_LEN } else { 0 }
    }

    /// Where tensor-table entry `i` starts.
    pub fn tensor_entry_offset(&self, i: u16) -> usize {
        self.tensor_table_offset() + usize::from(i) * TENSOR_ENTRY_LEN
    }

    /// Where the node table (versions 1–4: the layer table) starts, just after the tensor table.
    pub fn node_table_offset(&self) -> usize {
        self.tensor_entry_offset(self.n_tensors)
    }

    /// Bytes of one node-table entry: [`NODE_ENTRY_LEN`], or [`LAYER_ENTRY_LEN`] in versions 1–4.
    pub fn node_entry_len(&self) -> usize {
        if self.is_graph() {
            NODE_ENTRY_LEN
        } else {
            LAYER_ENTRY_LEN
        }
    }

    /// Where node-table entry `i` starts.
    pub fn node_entry_offset(&self, i: u16) -> usize {
        self.node_table_offset() + usize::from(i) * self.node_entry_len()
    }

    /// Where the operand list starts (version 5), just after the node table.
    pub fn operand_list_offset(&self) -> usize {
        self.node_entry_offset(self.n_nodes)
    }

    /// First byte after the tables (the operand list in version 5): where data regions start.
    pub fn data_start(&self) -> usize {
        self.operand_list_offset() + usize::from(self.n_operands) * OPERAND_LEN
    }
}

/// A length as the header's `u32` (saturating: a longer buffer can never match).
pub(crate) fn len32(b: &[u8]) -> u32 {
    u32::try_from(b.len()).unwrap_or(u32::MAX)
}
