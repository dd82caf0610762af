//! Model size in bytes with the blob format's own accounting (runtime/FORMAT.md): header, one
//! 32-byte entry per tensor, one 24-byte entry per layer, `Σ_g group_size·b_g/8` bytes of packed
//! levels plus the bit-width table for each quantised tensor, 4 (f32) or 2 (f16) bytes per
//! unquantised value, and the integer-path constants. The differentiable version uses the
//! continuous bits; at integral bits it equals the exported blob's length exactly.

use super::DiffqError;
use super::QuantLayout;
use candle_core::{Result, Tensor};
use runtime::format::{bits_table_len, bits_width_for, HEADER_LEN, LAYER_ENTRY_LEN, TENSOR_ENTRY_LEN};
use runtime::quant::group_bytes;

/// Bytes per value of an unquantised tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum PlainKind {
    F32,
    F16,
}

/// How a layer's bias is stored in a blob without integer constants: f16 beside quantised
/// weights (its 2^−11 relative rounding is far below the weights' quantisation error), f32
/// beside f32 weights. With integer constants (format v4) the biases are only those i16 constants.
pub fn bias_kind(weight_quantized: bool) -> PlainKind {
    if weight_quantized {
        PlainKind::F16
    } else {
        PlainKind::F32
    }
}

/// The value the blob will hold for `v` stored as `kind`.
pub fn stored_value(v: f32, kind: PlainKind) -> f32 {
    match kind {
        PlainKind::F32 => v,
        PlainKind::F16 => half::f16::from_f32(v).to_f32(),
    }
}

/// Everything that decides the size of a blob apart from the bit widths.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BlobLayout {
    pub n_layers: usize,
    /// Unquantised tensors: (count, kind).
    pub plain: Vec<(usize, PlainKind)>,
    pub quantized: Vec<QuantLayout>,
    /// Integer-path constants (0 for an f32-only blob).
    pub int_bytes: usize,
}

/// Bytes of one packed tensor's data region and table (entry excluded).
pub fn packed_bytes(layout: &QuantLayout, group_bits: &[u8]) -> usize {
    let data: usize = group_bits.iter().map(|&b| group_bytes(layout.group_size, b)).sum();
    data + bits_table_len(layout.n_groups, bits_width_for(group_bits))
}

impl BlobLayout {
    /// Bytes that do not depend on the bit widths.
    pub fn fixed_bytes(&self) -> usize {
        let plain: usize = self.plain.iter().map(|&(n, k)| n * if k == PlainKind::F32 { 4 } else { 2 }).sum();
        HEADER_LEN
            + LAYER_ENTRY_LEN * self.n_layers
            + TENSOR_ENTRY_LEN * (self.plain.len() + self.quantized.len())
            + plain
            + self.int_bytes
    }

    /// Number of quantised weights.
    pub fn quantized_count(&self) -> usize {
        self.quantized.iter().map(|q| q.count).sum()
    }

    /// Exact blob length for integral group widths (one slice per quantised tensor).
    pub fn exact_bytes(&self, group_bits: &[Vec<u8>]) -> std::result::Result<usize, DiffqError> {
        if group_bits.len() != self.quantized.len() {
            return Err(DiffqError::GroupCount { groups: group_bits.len(), expected: self.quantized.len() });
        }
        let mut total = self.fixed_bytes();
        for (l, gb) in self.quantized.iter().zip(group_bits) {
            if gb.len() != l.n_groups {
                return Err(DiffqError::GroupCount { groups: gb.len(), expected: l.n_groups });
            }
            total += packed_bytes(l, gb);
        }
        Ok(total)
    }

    /// Differentiable size in bytes from the continuous bits (`bits[t]` has `n_logits` entries);
    /// the bit-width tables are sized from `rounded` (the current true bits, constant here).
    pub fn size_bytes(&self, bits: &[Tensor], rounded: &[Vec<u8>], extra_bits: f64) -> Result<Tensor> {
        let mut terms = Vec::with_capacity(bits.len());
        let mut constant = self.fixed_bytes() as f64;
        for ((l, b), r) in self.quantized.iter().zip(bits).zip(rounded) {
            let weights_per_logit = (l.count / l.n_logits.max(1)) as f64;
            terms.push(b.affine(weights_per_logit / 8.0, extra_bits * weights_per_logit / 8.0)?.sum_all()?);
            constant += bits_table_len(l.n_groups, bits_width_for(r)) as f64;
        }
        let mut total = match terms.first() {
            Some(t) => (t.zeros_like()? + constant)?,
            None => return Err(candle_core::Error::Msg("no quantised tensor".into())),
        };
        for t in terms {
            total = (total + t)?;
        }
        Ok(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    fn layout() -> BlobLayout {
        BlobLayout {
            n_layers: 3,
            plain: vec![(4, PlainKind::F32), (10, PlainKind::F16)],
            quantized: vec![
                QuantLayout { count: 64, group_size: 16, n_groups: 4, n_logits: 4, row_pairs: None },
                QuantLayout { count: 32, group_size: 16, n_groups: 2, n_logits: 1, row_pairs: None },
            ],
            int_bytes: 100,
        }
    }

    #[test]
    fn hand_computed_exact_size() {
        let l = layout();
        // 64 + 3*24 + 4*32 + 4*4 + 10*2 + 100 = 400
        assert_eq!(l.fixed_bytes(), 400);
        // tensor 0: groups 2,3,4,5 bits -> 16*(14)/8 = 28 bytes + table ceil(4*2/8)=1; tensor 1: 2*16*4/8 = 16
        let got = l.exact_bytes(&[vec![2, 3, 4, 5], vec![4, 4]]).unwrap();
        assert_eq!(got, 400 + 28 + 1 + 16);
        assert!(l.exact_bytes(&[vec![2, 3, 4], vec![4, 4]]).is_err());
    }

    #[test]
    fn differentiable_size_matches_exact_at_integers_and_has_gradient() {
        let dev = Device::Cpu;
        let l = layout();
        let b0 = Var::new(&[2.0f64, 3.0, 4.0, 5.0], &dev).unwrap();
        let b1 = Var::new(&[4.0f64], &dev).unwrap();
        let rounded = vec![vec![2, 3, 4, 5], vec![4, 4]];
        let s = l.size_bytes(&[b0.as_tensor().clone(), b1.as_tensor().clone()], &rounded, 0.0).unwrap();
        assert_eq!(s.to_scalar::<f64>().unwrap(), l.exact_bytes(&rounded).unwrap() as f64);
        let g = s.backward().unwrap();
        // d size / d b = weights covered / 8: 16/8 = 2 per group logit, 32/8 = 4 per tensor logit
        assert_eq!(g.get(b0.as_tensor()).unwrap().to_vec1::<f64>().unwrap(), vec![2.0; 4]);
        assert_eq!(g.get(b1.as_tensor()).unwrap().to_vec1::<f64>().unwrap(), vec![4.0]);
    }
}
