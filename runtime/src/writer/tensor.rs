//! A tensor as the writer holds it until the blob is laid out: its table entry (offsets not
//! yet set), its bit-width table and data bytes, and, for f32/f16, the values as the runtime
//! will read them (the integer path's bias constants are computed from those).

use super::{TensorId, WriteError};
use crate::format::{
    bits_table_len, bits_width_for, Kind, Layout, TensorEntry, Weights, LANE_BLOCK, MAX_GROUP, MAX_TENSORS,
};
use crate::layout::{pack_lane_blocks, LANE_RUN_BITS};
use crate::quant::{group_bytes, pack_levels, MAX_BITS};
use crate::Model;
use alloc::vec::Vec;
use std::format;

pub(super) struct Pending {
    pub entry: TensorEntry,
    pub table: Vec<u8>,
    pub data: Vec<u8>,
    /// f32/f16 only: the stored values, as the runtime reads them.
    pub values: Vec<f32>,
}

/// The tensors a writer holds, indexed by [`TensorId`].
#[derive(Default)]
pub(super) struct Store(pub Vec<Pending>);

impl Store {
    fn push(&mut self, t: Pending) -> Result<TensorId, WriteError> {
        if self.0.len() >= usize::from(MAX_TENSORS) {
            return Err(WriteError::Shape("too many tensors".into()));
        }
        self.0.push(t);
        Ok(TensorId((self.0.len() - 1) as u16))
    }

    /// Tensor `id`.
    pub fn get(&self, id: TensorId) -> Option<&Pending> {
        self.0.get(usize::from(id.0))
    }

    /// `values` stored as `kind` (f32, or f16 rounded to nearest).
    pub fn plain(&mut self, values: &[f32], kind: Kind) -> Result<TensorId, WriteError> {
        let t = plain(values, kind)?;
        self.push(t)
    }

    /// DiffQ levels in `layout` over `(min, max)` (a `RowPairs` tensor whose groups all share one
    /// width, and divide its rows, is stored in the row layout: same values, the fixed-bit fast
    /// path; lane pairs of 2 to 4 bits excepted, whose own kernel is faster).
    pub fn packed(
        &mut self,
        layout: Layout,
        levels: &[u16],
        group_bits: &[u8],
        group_size: usize,
        (min, max): (f32, f32),
    ) -> Result<TensorId, WriteError> {
        if let Layout::RowPairs { row_len, lanes } = layout {
            let (len, unit) = (usize::from(row_len), if lanes { 2 * LANE_BLOCK } else { 16 });
            if group_size % unit != 0
                || len == 0
                || len % layout.group_inputs(group_size) != 0
                || levels.len() % len != 0
            {
                return Err(WriteError::Shape(format!(
                    "{} layout needs group_size a multiple of {unit} whose half divides the row length {len}, and whole rows",
                    if lanes { "lane-pair" } else { "row-pair" }
                )));
            }
            // Row-major groups must not straddle rows: groups that are a whole row of each of
            // a pair stay row pairs. Lane pairs of 2 to 4 bits stay lane pairs: each row pair is
            // one run of assembly blocks on the Armv7E-M integer path, faster than the
            // fixed-width row kernel (kbench: 1.70 against 2.91 instructions per MAC at 3 bits).
            let lane_run = lanes && group_bits.first().is_some_and(|b| LANE_RUN_BITS.contains(b));
            if !lane_run && len % group_size == 0 && group_bits.windows(2).all(|w| w.first() == w.get(1)) {
                let pos = layout.storage_order(levels.len(), group_size);
                let rows: Vec<u16> = pos.iter().map(|&q| levels.get(q).copied().unwrap_or(0)).collect();
                return self.packed(Layout::Rows, &rows, group_bits, group_size, (min, max));
            }
        }
        let t = packed(layout, levels, group_bits, group_size, min, max)?;
        self.push(t)
    }

    /// Tensor `i` of a parsed blob as it is stored there: its entry (offsets are set at
    /// layout), bit-width table and data bytes, unchanged.
    pub fn stored(&mut self, m: &Model<'_>, i: u16) -> Result<TensorId, WriteError> {
        let entry = TensorEntry::read(m.bytes(), m.header(), i).map_err(WriteError::Source)?;
        let (table, data) = match m.tensor(i).map_err(WriteError::Source)?.weights {
            Weights::F32(d) | Weights::F16(d) => (&[][..], d),
            Weights::Packed(p) => (p.bits_table, p.data),
        };
        let values = match entry.kind {
            Kind::F32 => data.chunks_exact(4).filter_map(|c| c.try_into().ok()).map(f32::from_le_bytes).collect(),
            Kind::F16 => data
                .chunks_exact(2)
                .filter_map(|c| c.try_into().ok())
                .map(|b| half::f16::from_le_bytes(b).to_f32())
                .collect(),
            Kind::Packed => Vec::new(),
        };
        let entry = TensorEntry { bits_offset: 0, data_offset: 0, data_len: 0, ..entry };
        self.push(Pending { entry, table: table.to_vec(), data: data.to_vec(), values })
    }
}

fn count32(n: usize) -> Result<u32, WriteError> {
    u32::try_from(n).map_err(|_| WriteError::Shape(format!("tensor of {n} values is too large")))
}

/// `values` stored as `kind` (f32, or f16 rounded to nearest).
fn plain(values: &[f32], kind: Kind) -> Result<Pending, WriteError> {
    if values.is_empty() {
        return Err(WriteError::Shape("empty tensor".into()));
    }
    if let Some(v) = values.iter().find(|v| !v.is_finite()) {
        return Err(WriteError::Value(format!("non-finite value {v}")));
    }
    let entry = TensorEntry::plain(kind, count32(values.len())?);
    let (data, values): (Vec<u8>, Vec<f32>) = if kind == Kind::F16 {
        let h: Vec<half::f16> = values.iter().map(|&v| half::f16::from_f32(v)).collect();
        (h.iter().flat_map(|v| v.to_le_bytes()).collect(), h.iter().map(|v| v.to_f32()).collect())
    } else {
        (values.iter().flat_map(|v| v.to_le_bytes()).collect(), values.to_vec())
    };
    Ok(Pending { entry, table: Vec::new(), data, values })
}

/// Checks a packed tensor's arguments: group size, level count, range, widths.
fn check_packed(levels: &[u16], group_bits: &[u8], group_size: usize, min: f32, max: f32) -> Result<(), WriteError> {
    if group_size < 8 || group_size % 8 != 0 || group_size > usize::from(MAX_GROUP) {
        return Err(WriteError::Shape(format!("group_size {group_size} must be a multiple of 8 in 8..=4096")));
    }
    if levels.is_empty() || levels.len() != group_bits.len() * group_size {
        return Err(WriteError::Shape(format!(
            "{} levels do not make {} groups of {group_size}",
            levels.len(),
            group_bits.len()
        )));
    }
    if !(min.is_finite() && max.is_finite() && max >= min) {
        return Err(WriteError::Value(format!("range [{min}, {max}] is not finite and ordered")));
    }
    let lo = group_bits.iter().copied().min().unwrap_or(1);
    let hi = group_bits.iter().copied().max().unwrap_or(1);
    if lo < 1 || hi > MAX_BITS {
        return Err(WriteError::Value(format!("bit widths must be in 1..={MAX_BITS}, got {lo}..={hi}")));
    }
    Ok(())
}

/// DiffQ levels in storage order, `group_bits[g]` the width of storage group `g`.
fn packed(
    layout: Layout,
    levels: &[u16],
    group_bits: &[u8],
    group_size: usize,
    min: f32,
    max: f32,
) -> Result<Pending, WriteError> {
    check_packed(levels, group_bits, group_size, min, max)?;
    let base = group_bits.iter().copied().min().unwrap_or(1);
    let width = bits_width_for(group_bits);
    let mut table = alloc::vec![0u8; bits_table_len(group_bits.len(), width)];
    if width > 0 {
        let entries: Vec<u16> = group_bits.iter().map(|&b| u16::from(b - base)).collect();
        pack_levels(&entries, width, &mut table).ok_or_else(|| WriteError::Value("bit-width table".into()))?;
    }
    let mut data = Vec::new();
    let lane_groups = lane_pair_groups(layout, levels.len(), group_size);
    for (g, (chunk, &b)) in levels.chunks_exact(group_size).zip(group_bits).enumerate() {
        let mut buf = alloc::vec![0u8; group_bytes(group_size, b)];
        let fits = if g < lane_groups { pack_lane_blocks(chunk, b, &mut buf) } else { pack_levels(chunk, b, &mut buf) };
        fits.ok_or_else(|| WriteError::Value(format!("a level of group {g} does not fit in {b} bits")))?;
        data.extend_from_slice(&buf);
    }
    let entry = TensorEntry {
        kind: Kind::Packed,
        bits_base: base,
        bits_width: width,
        layout,
        group_size: group_size as u16,
        min,
        max,
        ..TensorEntry::plain(Kind::Packed, count32(levels.len())?)
    };
    Ok(Pending { entry, table, data, values: Vec::new() })
}

/// How many leading groups of a tensor are stored as lane-pair blocks: every pair group of a
/// lane-pair tensor (a lone last row keeps the LSB-first stream); 0 in the other layouts.
pub(super) fn lane_pair_groups(layout: Layout, count: usize, group_size: usize) -> usize {
    match layout {
        Layout::RowPairs { row_len, lanes: true } => {
            let len = usize::from(row_len).max(1);
            (count / len / 2) * 2 * len / group_size.max(1)
        }
        _ => 0,
    }
}
