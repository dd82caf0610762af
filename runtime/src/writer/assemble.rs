//! Lays a blob out from its entries and regions: header, (version 5: front-end record), tensor
//! table, layer or node table, (version 5: operand list), then each tensor's bit-width table
//! and data in tensor order, then each layer's or node's integer constants in order (a blob with
//! lane-pair tensors puts their levels, and the row-pair levels whose groups are whole words, on
//! 4-byte offsets first: [`region_order`]). The one place offsets are assigned.

use super::WriteError;
use crate::format::{checksum, FrontEnd, Header, Layer, Node, TensorEntry, HEADER_LEN};
use crate::layout::Layout;
use crate::Model;
use alloc::vec::Vec;
use std::format;

/// A tensor to lay out: its entry (offsets and `data_len` are set here) and its regions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TensorPart<'a> {
    /// The tensor-table entry.
    pub entry: TensorEntry,
    /// The bit-width table (empty without one).
    pub bits_table: &'a [u8],
    /// The values or packed levels.
    pub data: &'a [u8],
}

/// A layer to lay out: its entry (`int_offset` is set here) and its integer constants (empty
/// for a ReLU or a blob without them).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LayerPart<'a> {
    /// The layer-table entry.
    pub layer: Layer,
    /// The encoded integer constants.
    pub int_block: &'a [u8],
}

/// A node to lay out (version 5): its entry (`int_offset` is set here) and its integer
/// constants (empty for ops without them or a blob without them).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NodePart<'a> {
    /// The node-table entry.
    pub node: Node,
    /// The encoded integer constants.
    pub int_block: &'a [u8],
}

fn u32_of(v: usize, what: &str) -> Result<u32, WriteError> {
    u32::try_from(v).map_err(|_| WriteError::Shape(format!("{what} = {v} exceeds 4 GiB")))
}

fn u16_of(v: usize, what: &str) -> Result<u16, WriteError> {
    u16::try_from(v).map_err(|_| WriteError::Shape(format!("{what} = {v} exceeds 65535")))
}

/// The version 1–4 blob of `header` (its counts, `total_len` and CRC are set here) with these
/// tensors and layers, validated by [`Model::parse`] before it is returned.
pub fn assemble(header: Header, tensors: &[TensorPart<'_>], layers: &[LayerPart<'_>]) -> Result<Vec<u8>, WriteError> {
    let blocks: Vec<&[u8]> = layers.iter().map(|l| l.int_block).collect();
    let entry = |k: usize, int_offset: u32| layers.get(k).map(|l| Layer { int_offset, ..l.layer }.encode().to_vec());
    lay_out(header, &[], tensors, (&blocks, &entry), &[])
}

/// The version 5 blob of `header` with this front end, these tensors, nodes and operand list
/// (value ids), validated by [`Model::parse`] before it is returned.
pub fn assemble_graph(
    mut header: Header,
    front_end: &FrontEnd,
    tensors: &[TensorPart<'_>],
    nodes: &[NodePart<'_>],
    operands: &[u16],
) -> Result<Vec<u8>, WriteError> {
    header.n_operands = u16_of(operands.len(), "operands")?;
    let blocks: Vec<&[u8]> = nodes.iter().map(|n| n.int_block).collect();
    let entry = |k: usize, int_offset: u32| nodes.get(k).map(|n| Node { int_offset, ..n.node }.encode().to_vec());
    let ops: Vec<u8> = operands.iter().flat_map(|v| v.to_le_bytes()).collect();
    lay_out(header, &front_end.encode(), tensors, (&blocks, &entry), &ops)
}

/// The entries of the layer or node table: each one's integer constants, and its bytes given
/// where they were put.
type Entries<'e> = (&'e [&'e [u8]], &'e dyn Fn(usize, u32) -> Option<Vec<u8>>);

fn lay_out(
    mut header: Header,
    front: &[u8],
    tensors: &[TensorPart<'_>],
    (blocks, entry): Entries<'_>,
    operands: &[u8],
) -> Result<Vec<u8>, WriteError> {
    header.n_tensors = u16_of(tensors.len(), "tensors")?;
    header.n_nodes = u16_of(blocks.len(), "nodes")?;
    let start = header.data_start();
    // Every region in table order: each tensor's bit-width table and data, then the constants.
    let regions: Vec<&[u8]> =
        tensors.iter().flat_map(|t| [t.bits_table, t.data]).chain(blocks.iter().copied()).collect();
    let align: Vec<Align> = tensors
        .iter()
        .flat_map(|t| [Align::Any, Align::of(&t.entry)])
        .chain(blocks.iter().map(|_| Align::Any))
        .collect();
    let mut data: Vec<u8> = Vec::new();
    let offsets = append_regions(&mut data, start, &regions, &align)?;
    let offset = |i: usize| offsets.get(i).copied().unwrap_or(0);
    let mut tables: Vec<u8> = Vec::with_capacity(start - HEADER_LEN);
    tables.extend_from_slice(front);
    for (i, t) in tensors.iter().enumerate() {
        let mut e = t.entry;
        (e.bits_offset, e.data_offset) = (offset(2 * i), offset(2 * i + 1));
        e.data_len = u32_of(t.data.len(), "data_len")?;
        tables.extend_from_slice(&e.encode());
    }
    for k in 0..blocks.len() {
        let bytes = entry(k, offset(2 * tensors.len() + k)).ok_or_else(|| WriteError::Shape("entry".into()))?;
        tables.extend_from_slice(&bytes);
    }
    tables.extend_from_slice(operands);
    header.total_len = u32_of(start + data.len(), "total_len")?;
    header.crc32 = 0;
    let mut out = Vec::with_capacity(start + data.len());
    out.extend_from_slice(&header.encode());
    out.extend_from_slice(&tables);
    out.extend_from_slice(&data);
    header.crc32 = checksum(&out);
    if let Some(h) = out.get_mut(..HEADER_LEN) {
        h.copy_from_slice(&header.encode());
    }
    Model::parse(&out).map_err(WriteError::SelfCheck)?;
    Ok(out)
}

/// `blob` (a valid blob) with its data regions re-laid in [`region_order`]: the same tables but
/// for the offsets, the same regions, the CRC recomputed; validated by [`Model::parse`].
pub(super) fn relay_regions(blob: &[u8]) -> Result<Vec<u8>, WriteError> {
    let m = Model::parse(blob).map_err(WriteError::Source)?;
    let h = *m.header();
    let at = |off: u32, len: usize| blob.get(off as usize..off as usize + len).unwrap_or_default();
    // Each tensor's bit-width table and data, then each node's constants, as `lay_out` has them.
    let (mut regions, mut align) = (Vec::new(), Vec::new());
    let mut entries = Vec::new();
    for i in 0..m.n_tensors() {
        let e = TensorEntry::read(blob, &h, i).map_err(WriteError::Source)?;
        regions.extend([at(e.bits_offset, e.bits_table_len()), at(e.data_offset, e.data_len as usize)]);
        align.extend([Align::Any, Align::of(&e)]);
        entries.push(e);
    }
    for i in 0..h.n_nodes {
        regions.push(m.int_block(i).map_err(WriteError::Source)?);
        align.push(Align::Any);
    }
    let start = h.data_start();
    let mut out = blob.get(..start).unwrap_or_default().to_vec();
    let offsets = append_regions(&mut out, 0, &regions, &align)?;
    let offset = |i: usize| offsets.get(i).copied().unwrap_or(0);
    for (i, e) in (0u16..).zip(entries) {
        let k = 2 * usize::from(i);
        let e = TensorEntry { bits_offset: offset(k), data_offset: offset(k + 1), ..e };
        put(&mut out, h.tensor_entry_offset(i), &e.encode());
    }
    for i in 0..h.n_nodes {
        let int_offset = offset(2 * usize::from(m.n_tensors()) + usize::from(i));
        let at = h.node_entry_offset(i);
        if h.is_graph() {
            let n = Node::read(blob, &h, i).map_err(WriteError::Source)?;
            put(&mut out, at, &Node { int_offset, ..n }.encode());
        } else {
            let l = Layer::read(blob, &h, i).map_err(WriteError::Source)?;
            put(&mut out, at, &Layer { int_offset, ..l }.encode());
        }
    }
    let mut header = h;
    header.crc32 = 0;
    put(&mut out, 0, &header.encode());
    header.crc32 = checksum(&out);
    put(&mut out, 0, &header.encode());
    Model::parse(&out).map_err(WriteError::SelfCheck)?;
    Ok(out)
}

/// `bytes` written over `out` at `at` (the caller's offsets lie inside `out`).
fn put(out: &mut [u8], at: usize, bytes: &[u8]) {
    if let Some(d) = out.get_mut(at..at + bytes.len()) {
        d.copy_from_slice(bytes);
    }
}

/// Appends `regions` to `out` (whose first byte is at blob offset `at`) in [`region_order`];
/// returns each one's blob offset (0 for an empty one).
fn append_regions(out: &mut Vec<u8>, at: usize, regions: &[&[u8]], align: &[Align]) -> Result<Vec<u32>, WriteError> {
    let mut offsets = alloc::vec![0u32; regions.len()];
    for i in region_order(at + out.len(), regions, align) {
        let bytes = regions.get(i).copied().unwrap_or_default();
        if let (false, Some(off)) = (bytes.is_empty(), offsets.get_mut(i)) {
            *off = u32_of(at + out.len(), "offset")?;
        }
        out.extend_from_slice(bytes);
    }
    Ok(offsets)
}

/// Where a data region would lie: anywhere, or on a 4-byte offset, as lane-pair levels (`Lanes`:
/// a blob with them is laid out for word loads) or as row-pair levels whose groups are whole
/// words (`Words`: groups of a multiple of 32 levels, which the integer path's product-pair runs
/// read a word at a time; placed so only in a blob laid out for lane pairs).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Align {
    Any,
    Lanes,
    Words,
}

impl Align {
    /// How `e`'s data region would lie.
    fn of(e: &TensorEntry) -> Self {
        match e.layout {
            Layout::RowPairs { lanes: true, .. } => Align::Lanes,
            Layout::RowPairs { lanes: false, .. } if e.group_size % 32 == 0 => Align::Words,
            _ => Align::Any,
        }
    }
}

/// The order the data regions are laid out in, from `start`: table order, except that a blob with
/// lane-pair tensors (`align`: which regions are their levels, and which row-pair levels are whole
/// words) puts those levels on 4-byte offsets where some of the other regions can bring the offset
/// there first (those regions, then the levels, then the rest, each part in table order), so that
/// a core without unaligned loads reads them a word at a time from a 4-byte-aligned blob.
fn region_order(start: usize, regions: &[&[u8]], align: &[Align]) -> Vec<usize> {
    let table: Vec<usize> = (0..regions.len()).collect();
    let of = |i: usize| align.get(i).copied().unwrap_or(Align::Any);
    if !(0..regions.len()).any(|i| of(i) == Align::Lanes) {
        return table;
    }
    let is_levels = |i: usize| of(i) != Align::Any;
    // A subset of the other regions for each residue mod 4 of their bytes (the first found, in
    // table order); the one that brings `start` to a multiple of 4 goes first.
    let mut reach: [Option<Vec<usize>>; 4] = [Some(Vec::new()), None, None, None];
    for i in (0..regions.len()).filter(|&i| !is_levels(i)) {
        let (len, before) = (regions.get(i).map_or(0, |r| r.len()), reach.clone());
        for r in 0..4 {
            let (from, to) = (before.get(r).cloned().flatten(), (r + len) % 4);
            if let (Some(set), Some(slot @ None)) = (from, reach.get_mut(to)) {
                *slot = Some([set, alloc::vec![i]].concat());
            }
        }
    }
    let Some(first) = reach.get((4 - start % 4) % 4).cloned().flatten() else { return table };
    // The levels whole words long first (a lane-pair tensor with an odd last row has a
    // row-major tail).
    let mut levels: Vec<usize> = table.iter().copied().filter(|&i| is_levels(i)).collect();
    levels.sort_by_key(|&i| regions.get(i).is_some_and(|r| r.len() % 4 != 0));
    let rest = table.iter().copied().filter(|i| !is_levels(*i) && !first.contains(i));
    first.iter().copied().chain(levels).chain(rest).collect()
}

#[cfg(test)]
mod tests {
    use super::{region_order, Align};

    #[test]
    fn lane_pair_levels_go_to_a_word_offset_when_other_regions_can_bring_them_there() {
        let (a, b, c, lane) = ([0u8; 5].as_slice(), [0u8; 6].as_slice(), [0u8; 8].as_slice(), [0u8; 16].as_slice());
        let (n, l, w) = (Align::Any, Align::Lanes, Align::Words);
        // From offset 81 (≡ 1): 5 + 6 bytes bring it to 92; the levels, then the rest.
        assert_eq!(region_order(81, &[a, lane, b, c], &[n, l, n, n]), [0, 2, 1, 3]);
        // From 84: nothing before the levels.
        assert_eq!(region_order(84, &[a, lane, b, c], &[n, l, n, n]), [1, 0, 2, 3]);
        // From 82 with only whole words beside them: no subset does it, table order.
        assert_eq!(region_order(82, &[c, lane, c], &[n, l, n]), [0, 1, 2]);
        // No lane pairs: table order.
        assert_eq!(region_order(81, &[a, b, c], &[n; 3]), [0, 1, 2]);
        // Row-pair levels of whole-word groups follow the lane-pair levels, on word offsets too,
        // but only in a blob with lane pairs.
        assert_eq!(region_order(81, &[a, c, lane, b], &[n, w, l, n]), [0, 3, 1, 2]);
        assert_eq!(region_order(81, &[a, c, b], &[n, w, n]), [0, 1, 2]);
    }
}
