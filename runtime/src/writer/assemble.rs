//! Lays a blob out from its entries and regions: header, (version 5: front-end record), tensor
//! table, layer or node table, (version 5: operand list), then each tensor's bit-width table
//! and data in tensor order, then each layer's or node's integer constants in order. The one
//! place offsets are assigned.

use super::WriteError;
use crate::format::{checksum, FrontEnd, Header, Layer, Node, TensorEntry, HEADER_LEN};
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
    let mut data: Vec<u8> = Vec::new();
    let mut tables: Vec<u8> = Vec::with_capacity(start - HEADER_LEN);
    tables.extend_from_slice(front);
    // Appends a region, returning its offset (0 for an empty one).
    let mut region = |bytes: &[u8]| -> Result<u32, WriteError> {
        let off = if bytes.is_empty() { 0 } else { u32_of(start + data.len(), "offset")? };
        data.extend_from_slice(bytes);
        Ok(off)
    };
    for t in tensors {
        let mut e = t.entry;
        e.bits_offset = region(t.bits_table)?;
        e.data_offset = region(t.data)?;
        e.data_len = u32_of(t.data.len(), "data_len")?;
        tables.extend_from_slice(&e.encode());
    }
    for (k, block) in blocks.iter().enumerate() {
        let bytes = entry(k, region(block)?).ok_or_else(|| WriteError::Shape("entry".into()))?;
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
