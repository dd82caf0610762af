//! Decoding and validating the blob's header, tensor table and layer table (FORMAT.md).
//! Each `read_*` checks its own entry; `Model::parse` checks how the entries fit together.

use crate::bytes::{f32_at, slice, u16_at, u32_at, u8_at};
use crate::error::{Error, Part};
pub use crate::layout::Layout;
use crate::quant::{group_bytes, MAX_BITS};

pub const MAGIC: [u8; 4] = *b"DQEM";
/// Newest format version this runtime reads and writes (2 adds the row-pair layout, 3 stores
/// the integer path's bias constants as i16 with a shift instead of i64, 4 keeps the biases of
/// a blob with integer constants only there: both paths read them from the constants).
pub const VERSION: u16 = 4;
/// Oldest version still read: a v1 blob is a v2 blob whose tensors all use the row layout.
pub const MIN_VERSION: u16 = 1;
pub const HEADER_LEN: usize = 64;
pub const TENSOR_ENTRY_LEN: usize = 32;
pub const LAYER_ENTRY_LEN: usize = 24;
/// Flag bit 0: integer-path constants present.
pub const FLAG_HAS_INT: u16 = 1;
/// Tensor index meaning "none".
pub const NO_TENSOR: u16 = 0xFFFF;
pub const MAX_TENSORS: u16 = 1024;
pub const MAX_LAYERS: u16 = 64;
/// Largest conv kernel (taps live in a stack array of this size).
pub const MAX_KERNEL: usize = 16;
pub const MAX_DILATION: u16 = 256;
pub const MAX_GROUP: u16 = 4096;
/// Integer constants of conv1d/linear: shift, m_min, 15 × m_bits, then the bias constants
/// (2 bytes per output from version 3 on, 8 before).
pub const INT_LINEAR_FIXED: usize = 68;
/// Integer sigmoid/tanh lookup table.
pub const INT_LUT_LEN: usize = 256;

/// The 64-byte header.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Header {
    pub version: u16,
    pub flags: u16,
    pub total_len: u32,
    pub crc32: u32,
    pub n_tensors: u16,
    pub n_layers: u16,
    pub input_len: u16,
    pub output_len: u16,
    pub f32_arena_len: u32,
    pub f32_state_len: u32,
    pub i8_arena_len: u32,
    pub i8_state_len: u32,
    pub input_scale: f32,
}

impl Header {
    /// Reads and checks the header fields that need no other part of the blob (no CRC).
    pub fn read(b: &[u8]) -> Result<Header, Error> {
        let p = Part::Header;
        if b.len() < HEADER_LEN {
            return Err(Error::Truncated { needed: HEADER_LEN as u32, got: len32(b) });
        }
        if slice(b, 0, 4, p)? != MAGIC {
            return Err(Error::BadMagic);
        }
        let version = u16_at(b, 4, p)?;
        if !(MIN_VERSION..=VERSION).contains(&version) {
            return Err(Error::UnsupportedVersion(version));
        }
        let h = Header {
            version,
            flags: u16_at(b, 6, p)?,
            total_len: u32_at(b, 8, p)?,
            crc32: u32_at(b, 12, p)?,
            n_tensors: u16_at(b, 16, p)?,
            n_layers: u16_at(b, 18, p)?,
            input_len: u16_at(b, 20, p)?,
            output_len: u16_at(b, 22, p)?,
            f32_arena_len: u32_at(b, 32, p)?,
            f32_state_len: u32_at(b, 36, p)?,
            i8_arena_len: u32_at(b, 40, p)?,
            i8_state_len: u32_at(b, 44, p)?,
            input_scale: f32_at(b, 48, p)?,
        };
        if h.flags & !FLAG_HAS_INT != 0 || slice(b, 52, 12, p)?.iter().any(|&x| x != 0) {
            return Err(Error::Reserved(p));
        }
        if u32_at(b, 24, p)? as usize != HEADER_LEN || u32_at(b, 28, p)? as usize != layer_table_offset(h.n_tensors) {
            return Err(Error::OutOfBounds(p));
        }
        if h.n_tensors > MAX_TENSORS || h.n_layers == 0 || h.n_layers > MAX_LAYERS || h.input_len == 0 {
            return Err(Error::InvalidField(p));
        }
        let int_ok = if h.has_int() {
            h.input_scale.is_finite() && h.input_scale > 0.0
        } else {
            h.input_scale == 0.0 && h.i8_arena_len == 0 && h.i8_state_len == 0
        };
        if !int_ok {
            return Err(Error::InvalidField(p));
        }
        Ok(h)
    }

    pub fn has_int(&self) -> bool {
        self.flags & FLAG_HAS_INT != 0
    }

    /// First byte after the layer table: where data regions may start.
    pub fn data_start(&self) -> usize {
        layer_table_offset(self.n_tensors) + usize::from(self.n_layers) * LAYER_ENTRY_LEN
    }
}

pub(crate) fn layer_table_offset(n_tensors: u16) -> usize {
    HEADER_LEN + usize::from(n_tensors) * TENSOR_ENTRY_LEN
}

pub(crate) fn len32(b: &[u8]) -> u32 {
    u32::try_from(b.len()).unwrap_or(u32::MAX)
}

/// A DiffQ-packed tensor: variable-bit levels, one bit width per group.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Packed<'a> {
    pub count: u32,
    pub layout: Layout,
    pub group_size: u16,
    pub bits_base: u8,
    /// Bits per entry of the bit-width table; 0 = every group has `bits_base` bits.
    pub bits_width: u8,
    pub min: f32,
    pub max: f32,
    pub bits_table: &'a [u8],
    pub data: &'a [u8],
}

impl Packed<'_> {
    pub fn n_groups(&self) -> usize {
        self.count as usize / usize::from(self.group_size.max(1))
    }

    /// Bit width of group `g` (0 if `g` is past the table, which validation rules out).
    #[inline]
    pub fn group_bits(&self, g: usize) -> u8 {
        if self.bits_width == 0 {
            return self.bits_base;
        }
        let w = usize::from(self.bits_width);
        let bit = g * w;
        let byte = self.bits_table.get(bit / 8).copied().unwrap_or(0);
        let e = (byte >> (bit % 8)) & ((1u16 << w) - 1) as u8;
        self.bits_base + e
    }

    /// Bit widths of the groups in order, decoded a table byte at a time (the kernels' walk).
    pub fn bits_iter(&self) -> GroupBits<'_> {
        GroupBits { table: self.bits_table, base: self.bits_base, width: self.bits_width, byte: 0, left: 0 }
    }

    /// The fixed bit width if every group shares it (the fast path).
    pub fn fixed_bits(&self) -> Option<u8> {
        (self.bits_width == 0).then_some(self.bits_base)
    }
}

/// Iterator over group bit widths; never ends (past the table it yields `bits_base`), the
/// kernels bound the walk by the packed data instead.
#[derive(Debug, Clone)]
pub struct GroupBits<'a> {
    table: &'a [u8],
    base: u8,
    width: u8,
    byte: u8,
    left: u8,
}

impl Iterator for GroupBits<'_> {
    type Item = u8;
    #[inline(always)]
    fn next(&mut self) -> Option<u8> {
        if self.width == 0 {
            return Some(self.base);
        }
        if self.left == 0 {
            let (first, rest) = self.table.split_first().unwrap_or((&0, &[]));
            self.byte = *first;
            self.table = rest;
            self.left = 8 / self.width;
        }
        let e = self.byte & ((1u8 << self.width) - 1);
        self.byte >>= self.width;
        self.left -= 1;
        Some(self.base + e)
    }
}

/// Values of one tensor, still in the blob's bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Weights<'a> {
    F32(&'a [u8]),
    F16(&'a [u8]),
    Packed(Packed<'a>),
    /// Little-endian i16 values `c`, each meaning `c as f32 · scale`: the f32 path's view of a
    /// v4 blob's integer bias constants (FORMAT.md). Never a tensor-table entry.
    ScaledI16 {
        data: &'a [u8],
        scale: f32,
    },
}

/// One decoded tensor-table entry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tensor<'a> {
    pub count: u32,
    pub weights: Weights<'a>,
}

impl Tensor<'_> {
    /// Bytes this tensor occupies in flash: table entry plus its data regions.
    pub fn stored_bytes(&self) -> usize {
        TENSOR_ENTRY_LEN
            + match self.weights {
                Weights::F32(d) | Weights::F16(d) => d.len(),
                Weights::ScaledI16 { data, .. } => data.len(),
                Weights::Packed(p) => p.bits_table.len() + p.data.len(),
            }
    }
}

/// Reads and fully validates tensor `i` (regions inside `[data_start, len)`, group byte sum).
pub fn read_tensor<'a>(b: &'a [u8], h: &Header, i: u16) -> Result<Tensor<'a>, Error> {
    decode_tensor(b, h, i, true)
}

/// Like [`read_tensor`] but, for variable-bit tensors, without the pass over every group that
/// proves the byte count: for the executor, on a blob `Model::parse` already validated. Every
/// field and region is still checked, and the kernels bound-check each group they read.
pub(crate) fn read_tensor_fast<'a>(b: &'a [u8], h: &Header, i: u16) -> Result<Tensor<'a>, Error> {
    decode_tensor(b, h, i, false)
}

fn decode_tensor<'a>(b: &'a [u8], h: &Header, i: u16, check_groups: bool) -> Result<Tensor<'a>, Error> {
    let p = Part::Tensor(i);
    if i >= h.n_tensors {
        return Err(Error::InvalidField(p));
    }
    let e = slice(b, HEADER_LEN + usize::from(i) * TENSOR_ENTRY_LEN, TENSOR_ENTRY_LEN, Part::TensorTable)?;
    let (kind, base, width) = (u8_at(e, 0, p)?, u8_at(e, 1, p)?, u8_at(e, 2, p)?);
    let group = u16_at(e, 4, p)?;
    let count = u32_at(e, 8, p)?;
    let (min, max) = (f32_at(e, 12, p)?, f32_at(e, 16, p)?);
    let (bits_off, data_off, data_len) = (u32_at(e, 20, p)?, u32_at(e, 24, p)?, u32_at(e, 28, p)?);
    let (layout_code, row_len) = (u8_at(e, 3, p)?, u16_at(e, 6, p)?);
    if kind != 3 && (layout_code != 0 || row_len != 0) || (h.version < 2 && layout_code != 0) {
        return Err(Error::Reserved(p));
    }
    if count == 0 {
        return Err(Error::InvalidField(p));
    }
    let region = |off: u32, len: usize| -> Result<&[u8], Error> {
        if (off as usize) < h.data_start() {
            return Err(Error::OutOfBounds(p));
        }
        slice(b, off as usize, len, p)
    };
    let data = region(data_off, data_len as usize)?;
    let plain = base == 0 && width == 0 && group == 0 && min == 0.0 && max == 0.0 && bits_off == 0;
    let weights = match kind {
        1 | 2 => {
            let elem = if kind == 1 { 4 } else { 2 };
            if !plain {
                return Err(Error::InvalidField(p));
            }
            if u64::from(data_len) != u64::from(count) * elem {
                return Err(Error::ShapeMismatch(p));
            }
            if kind == 1 {
                Weights::F32(data)
            } else {
                Weights::F16(data)
            }
        }
        3 => {
            let ok = (1..=MAX_BITS).contains(&base)
                && matches!(width, 0 | 1 | 2 | 4)
                && group >= 8
                && group % 8 == 0
                && group <= MAX_GROUP
                && min.is_finite()
                && max.is_finite()
                && max >= min
                && (width == 0) == (bits_off == 0);
            let layout = match (layout_code, row_len) {
                (0, 0) => Some(Layout::Rows),
                // Pairs: segments of `group/2` values, whole rows of whole groups.
                (1, len) if group >= 16 && group % 16 == 0 && len >= group && len % group == 0 => {
                    Some(Layout::RowPairs { row_len: len })
                }
                _ => None,
            };
            let Some(layout) = layout.filter(|_| ok) else {
                return Err(Error::InvalidField(p));
            };
            if let Layout::RowPairs { row_len } = layout {
                if count % u32::from(row_len) != 0 {
                    return Err(Error::ShapeMismatch(p));
                }
            }
            if count % u32::from(group) != 0 {
                return Err(Error::ShapeMismatch(p));
            }
            let n_groups = (count / u32::from(group)) as usize;
            let table_len = (n_groups * usize::from(width)).div_ceil(8);
            let bits_table = if width == 0 { &[][..] } else { region(bits_off, table_len)? };
            let pk = Packed {
                count,
                layout,
                group_size: group,
                bits_base: base,
                bits_width: width,
                min,
                max,
                bits_table,
                data,
            };
            if width == 0 {
                // Fixed bit width: the byte count in O(1) (the executor looks weights up on
                // every frame, so this check must not cost a pass over the groups).
                let need = n_groups as u64 * group_bytes(usize::from(group), base) as u64;
                if need != data.len() as u64 {
                    return Err(Error::ShapeMismatch(p));
                }
                return Ok(Tensor { count, weights: Weights::Packed(pk) });
            }
            if !check_groups {
                return Ok(Tensor { count, weights: Weights::Packed(pk) });
            }
            let mut total = 0usize;
            for g in 0..n_groups {
                let bits = pk.group_bits(g);
                if bits > MAX_BITS {
                    return Err(Error::InvalidField(p));
                }
                total += group_bytes(usize::from(group), bits);
                if total > data.len() {
                    // Stop early: a huge `count` must not make parsing slow.
                    return Err(Error::ShapeMismatch(p));
                }
            }
            if total != data.len() {
                return Err(Error::ShapeMismatch(p));
            }
            Weights::Packed(pk)
        }
        _ => return Err(Error::InvalidField(p)),
    };
    Ok(Tensor { count, weights })
}

/// Graph operations of format v1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Op {
    Conv1d,
    Linear,
    Relu,
    Sigmoid,
    Tanh,
}

impl Op {
    pub fn code(self) -> u8 {
        match self {
            Op::Conv1d => 1,
            Op::Linear => 2,
            Op::Relu => 3,
            Op::Sigmoid => 4,
            Op::Tanh => 5,
        }
    }

    pub fn has_weights(self) -> bool {
        matches!(self, Op::Conv1d | Op::Linear)
    }
}

/// One decoded layer-table entry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Layer {
    pub op: Op,
    pub in_len: u16,
    pub out_len: u16,
    pub weight: u16,
    pub bias: u16,
    pub kernel: u8,
    pub dilation: u16,
    pub out_scale: f32,
    pub int_offset: u32,
}

impl Layer {
    /// Frames of input history a streaming conv keeps (ring of `history + 1` frames).
    pub fn history(&self) -> usize {
        usize::from(self.kernel.saturating_sub(1)) * usize::from(self.dilation)
    }

    /// f32/i8 elements of streaming state this layer needs.
    pub fn state_len(&self) -> usize {
        if self.op == Op::Conv1d && self.kernel > 1 {
            (self.history() + 1) * usize::from(self.in_len)
        } else {
            0
        }
    }
}

/// Reads layer `i` and checks its fields in isolation.
pub fn read_layer(b: &[u8], h: &Header, i: u16) -> Result<Layer, Error> {
    let p = Part::Layer(i);
    if i >= h.n_layers {
        return Err(Error::InvalidField(p));
    }
    let e = slice(
        b,
        layer_table_offset(h.n_tensors) + usize::from(i) * LAYER_ENTRY_LEN,
        LAYER_ENTRY_LEN,
        Part::LayerTable,
    )?;
    let op = match u8_at(e, 0, p)? {
        1 => Op::Conv1d,
        2 => Op::Linear,
        3 => Op::Relu,
        4 => Op::Sigmoid,
        5 => Op::Tanh,
        _ => return Err(Error::InvalidField(p)),
    };
    if u8_at(e, 1, p)? != 0 || u8_at(e, 11, p)? != 0 {
        return Err(Error::Reserved(p));
    }
    let l = Layer {
        op,
        in_len: u16_at(e, 2, p)?,
        out_len: u16_at(e, 4, p)?,
        weight: u16_at(e, 6, p)?,
        bias: u16_at(e, 8, p)?,
        kernel: u8_at(e, 10, p)?,
        dilation: u16_at(e, 12, p)?,
        out_scale: f32_at(e, 16, p)?,
        int_offset: u32_at(e, 20, p)?,
    };
    let stride = u16_at(e, 14, p)?;
    let fields_ok = l.in_len > 0
        && l.out_len > 0
        && match op {
            Op::Conv1d => (1..=MAX_KERNEL as u8).contains(&l.kernel) && (1..=MAX_DILATION).contains(&l.dilation),
            Op::Linear => l.kernel == 1 && l.dilation == 1,
            _ => l.kernel == 0 && l.dilation == 0 && l.weight == NO_TENSOR && l.bias == NO_TENSOR && stride == 0,
        };
    if !fields_ok {
        return Err(Error::InvalidField(p));
    }
    if op.has_weights() && stride != 1 {
        return Err(Error::Unsupported(p));
    }
    let scale_ok = if h.has_int() {
        l.out_scale.is_finite() && l.out_scale > 0.0 && ((l.int_offset == 0) == (op == Op::Relu))
    } else {
        l.out_scale == 0.0 && l.int_offset == 0
    };
    // From v4, a blob with integer constants keeps the biases there only.
    if !scale_ok || (h.has_int() && h.version >= 4 && l.bias != NO_TENSOR) {
        return Err(Error::InvalidField(p));
    }
    Ok(l)
}

/// Bytes of the integer constants of a conv1d/linear layer with `out` outputs.
pub fn int_linear_len(version: u16, out: usize) -> usize {
    INT_LINEAR_FIXED + if version >= 3 { 2 } else { 8 } * out
}

/// Bytes of a layer's integer constants in a blob of format `version`.
pub fn int_block_len(l: &Layer, version: u16) -> usize {
    match l.op {
        Op::Conv1d | Op::Linear => int_linear_len(version, usize::from(l.out_len)),
        Op::Sigmoid | Op::Tanh => INT_LUT_LEN,
        Op::Relu => 0,
    }
}
