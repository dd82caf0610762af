//! Lays a blob out from its entries and regions: header, tensor table, layer table, then each
//! tensor's bit-width table and data in tensor order, then each layer's integer constants in
//! layer order. The one place offsets are assigned.

use super::WriteError;
use crate::format::{checksum, Header, Layer, TensorEntry, HEADER_LEN};
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

fn u32_of(v: usize, what: &str) -> Result<u32, WriteError> {
    u32::try_from(v).map_err(|_| WriteError::Shape(format!("{what} = {v} exceeds 4 GiB")))
}

fn u16_of(v: usize, what: &str) -> Result<u16, WriteError> {
    u16::try_from(v).map_err(|_| WriteError::Shape(format!("{what} = {v} exceeds 65535")))
}

/// The blob of `header` (its counts, `total_len` and CRC are set here) with these tensors and
/// layers, validated by [`Model::parse`] before it is returned.
pub fn assemble(
    mut header: Header,
    tensors: &[TensorPart<'_>],
    layers: &[LayerPart<'_>],
) -> Result<Vec<u8>, WriteError> {
    header.n_tensors = u16_of(tensors.len(), "tensors")?;
    header.n_layers = u16_of(layers.len(), "layers")?;
    let start = header.data_start();
    let mut data: Vec<u8> = Vec::new();
    let mut tables: Vec<u8> = Vec::with_capacity(start - HEADER_LEN);
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
    for l in layers {
        let layer = Layer { int_offset: region(l.int_block)?, ..l.layer };
        tables.extend_from_slice(&layer.encode());
    }
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
