//! True quantisation (evaluation and export) through `runtime::quant`, so that the trainer
//! evaluates exactly the weights the firmware will dequantise.

use super::{check_finite, DiffqError};
use runtime::quant;

/// `round(b + extra_bits)` clamped to `1..=15`; a non-finite `b` is an error.
pub fn round_bits(b: f32, extra_bits: f32) -> Result<u8, DiffqError> {
    let x = b + extra_bits;
    if !x.is_finite() {
        return Err(DiffqError::NonFiniteBits(b));
    }
    Ok(quant::round(x).clamp(1.0, f32::from(quant::MAX_BITS)) as u8)
}

/// A truly quantised tensor, ready for `BlobWriter::packed_tensor`.
#[derive(Clone, Debug, PartialEq)]
pub struct Quantized {
    /// One level per weight, storage order.
    pub levels: Vec<u16>,
    /// One bit width per group.
    pub group_bits: Vec<u8>,
    pub group_size: usize,
    pub min: f32,
    pub max: f32,
}

/// Quantises `w` (storage order) with one bit width per group of `group_size` consecutive
/// weights, over the tensor's range `[min(w), max(w)]`.
pub fn quantize(name: &str, w: &[f32], group_bits: &[u8], group_size: usize) -> Result<Quantized, DiffqError> {
    if w.is_empty() {
        return Err(DiffqError::Empty(name.to_string()));
    }
    check_finite(name, w)?;
    if group_size == 0 || group_size % 8 != 0 || group_size > 4096 {
        return Err(DiffqError::GroupSize(group_size));
    }
    if w.len() % group_size != 0 {
        return Err(DiffqError::GroupDoesNotDivide { name: name.to_string(), group_size, row: w.len() });
    }
    let n_groups = w.len() / group_size;
    if group_bits.len() != n_groups {
        return Err(DiffqError::GroupCount { groups: group_bits.len(), expected: n_groups });
    }
    if let Some(&b) = group_bits.iter().find(|&&b| b == 0 || b > quant::MAX_BITS) {
        return Err(DiffqError::BitsOutOfRange(b));
    }
    let min = w.iter().copied().fold(f32::INFINITY, f32::min);
    let max = w.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut levels = Vec::with_capacity(w.len());
    for (chunk, &b) in w.chunks_exact(group_size).zip(group_bits) {
        let scale = quant::scale_for_bits(min, max, b);
        levels.extend(chunk.iter().map(|&x| quant::quantize(x, min, scale, b)));
    }
    Ok(Quantized { levels, group_bits: group_bits.to_vec(), group_size, min, max })
}

/// The dequantised weights, with the runtime's own formula.
pub fn dequantize(q: &Quantized) -> Vec<f32> {
    let mut out = Vec::with_capacity(q.levels.len());
    for (chunk, &b) in q.levels.chunks(q.group_size.max(1)).zip(&q.group_bits) {
        let scale = quant::scale_for_bits(q.min, q.max, b);
        out.extend(chunk.iter().map(|&l| quant::dequantize(q.min, scale, l)));
    }
    out
}

/// Quantise then dequantise (used by QAT's forward pass and by post-training quantisation).
pub fn fake_quantize(name: &str, w: &[f32], group_bits: &[u8], group_size: usize) -> Result<Vec<f32>, DiffqError> {
    Ok(dequantize(&quantize(name, w, group_bits, group_size)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_bits_clamps_and_rejects_nan() {
        assert_eq!(round_bits(2.49, 0.0).unwrap(), 2);
        assert_eq!(round_bits(2.5, 0.0).unwrap(), 3);
        assert_eq!(round_bits(0.2, 0.0).unwrap(), 1);
        assert_eq!(round_bits(14.7, 1.0).unwrap(), 15);
        assert!(matches!(round_bits(f32::NAN, 0.0), Err(DiffqError::NonFiniteBits(_))));
    }

    #[test]
    fn hand_computed_levels() {
        // range [-1, 2], 2 bits -> scale 1: levels of -1, 0.4, 0.6, 2 are 0, 1, 2, 3
        let w = [-1.0, 0.4, 0.6, 2.0, 0.0, 0.0, 0.0, 0.0];
        let q = quantize("t", &w, &[2], 8).unwrap();
        assert_eq!(q.levels, vec![0, 1, 2, 3, 1, 1, 1, 1]);
        assert_eq!(dequantize(&q), vec![-1.0, 0.0, 1.0, 2.0, 0.0, 0.0, 0.0, 0.0]);
        // 1 bit: midpoint 0.5 rounds away from zero
        let q = quantize("t", &[-1.0, 0.49, 0.5, 2.0, -1.0, -1.0, -1.0, -1.0], &[1], 8).unwrap();
        assert_eq!(q.levels, vec![0, 0, 1, 1, 0, 0, 0, 0]);
    }

    #[test]
    fn per_group_bits_and_fifteen_bit_groups_survive() {
        let w: Vec<f32> = (0..32).map(|i| (i as f32 * 0.37).sin()).collect();
        let q = quantize("t", &w, &[15, 3, 8, 1], 8).unwrap();
        let top15 = *q.levels[..8].iter().max().unwrap();
        assert!(top15 > 255, "15-bit levels use the full range: {top15}");
        assert!(q.levels[..8].iter().all(|&l| l <= 32767));
        let d = dequantize(&q);
        let step15 = (q.max - q.min) / 32767.0;
        for i in 0..8 {
            assert!((d[i] - w[i]).abs() <= step15 * 0.5 + 1e-6);
        }
        assert!(q.levels[24..].iter().all(|&l| l <= 1));
    }

    #[test]
    fn constant_tensor_dequantises_to_itself() {
        let w = [0.75f32; 16];
        for b in [1u8, 4, 15] {
            let q = quantize("c", &w, &[b, b], 8).unwrap();
            assert!(q.levels.iter().all(|&l| l == 0));
            assert_eq!(dequantize(&q), w.to_vec());
        }
    }

    #[test]
    fn clear_errors() {
        let w = [0.0f32; 24];
        assert!(matches!(quantize("t", &w, &[4, 4], 12), Err(DiffqError::GroupSize(12))));
        assert!(matches!(quantize("t", &w, &[4, 4], 16), Err(DiffqError::GroupDoesNotDivide { .. })));
        assert!(matches!(quantize("t", &w, &[4, 4], 8), Err(DiffqError::GroupCount { .. })));
        assert!(matches!(quantize("t", &w, &[4, 16, 4], 8), Err(DiffqError::BitsOutOfRange(16))));
        assert!(matches!(quantize("t", &w, &[4, 0, 4], 8), Err(DiffqError::BitsOutOfRange(0))));
        assert!(matches!(quantize("t", &[], &[], 8), Err(DiffqError::Empty(_))));
        let mut bad = w;
        bad[5] = f32::NAN;
        let e = quantize("layer0.weight", &bad, &[4, 4, 4], 8).unwrap_err();
        assert!(e.to_string().contains("layer0.weight") && e.to_string().contains("index 5"), "{e}");
        bad[5] = f32::INFINITY;
        assert!(matches!(quantize("t", &bad, &[4, 4, 4], 8), Err(DiffqError::NonFinite { index: 5, .. })));
    }
}
