//! The checks of a chain of layers (versions 1–4): each layer against the previous one, its
//! tensors and its integer constants, and the buffers the ping-pong executor needs.

use super::Model;
use crate::error::{Error, Part};
use crate::format::{Bias, BufferSizes, IntParams, Layer, Layout, Op, Weights, INT_BIAS_VERSION, NO_TENSOR};

impl<'a> Model<'a> {
    /// Checks the layers in order against each other, their tensors and their integer constants;
    /// returns the header's four sizes the layers need and the bytes of their integer constants.
    pub(super) fn check_chain(&self) -> Result<([u32; 4], u64), Error> {
        let h = &self.header;
        let mut sizes = BufferSizes::new(usize::from(h.input_len));
        let mut width = usize::from(h.input_len);
        let mut prev_scale = h.input_scale;
        let mut int_bytes = 0u64;
        for i in 0..h.n_nodes {
            let p = Part::Layer(i);
            let l = self.layer(i)?;
            if usize::from(l.in_len) != width || (!l.op.has_weights() && l.out_len != l.in_len) {
                return Err(Error::ShapeMismatch(p));
            }
            if l.op.has_weights() {
                self.check_layer_tensors(&l, p)?;
            }
            if h.has_int() {
                if l.op == Op::Relu && l.out_scale != prev_scale {
                    return Err(Error::InvalidField(p));
                }
                if l.op != Op::Relu && (l.int_offset as usize) < h.data_start() {
                    return Err(Error::OutOfBounds(p));
                }
                let block = self.layer_int_block(&l, i)?;
                int_bytes += block.len() as u64;
                if l.op.has_weights() {
                    let q = IntParams::read(block, usize::from(l.out_len), h.version, p)?;
                    // Before v4 the constants of a layer without a bias tensor are zero.
                    if h.version < INT_BIAS_VERSION && l.bias == NO_TENSOR && !q.bias.is_zero() {
                        return Err(Error::VersionMismatch { version: h.version, part: p });
                    }
                }
                prev_scale = l.out_scale;
            }
            width = usize::from(l.out_len);
            sizes.add(&l);
        }
        if width != usize::from(h.output_len) {
            return Err(Error::ShapeMismatch(Part::Header));
        }
        Ok((sizes.header_lens(h.has_int()).ok_or(Error::SizeMismatch)?, int_bytes))
    }

    /// A conv1d/linear layer's weight and bias tensors fit its shape (and the integer path).
    fn check_layer_tensors(&self, l: &Layer, p: Part) -> Result<(), Error> {
        let w = self.tensor(l.weight)?;
        if u64::from(w.count) != l.macs() {
            return Err(Error::ShapeMismatch(p));
        }
        if let Weights::Packed(pk) = w.weights {
            let row = u32::from(l.kernel) * u32::from(l.in_len);
            let pairs_ok = match pk.layout {
                Layout::Rows => true,
                Layout::RowPairs { row_len, .. } => u32::from(row_len) == row,
            };
            if l.in_len.checked_rem(pk.group_size) != Some(0) || !pairs_ok {
                return Err(Error::ShapeMismatch(p));
            }
        } else if self.has_int() {
            return Err(Error::Unsupported(p));
        }
        if l.bias != NO_TENSOR {
            let b = self.tensor(l.bias)?;
            if matches!(b.weights, Weights::Packed(_)) || b.count != u32::from(l.out_len) {
                return Err(Error::ShapeMismatch(p));
            }
        }
        Ok(())
    }

    // The chain executor's lookups, on the decoded layer (the graph view's `bias_of` and
    // `int_params_of` read the same bytes through a `Node`; these keep the chain's per-frame
    // code as it is measured in the firmware).

    /// The bytes of layer `i`'s integer constants (empty for a ReLU or a blob without them).
    pub(super) fn layer_int_block(&self, l: &Layer, i: u16) -> Result<&'a [u8], Error> {
        let len = if self.has_int() { crate::format::int_block_len(l, self.header.version) } else { 0 };
        crate::bytes::slice(self.blob, l.int_offset as usize, len, Part::Layer(i))
    }

    /// The integer constants of conv1d/linear layer `i`.
    pub(super) fn layer_int_params(&self, l: &Layer, i: u16) -> Result<IntParams<'a>, Error> {
        let block = self.layer_int_block(l, i)?;
        IntParams::read(block, usize::from(l.out_len), self.header.version, Part::Layer(i))
    }

    /// The bias of conv1d/linear layer `i` as the f32 path adds it.
    pub(super) fn layer_bias(&self, l: &Layer, i: u16) -> Result<Option<Bias<'a>>, Error> {
        if l.bias != NO_TENSOR {
            let w = self.weights(l.bias)?;
            return Bias::from_weights(w).map(Some).ok_or(Error::ShapeMismatch(Part::Layer(i)));
        }
        if !(l.op.has_weights() && self.has_int() && self.header.version >= INT_BIAS_VERSION) {
            return Ok(None);
        }
        Ok(self.layer_int_params(l, i)?.f32_bias(l.out_scale))
    }
}
