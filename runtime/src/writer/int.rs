//! Integer-path constants (FORMAT.md): fixed-point multipliers and activation tables,
//! computed once at export in f64 so the firmware needs no floating point.

use super::{IntCalibration, TensorRec, WriteError};
use crate::format::{int_linear_len, Op, INT_LUT_LEN, VERSION};
use crate::quant::{scale_for_bits, MAX_BITS};
use alloc::vec::Vec;
use std::format;

pub(super) struct Scales {
    pub input: f32,
    pub out: Vec<f32>,
}

/// Checks the calibration and gives ReLU layers their input's scale.
pub(super) fn layer_scales(ops: &[Op], c: &IntCalibration) -> Result<Scales, WriteError> {
    let ok = |s: f32| s.is_finite() && s > 0.0;
    if !ok(c.input_scale) {
        return Err(WriteError::Value(format!("input scale {} must be finite and > 0", c.input_scale)));
    }
    if c.out_scales.len() != ops.len() {
        return Err(WriteError::Shape(format!("{} calibration scales for {} layers", c.out_scales.len(), ops.len())));
    }
    let mut out = Vec::with_capacity(ops.len());
    let mut prev = c.input_scale;
    for (i, (&op, &s)) in ops.iter().zip(&c.out_scales).enumerate() {
        let s = if op == Op::Relu { prev } else { s };
        if !ok(s) {
            return Err(WriteError::Value(format!("layer {i}: scale {s} must be finite and > 0")));
        }
        out.push(s);
        prev = s;
    }
    Ok(Scales { input: c.input_scale, out })
}

/// The constants block of one layer (empty for ReLU).
pub(super) fn int_block(
    tensors: &[TensorRec],
    op: Op,
    weight: u16,
    bias: u16,
    out_len: u16,
    in_scale: f32,
    out_scale: f32,
) -> Result<Vec<u8>, WriteError> {
    let (sx, sy) = (f64::from(in_scale), f64::from(out_scale));
    match op {
        Op::Relu => Ok(Vec::new()),
        Op::Sigmoid | Op::Tanh => {
            let mut lut = Vec::with_capacity(INT_LUT_LEN);
            for byte in 0..=255u8 {
                let x = f64::from(byte as i8) * sx;
                let y = if op == Op::Sigmoid { 1.0 / (1.0 + (-x).exp()) } else { x.tanh() };
                lut.push(((y / sy).round().clamp(-127.0, 127.0) as i8) as u8);
            }
            Ok(lut)
        }
        Op::Conv1d | Op::Linear => {
            let w = tensors.get(usize::from(weight)).ok_or_else(|| WriteError::Shape("unknown weight".into()))?;
            if w.kind != 3 {
                return Err(WriteError::Value("the integer path needs packed (quantised) weights".into()));
            }
            let m_min = sx * f64::from(w.min) / sy;
            let m_bits: Vec<f64> =
                (1..=MAX_BITS).map(|b| sx * f64::from(scale_for_bits(w.min, w.max, b)) / sy).collect();
            let biggest = m_bits.iter().fold(m_min.abs(), |a, m| a.max(m.abs()));
            let bias_vals: Vec<f32> = match tensors.get(usize::from(bias)) {
                Some(b) => b.values.clone(),
                None => alloc::vec![0.0; usize::from(out_len)],
            };
            let biggest_bias = bias_vals.iter().fold(0.0f64, |a, b| a.max((f64::from(*b) / sy).abs()));
            // Largest shift that keeps every multiplier within i32 and every bias within 2^62 (a
            // constant zero tensor has no multiplier to bound it).
            let mut shift =
                if biggest > 0.0 { ((f64::from(i32::MAX) / biggest).log2().floor() as i64).clamp(1, 62) } else { 62 };
            if biggest_bias > 0.0 {
                shift = shift.min(((2f64.powi(62) / biggest_bias).log2().floor() as i64).max(1));
            }
            let unit = (shift as f64).exp2();
            let to_i32 = |m: f64| -> Result<i32, WriteError> {
                let v = (m * unit).round();
                if v.abs() > f64::from(i32::MAX) {
                    return Err(WriteError::Value(format!("multiplier {m} does not fit the fixed-point format")));
                }
                Ok(v as i32)
            };
            // Bias constants are i16 `c = round(b/s_y·2^(S−L))`, `bias_q = c·2^L`, with the smallest
            // `L` that fits the largest: a bias of |b/s_y| ≤ 127 output steps keeps ≥ 8 fraction
            // bits, an error ≤ 2^−9 of an output step (the output itself is rounded to one step).
            let lshift = if biggest_bias > 0.0 {
                (shift - ((f64::from(i16::MAX) / biggest_bias).log2().floor() as i64)).clamp(0, shift)
            } else {
                0
            };
            let bias_unit = ((shift - lshift) as f64).exp2();
            let mut block = Vec::with_capacity(int_linear_len(VERSION, usize::from(out_len)));
            block.extend_from_slice(&(shift as u32 | (lshift as u32) << 8).to_le_bytes());
            block.extend_from_slice(&to_i32(m_min)?.to_le_bytes());
            for m in &m_bits {
                block.extend_from_slice(&to_i32(*m)?.to_le_bytes());
            }
            for b in bias_vals {
                let q = (f64::from(b) / sy * bias_unit).round();
                if q.abs() > f64::from(i16::MAX) {
                    return Err(WriteError::Value(format!("bias {b} too large for scale {out_scale}")));
                }
                block.extend_from_slice(&(q as i16).to_le_bytes());
            }
            Ok(block)
        }
    }
}
