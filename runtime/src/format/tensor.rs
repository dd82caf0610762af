//! One tensor-table entry (FORMAT.md, "Tensor table entry"): [`TensorEntry::read`] decodes and
//! checks the 32 bytes on their own, [`TensorEntry::encode`] writes them, through the same
//! field offsets. Whether its regions lie in the blob is [`super::Tensor::read`]'s business.

use super::header::{Header, TENSOR_ENTRY_LEN};
use super::packed::{bits_table_len, MAX_GROUP};
use super::version::ROW_PAIRS_VERSION;
use crate::bytes::{entry, f32_at, put, u16_at, u32_at, u8_at};
use crate::error::{Error, Part};
use crate::layout::{Layout, LANE_BLOCK};
use crate::quant::MAX_BITS;

// Field offsets.
const KIND_AT: usize = 0;
const BITS_BASE_AT: usize = 1;
const BITS_WIDTH_AT: usize = 2;
const LAYOUT_AT: usize = 3;
const GROUP_SIZE_AT: usize = 4;
const ROW_LEN_AT: usize = 6;
const COUNT_AT: usize = 8;
const MIN_AT: usize = 12;
const MAX_AT: usize = 16;
const BITS_OFFSET_AT: usize = 20;
const DATA_OFFSET_AT: usize = 24;
const DATA_LEN_AT: usize = 28;

/// Layout codes of a packed tensor.
const LAYOUT_ROWS: u8 = 0;
const LAYOUT_ROW_PAIRS: u8 = 1;
const LAYOUT_LANE_PAIRS: u8 = 2;

/// How a tensor's values are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Kind {
    /// f32 values (code 1).
    F32,
    /// f16 values (code 2).
    F16,
    /// DiffQ levels, one bit width per group.
    Packed,
}

impl Kind {
    /// The kind's byte in a tensor entry.
    pub fn code(self) -> u8 {
        match self {
            Kind::F32 => 1,
            Kind::F16 => 2,
            Kind::Packed => 3,
        }
    }

    fn from_code(c: u8) -> Option<Kind> {
        match c {
            1 => Some(Kind::F32),
            2 => Some(Kind::F16),
            3 => Some(Kind::Packed),
            _ => None,
        }
    }

    /// Bytes per stored value of an unquantised kind (0 for packed).
    pub fn value_bytes(self) -> usize {
        match self {
            Kind::F32 => 4,
            Kind::F16 => 2,
            Kind::Packed => 0,
        }
    }
}

/// One decoded tensor-table entry: every field of the 32 bytes. Fields a kind does not use are 0
/// (`layout` is `Rows`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TensorEntry {
    /// How the values are stored.
    pub kind: Kind,
    /// Packed: the smallest bit width, 1..=15.
    pub bits_base: u8,
    /// Packed: bits per entry of the bit-width table (0, 1, 2 or 4).
    pub bits_width: u8,
    /// Packed: storage order of the values.
    pub layout: Layout,
    /// Packed: values per group.
    pub group_size: u16,
    /// Number of values, ≥ 1.
    pub count: u32,
    /// Packed: the value of level 0.
    pub min: f32,
    /// Packed: the value of the top level.
    pub max: f32,
    /// Packed with `bits_width > 0`: where the bit-width table starts.
    pub bits_offset: u32,
    /// Where the values or packed levels start.
    pub data_offset: u32,
    /// Bytes of the values or packed levels.
    pub data_len: u32,
}

impl TensorEntry {
    /// An f32 or f16 tensor of `count` values (offsets and length set when the blob is laid out).
    pub fn plain(kind: Kind, count: u32) -> TensorEntry {
        TensorEntry {
            kind,
            bits_base: 0,
            bits_width: 0,
            layout: Layout::Rows,
            group_size: 0,
            count,
            min: 0.0,
            max: 0.0,
            bits_offset: 0,
            data_offset: 0,
            data_len: 0,
        }
    }

    /// Reads entry `i` of the tensor table and checks its fields in isolation.
    pub fn read(b: &[u8], h: &Header, i: u16) -> Result<TensorEntry, Error> {
        let p = Part::Tensor(i);
        if i >= h.n_tensors {
            return Err(Error::InvalidField(p));
        }
        let e: &[u8; TENSOR_ENTRY_LEN] = entry(b, h.tensor_entry_offset(i), Part::TensorTable)?;
        let kind_code = u8_at(e, KIND_AT, p)?;
        let (layout_code, row_len) = (u8_at(e, LAYOUT_AT, p)?, u16_at(e, ROW_LEN_AT, p)?);
        if kind_code != Kind::Packed.code() && (layout_code != 0 || row_len != 0) {
            return Err(Error::Reserved(p));
        }
        if h.version < ROW_PAIRS_VERSION && layout_code != LAYOUT_ROWS {
            return Err(Error::VersionMismatch { version: h.version, part: p });
        }
        let (count, group_size) = (u32_at(e, COUNT_AT, p)?, u16_at(e, GROUP_SIZE_AT, p)?);
        let (kind, layout) = (Kind::from_code(kind_code), layout_of(layout_code, row_len, group_size));
        let (Some(kind), Some(layout), true) = (kind, layout, count > 0) else {
            return Err(Error::InvalidField(p));
        };
        let t = TensorEntry {
            kind,
            bits_base: u8_at(e, BITS_BASE_AT, p)?,
            bits_width: u8_at(e, BITS_WIDTH_AT, p)?,
            layout,
            group_size,
            count,
            min: f32_at(e, MIN_AT, p)?,
            max: f32_at(e, MAX_AT, p)?,
            bits_offset: u32_at(e, BITS_OFFSET_AT, p)?,
            data_offset: u32_at(e, DATA_OFFSET_AT, p)?,
            data_len: u32_at(e, DATA_LEN_AT, p)?,
        };
        let fields_ok = if kind == Kind::Packed { t.packed_fields_ok() } else { t.is_plain() };
        if !fields_ok {
            return Err(Error::InvalidField(p));
        }
        t.check_counts(p)?;
        Ok(t)
    }

    /// The 32 bytes of this entry.
    pub fn encode(&self) -> [u8; TENSOR_ENTRY_LEN] {
        let (layout_code, row_len) = match self.layout {
            Layout::Rows => (LAYOUT_ROWS, 0u16),
            Layout::RowPairs { row_len, lanes: false } => (LAYOUT_ROW_PAIRS, row_len),
            Layout::RowPairs { row_len, lanes: true } => (LAYOUT_LANE_PAIRS, row_len),
        };
        let mut b = [0u8; TENSOR_ENTRY_LEN];
        put(&mut b, KIND_AT, [self.kind.code()]);
        put(&mut b, BITS_BASE_AT, [self.bits_base]);
        put(&mut b, BITS_WIDTH_AT, [self.bits_width]);
        put(&mut b, LAYOUT_AT, [layout_code]);
        put(&mut b, GROUP_SIZE_AT, self.group_size.to_le_bytes());
        put(&mut b, ROW_LEN_AT, row_len.to_le_bytes());
        put(&mut b, COUNT_AT, self.count.to_le_bytes());
        put(&mut b, MIN_AT, self.min.to_le_bytes());
        put(&mut b, MAX_AT, self.max.to_le_bytes());
        put(&mut b, BITS_OFFSET_AT, self.bits_offset.to_le_bytes());
        put(&mut b, DATA_OFFSET_AT, self.data_offset.to_le_bytes());
        put(&mut b, DATA_LEN_AT, self.data_len.to_le_bytes());
        b
    }

    /// Number of groups of a packed tensor (0 otherwise).
    pub fn n_groups(&self) -> usize {
        self.count as usize / usize::from(self.group_size.max(1))
    }

    /// Bytes of the bit-width table (0 without one).
    pub fn bits_table_len(&self) -> usize {
        bits_table_len(self.n_groups(), self.bits_width)
    }

    fn is_plain(&self) -> bool {
        let t = self;
        t.bits_base == 0 && t.bits_width == 0 && t.group_size == 0 && t.min == 0.0 && t.max == 0.0 && t.bits_offset == 0
    }

    fn packed_fields_ok(&self) -> bool {
        let (g, w) = (self.group_size, self.bits_width);
        (1..=MAX_BITS).contains(&self.bits_base)
            && matches!(w, 0 | 1 | 2 | 4)
            && g >= 8
            && g % 8 == 0
            && g <= MAX_GROUP
            && self.min.is_finite()
            && self.max.is_finite()
            && self.max >= self.min
            && (w == 0) == (self.bits_offset == 0)
    }

    /// `count` against the data length (plain kinds), the row length and the group size.
    fn check_counts(&self, p: Part) -> Result<(), Error> {
        if self.kind != Kind::Packed {
            let need = u64::from(self.count) * self.kind.value_bytes() as u64;
            return if u64::from(self.data_len) == need { Ok(()) } else { Err(Error::ShapeMismatch(p)) };
        }
        if let Layout::RowPairs { row_len, .. } = self.layout {
            if self.count.checked_rem(u32::from(row_len)) != Some(0) {
                return Err(Error::ShapeMismatch(p));
            }
        }
        if self.count.checked_rem(u32::from(self.group_size)) != Some(0) {
            return Err(Error::ShapeMismatch(p));
        }
        Ok(())
    }
}

/// The layout a packed entry's code and row length name: pairs need segments of `group/2`
/// values (a multiple of 8; lane pairs: of a lane-pair block, 32) and rows of whole segments.
fn layout_of(code: u8, row_len: u16, group: u16) -> Option<Layout> {
    let pairs = |unit: u16| group >= unit && group % unit == 0 && row_len > 0 && row_len % (group / 2) == 0;
    match code {
        LAYOUT_ROWS if row_len == 0 => Some(Layout::Rows),
        LAYOUT_ROW_PAIRS if pairs(16) => Some(Layout::RowPairs { row_len, lanes: false }),
        LAYOUT_LANE_PAIRS if pairs(2 * LANE_BLOCK as u16) => Some(Layout::RowPairs { row_len, lanes: true }),
        _ => None,
    }
}
