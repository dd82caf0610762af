//! The 64-byte header (FORMAT.md, "Header"): decoded and checked against the blob by
//! [`Header::read`], encoded by [`Header::encode`], both through the field offsets below, and
//! the CRC-32 that covers the rest of the blob.

use super::version::{I16_BIAS_VERSION, MAGIC, MIN_VERSION, VERSION};
use crate::bytes::{f32_at, put, slice, u16_at, u32_at};
use crate::error::{Error, Part};

/// Bytes of the header, at the start of every blob.
pub const HEADER_LEN: usize = 64;
/// Flag bit 0: integer-path constants present.
pub const FLAG_HAS_INT: u16 = 1;
/// Most tensors a blob may hold.
pub const MAX_TENSORS: u16 = 1024;
/// Most layers a blob may hold.
pub const MAX_LAYERS: u16 = 64;
/// Bytes of one tensor-table entry (FORMAT.md, "Tensor table entry").
pub const TENSOR_ENTRY_LEN: usize = 32;
/// Bytes of one layer-table entry (FORMAT.md, "Layer table entry").
pub const LAYER_ENTRY_LEN: usize = 24;

// Field offsets.
const MAGIC_AT: usize = 0;
const VERSION_AT: usize = 4;
const FLAGS_AT: usize = 6;
const TOTAL_LEN_AT: usize = 8;
const CRC32_AT: usize = 12;
/// First byte the CRC-32 covers: everything after the checksum field, to `total_len`.
pub const CRC_START: usize = CRC32_AT + 4;
const N_TENSORS_AT: usize = 16;
const N_LAYERS_AT: usize = 18;
const INPUT_LEN_AT: usize = 20;
const OUTPUT_LEN_AT: usize = 22;
const TENSOR_TABLE_AT: usize = 24;
const LAYER_TABLE_AT: usize = 28;
/// The four buffer sizes, in the order of [`Header::buffer_lens`].
const BUFFER_LENS_AT: [usize; 4] = [32, 36, 40, 44];
const INPUT_SCALE_AT: usize = 48;
const RESERVED_AT: usize = 52;
const RESERVED_LEN: usize = HEADER_LEN - RESERVED_AT;

const CRC: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

/// CRC-32/ISO-HDLC of a blob's bytes `[CRC_START, len)`: the checksum its header stores.
pub fn checksum(blob: &[u8]) -> u32 {
    CRC.checksum(blob.get(CRC_START..).unwrap_or(&[]))
}

/// The 64-byte header. The table offsets are not stored here: they follow from `n_tensors`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Header {
    /// Format version ([`MIN_VERSION`]..=[`VERSION`]).
    pub version: u16,
    /// Flag bits: [`FLAG_HAS_INT`] or none.
    pub flags: u16,
    /// Bytes of the whole blob, header included.
    pub total_len: u32,
    /// CRC-32 of bytes [`CRC_START`]`..total_len` ([`checksum`]).
    pub crc32: u32,
    /// Entries of the tensor table.
    pub n_tensors: u16,
    /// Entries of the layer table.
    pub n_layers: u16,
    /// Inputs per frame (features).
    pub input_len: u16,
    /// Outputs per frame (gains).
    pub output_len: u16,
    /// f32 elements of activation arena the f32 path needs.
    pub f32_arena_len: u32,
    /// f32 elements of streaming state (conv histories) the f32 path needs.
    pub f32_state_len: u32,
    /// i8 elements of activation arena the integer path needs (0 without [`FLAG_HAS_INT`]).
    pub i8_arena_len: u32,
    /// i8 elements of streaming state the integer path needs (0 without [`FLAG_HAS_INT`]).
    pub i8_state_len: u32,
    /// Integer path: a feature `x` enters as `clamp(round(x / input_scale), −127, 127)`; 0
    /// without [`FLAG_HAS_INT`].
    pub input_scale: f32,
}

impl Header {
    /// Reads and checks the header against the whole blob, in the order of FORMAT.md ("What
    /// each check protects"): the fields before the CRC one by one, the CRC over the rest, then
    /// the fields it covers and how the version and flags fit them.
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
        if slice(b, RESERVED_AT, RESERVED_LEN, p)?.iter().any(|&x| x != 0) {
            return Err(Error::Reserved(p));
        }
        let tables = (u32_at(b, TENSOR_TABLE_AT, p)? as usize, u32_at(b, LAYER_TABLE_AT, p)? as usize);
        if tables != (HEADER_LEN, h.layer_table_offset()) {
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
        let [a, s, ia, is] = BUFFER_LENS_AT;
        Ok(Header {
            version,
            flags: u16_at(b, FLAGS_AT, p)?,
            total_len: u32_at(b, TOTAL_LEN_AT, p)?,
            crc32: u32_at(b, CRC32_AT, p)?,
            n_tensors: u16_at(b, N_TENSORS_AT, p)?,
            n_layers: u16_at(b, N_LAYERS_AT, p)?,
            input_len: u16_at(b, INPUT_LEN_AT, p)?,
            output_len: u16_at(b, OUTPUT_LEN_AT, p)?,
            f32_arena_len: u32_at(b, a, p)?,
            f32_state_len: u32_at(b, s, p)?,
            i8_arena_len: u32_at(b, ia, p)?,
            i8_state_len: u32_at(b, is, p)?,
            input_scale: f32_at(b, INPUT_SCALE_AT, p)?,
        })
    }

    /// The counts' ranges; the integer-path flag against the input scale and the i8 sizes; the
    /// version against the flag (from [`I16_BIAS_VERSION`] the writer writes a blob only with
    /// integer constants).
    fn check_fields(&self) -> Result<(), Error> {
        let h = self;
        let p = Part::Header;
        if h.n_tensors > MAX_TENSORS || h.n_layers == 0 || h.n_layers > MAX_LAYERS || h.input_len == 0 {
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
        if h.version >= I16_BIAS_VERSION && !h.has_int() {
            return Err(Error::VersionMismatch { version: h.version, part: p });
        }
        Ok(())
    }

    /// The 64 bytes of this header (table offsets from `n_tensors`, reserved bytes zero).
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        put(&mut b, MAGIC_AT, MAGIC);
        put(&mut b, VERSION_AT, self.version.to_le_bytes());
        put(&mut b, FLAGS_AT, self.flags.to_le_bytes());
        put(&mut b, TOTAL_LEN_AT, self.total_len.to_le_bytes());
        put(&mut b, CRC32_AT, self.crc32.to_le_bytes());
        put(&mut b, N_TENSORS_AT, self.n_tensors.to_le_bytes());
        put(&mut b, N_LAYERS_AT, self.n_layers.to_le_bytes());
        put(&mut b, INPUT_LEN_AT, self.input_len.to_le_bytes());
        put(&mut b, OUTPUT_LEN_AT, self.output_len.to_le_bytes());
        put(&mut b, TENSOR_TABLE_AT, (HEADER_LEN as u32).to_le_bytes());
        put(&mut b, LAYER_TABLE_AT, (self.layer_table_offset() as u32).to_le_bytes());
        for (at, v) in BUFFER_LENS_AT.into_iter().zip(self.buffer_lens()) {
            put(&mut b, at, v.to_le_bytes());
        }
        put(&mut b, INPUT_SCALE_AT, self.input_scale.to_le_bytes());
        b
    }

    /// Whether [`FLAG_HAS_INT`] is set: the blob carries the integer path's constants.
    pub fn has_int(&self) -> bool {
        self.flags & FLAG_HAS_INT != 0
    }

    /// f32 arena, f32 state, i8 arena, i8 state: the four sizes a caller's buffers need.
    pub fn buffer_lens(&self) -> [u32; 4] {
        [self.f32_arena_len, self.f32_state_len, self.i8_arena_len, self.i8_state_len]
    }

    /// Sets the four sizes of [`Header::buffer_lens`].
    pub fn set_buffer_lens(&mut self, [a, s, ia, is]: [u32; 4]) {
        (self.f32_arena_len, self.f32_state_len, self.i8_arena_len, self.i8_state_len) = (a, s, ia, is);
    }

    /// Where tensor-table entry `i` starts.
    pub fn tensor_entry_offset(&self, i: u16) -> usize {
        HEADER_LEN + usize::from(i) * TENSOR_ENTRY_LEN
    }

    /// Where the layer table starts (just after the tensor table).
    pub fn layer_table_offset(&self) -> usize {
        self.tensor_entry_offset(self.n_tensors)
    }

    /// Where layer-table entry `i` starts.
    pub fn layer_entry_offset(&self, i: u16) -> usize {
        self.layer_table_offset() + usize::from(i) * LAYER_ENTRY_LEN
    }

    /// First byte after the layer table: where data regions may start.
    pub fn data_start(&self) -> usize {
        self.layer_entry_offset(self.n_layers)
    }
}

/// A length as the header's `u32` (saturating: a longer buffer can never match).
pub(crate) fn len32(b: &[u8]) -> u32 {
    u32::try_from(b.len()).unwrap_or(u32::MAX)
}
