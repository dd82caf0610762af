//! A tensor's values in place: [`Tensor::read`] resolves a [`TensorEntry`]'s regions in the
//! blob into [`Weights`]; a layer's bias as the f32 path adds it is a [`Bias`].

use super::header::{Header, TENSOR_ENTRY_LEN};
use super::packed::Packed;
use super::tensor::{Kind, TensorEntry};
use crate::bytes::slice;
use crate::error::{Error, Part};
use crate::quant::{group_bytes, MAX_BITS};

/// Values of one tensor, still in the blob's bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Weights<'a> {
    /// Little-endian f32 values.
    F32(&'a [u8]),
    /// Little-endian f16 values.
    F16(&'a [u8]),
    /// DiffQ levels, read in place.
    Packed(Packed<'a>),
}

impl Weights<'_> {
    /// Number of values (whole values only, for plain tensors).
    pub fn count(&self) -> usize {
        match self {
            Weights::F32(d) => d.len() / 4,
            Weights::F16(d) => d.len() / 2,
            Weights::Packed(p) => p.count as usize,
        }
    }
}

/// The bias of a conv1d/linear layer as the f32 path adds it (`Model::bias`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bias<'a> {
    /// A bias tensor of little-endian f32 values.
    F32(&'a [u8]),
    /// A bias tensor of little-endian f16 values.
    F16(&'a [u8]),
    /// Little-endian i16 values `c`, each meaning `c as f32 · scale`: a v4 blob's integer bias
    /// constants (FORMAT.md, "Biases in version 4").
    ScaledI16 {
        /// The little-endian i16 values.
        data: &'a [u8],
        /// What one unit of a value is worth.
        scale: f32,
    },
}

impl<'a> Bias<'a> {
    /// The bias stored as a tensor (`None` for packed weights, which are never a bias).
    pub fn from_weights(w: Weights<'a>) -> Option<Bias<'a>> {
        match w {
            Weights::F32(d) => Some(Bias::F32(d)),
            Weights::F16(d) => Some(Bias::F16(d)),
            Weights::Packed(_) => None,
        }
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            Bias::F32(d) => d.len() / 4,
            Bias::F16(d) => d.len() / 2,
            Bias::ScaledI16 { data, .. } => data.len() / 2,
        }
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One tensor-table entry with its regions resolved.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tensor<'a> {
    /// Number of values.
    pub count: u32,
    /// The values, in place.
    pub weights: Weights<'a>,
}

impl<'a> Tensor<'a> {
    /// Reads and fully validates tensor `i` (regions inside `[data_start, len)`, group byte sum).
    pub fn read(b: &'a [u8], h: &Header, i: u16) -> Result<Tensor<'a>, Error> {
        Self::decode(b, h, i, true)
    }

    /// Like [`Tensor::read`] but, for variable-bit tensors, without the pass over every group
    /// that proves the byte count: for the executor, on a blob `Model::parse` already validated.
    /// Every field and region is still checked, and the kernels bound-check each group they read.
    pub(crate) fn read_unchecked_groups(b: &'a [u8], h: &Header, i: u16) -> Result<Tensor<'a>, Error> {
        Self::decode(b, h, i, false)
    }

    fn decode(b: &'a [u8], h: &Header, i: u16, check_groups: bool) -> Result<Tensor<'a>, Error> {
        let p = Part::Tensor(i);
        let e = TensorEntry::read(b, h, i)?;
        let region = |off: u32, len: usize| -> Result<&'a [u8], Error> {
            if (off as usize) < h.data_start() {
                return Err(Error::OutOfBounds(p));
            }
            slice(b, off as usize, len, p)
        };
        let data = region(e.data_offset, e.data_len as usize)?;
        let weights = match e.kind {
            Kind::F32 => Weights::F32(data),
            Kind::F16 => Weights::F16(data),
            Kind::Packed => {
                let bits_table = if e.bits_width == 0 { &[][..] } else { region(e.bits_offset, e.bits_table_len())? };
                let pk = Packed {
                    count: e.count,
                    layout: e.layout,
                    group_size: e.group_size,
                    bits_base: e.bits_base,
                    bits_width: e.bits_width,
                    min: e.min,
                    max: e.max,
                    bits_table,
                    data,
                };
                check_data_len(&pk, check_groups, p)?;
                Weights::Packed(pk)
            }
        };
        Ok(Tensor { count: e.count, weights })
    }

    /// Bytes this tensor occupies in flash: table entry plus its data regions.
    pub fn stored_bytes(&self) -> usize {
        TENSOR_ENTRY_LEN + self.region_bytes()
    }

    /// Bytes of its data regions: the values, or the bit-width table and the packed levels.
    pub fn region_bytes(&self) -> usize {
        match self.weights {
            Weights::F32(d) | Weights::F16(d) => d.len(),
            Weights::Packed(p) => p.bits_table.len() + p.data.len(),
        }
    }
}

/// The packed data holds exactly `Σ_g group_size·bits_g/8` bytes. Fixed widths are checked in
/// O(1) (the executor looks weights up on every frame); variable widths need a pass over the
/// groups, which `check_groups = false` skips.
fn check_data_len(pk: &Packed<'_>, check_groups: bool, p: Part) -> Result<(), Error> {
    let (group, n_groups) = (usize::from(pk.group_size), pk.n_groups());
    if pk.bits_width == 0 {
        let need = n_groups as u64 * group_bytes(group, pk.bits_base) as u64;
        return if need == pk.data.len() as u64 { Ok(()) } else { Err(Error::ShapeMismatch(p)) };
    }
    if !check_groups {
        return Ok(());
    }
    let mut total = 0usize;
    for g in 0..n_groups {
        let bits = pk.group_bits(g);
        if bits > MAX_BITS {
            return Err(Error::InvalidField(p));
        }
        total += group_bytes(group, bits);
        if total > pk.data.len() {
            // Stop early: a huge `count` must not make parsing slow.
            return Err(Error::ShapeMismatch(p));
        }
    }
    if total != pk.data.len() {
        return Err(Error::ShapeMismatch(p));
    }
    Ok(())
}
