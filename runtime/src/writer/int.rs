//! Integer-path constants (FORMAT.md): fixed-point multipliers and activation tables,
//! computed once at export in f64 so the firmware needs no floating point.

use super::tensor::Pending;
use super::{IntCalibration, WriteError};
use crate::format::{
    int_linear_len, Act, ActTail, BiasQ, IntParams, Kind, Layer, Node, Op, Requant, MAX_ADD_M, MAX_CONCAT_M, MAX_MUL_M,
    VERSION,
};
use crate::kernels::{requant_multipliers, GRU_GATE_SCALE};
use crate::quant::{scale_for_bits, MAX_BITS};
use alloc::vec::Vec;
use std::format;

/// Largest fixed-point shift `S` (FORMAT.md).
const MAX_SHIFT: i64 = 62;

pub(super) struct Scales {
    pub input: f32,
    pub out: Vec<f32>,
}

impl Scales {
    /// Scales of layer `i`'s input and output.
    pub fn around(&self, i: usize) -> (f32, f32) {
        let input = if i == 0 { self.input } else { self.out.get(i - 1).copied().unwrap_or(0.0) };
        (input, self.out.get(i).copied().unwrap_or(0.0))
    }
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

/// The constants block of layer `l` (empty for ReLU); `tensors` indexed by the writer's ids.
pub(super) fn int_block(tensors: &[Pending], l: &Layer, in_scale: f32, out_scale: f32) -> Result<Vec<u8>, WriteError> {
    node_block(tensors, &l.as_node(0), &NodeScales { ins: &[in_scale], out: out_scale, pre: out_scale })
}

/// The scales around a node: its inputs', its output's, and the one its weighted-layer block
/// rounds to (the pre-activation scale of a fused sigmoid/tanh, else `out`).
pub(super) struct NodeScales<'s> {
    pub ins: &'s [f32],
    pub out: f32,
    pub pre: f32,
}

/// The integer constants of node `n` (FORMAT.md, "Integer constants per op"); `tensors`
/// indexed by the writer's ids.
pub(super) fn node_block(tensors: &[Pending], n: &Node, s: &NodeScales<'_>) -> Result<Vec<u8>, WriteError> {
    let sx = f64::from(s.ins.first().copied().unwrap_or(0.0));
    let (sy, pre) = (f64::from(s.out), f64::from(s.pre));
    let out = usize::from(n.out_c);
    match n.op {
        Op::Relu | Op::AvgPool | Op::MaxPool | Op::Softmax => Ok(Vec::new()),
        Op::Sigmoid | Op::Tanh => Ok(lut(n.op, sx, sy)),
        Op::Conv1d | Op::Linear | Op::Conv2d => {
            let mut block = weighted_block(tensors, (n.weight, n.bias), out, sx, pre)?;
            if n.act.has_table() {
                let lut = lut(if n.act == Act::Sigmoid { Op::Sigmoid } else { Op::Tanh }, pre, sy);
                ActTail { pre_scale: s.pre, lut: &lut }.encode_into(&mut block);
            }
            Ok(block)
        }
        Op::Gru => {
            let gate = f64::from(GRU_GATE_SCALE);
            let mut block = weighted_block(tensors, (n.weight, n.bias), 3 * out, sx, gate)?;
            block.extend(weighted_block(tensors, (n.weight2, n.bias2), 3 * out, 1.0 / 128.0, gate)?);
            Ok(block)
        }
        Op::Add | Op::Concat => {
            let m: Vec<f64> = s.ins.iter().map(|&si| f64::from(si) / sy).collect();
            requant_block(&m, if n.op == Op::Add { MAX_ADD_M } else { MAX_CONCAT_M })
        }
        Op::Mul => {
            let m = s.ins.iter().map(|&si| f64::from(si)).product::<f64>() / sy;
            requant_block(&[m], MAX_MUL_M)
        }
    }
}

/// The weighted-layer block of weight tensor `w` with bias tensor `b` (zeros without one).
fn weighted_block(
    tensors: &[Pending],
    (w, b): (u16, u16),
    out: usize,
    sx: f64,
    sy: f64,
) -> Result<Vec<u8>, WriteError> {
    let w = tensors.get(usize::from(w)).ok_or_else(|| WriteError::Shape("unknown weight".into()))?;
    if w.entry.kind != Kind::Packed {
        return Err(WriteError::Value("the integer path needs packed (quantised) weights".into()));
    }
    let bias = match tensors.get(usize::from(b)) {
        Some(b) => b.values.clone(),
        None => alloc::vec![0.0; out],
    };
    linear_block(w.entry.min, w.entry.max, &bias, sx, sy)
}

/// An add/mul/concat block: the multipliers `kernels::requant_multipliers` picks (the largest
/// shift `S` ≤ 30 that keeps every `round(m·2^S)` under `bound` in magnitude).
fn requant_block(m: &[f64], bound: i32) -> Result<Vec<u8>, WriteError> {
    let mut q = alloc::vec![0i32; m.len()];
    let s = requant_multipliers(m.iter().copied(), bound, &mut q).ok_or_else(|| {
        WriteError::Value(format!("scale ratios {m:?} do not fit the integer format (|m| < {bound} at shift 1)"))
    })?;
    let mut block = Vec::with_capacity(4 + 4 * q.len());
    Requant::encode_into(s as u8, &q, &mut block);
    Ok(block)
}

/// `q_y = round(f(q_x·s_x) / s_y)` for every int8 `q_x`, indexed by its two's-complement byte.
fn lut(op: Op, sx: f64, sy: f64) -> Vec<u8> {
    (0..=255u8)
        .map(|byte| {
            let x = f64::from(byte as i8) * sx;
            let y = if op == Op::Sigmoid { 1.0 / (1.0 + (-x).exp()) } else { x.tanh() };
            ((y / sy).round().clamp(-127.0, 127.0) as i8) as u8
        })
        .collect()
}

/// The shift `S` and bias shift `L`: the largest `S` that keeps every multiplier within i32 and
/// every bias within 2^62 (a constant zero tensor has no multiplier to bound it), and the
/// smallest `L` that fits every bias constant in i16.
fn shifts(biggest: f64, biggest_bias: f64) -> (i64, i64) {
    let mut shift = if biggest > 0.0 {
        ((f64::from(i32::MAX) / biggest).log2().floor() as i64).clamp(1, MAX_SHIFT)
    } else {
        MAX_SHIFT
    };
    if biggest_bias > 0.0 {
        shift = shift.min(((2f64.powi(62) / biggest_bias).log2().floor() as i64).max(1));
    }
    // Bias constants are i16 `c = round(b/s_y·2^(S−L))`, `bias_q = c·2^L`: a bias of
    // |b/s_y| ≤ 127 output steps keeps ≥ 8 fraction bits, an error ≤ 2^−9 of an output step
    // (the output itself is rounded to one step).
    let lshift = if biggest_bias > 0.0 {
        (shift - ((f64::from(i16::MAX) / biggest_bias).log2().floor() as i64)).clamp(0, shift)
    } else {
        0
    };
    (shift, lshift)
}

/// The block of a conv1d/linear layer whose weights span `[min, max]`, with biases `bias`.
fn linear_block(min: f32, max: f32, bias: &[f32], sx: f64, sy: f64) -> Result<Vec<u8>, WriteError> {
    let m_min = sx * f64::from(min) / sy;
    let m_bits: Vec<f64> = (1..=MAX_BITS).map(|b| sx * f64::from(scale_for_bits(min, max, b)) / sy).collect();
    let biggest = m_bits.iter().fold(m_min.abs(), |a, m| a.max(m.abs()));
    let biggest_bias = bias.iter().fold(0.0f64, |a, b| a.max((f64::from(*b) / sy).abs()));
    let (shift, lshift) = shifts(biggest, biggest_bias);
    let unit = (shift as f64).exp2();
    let to_i32 = |m: f64| -> Result<i32, WriteError> {
        let v = (m * unit).round();
        if v.abs() > f64::from(i32::MAX) {
            return Err(WriteError::Value(format!("multiplier {m} does not fit the fixed-point format")));
        }
        Ok(v as i32)
    };
    let m_min = to_i32(m_min)?;
    let mut mb = [0i32; MAX_BITS as usize];
    for (o, m) in mb.iter_mut().zip(&m_bits) {
        *o = to_i32(*m)?;
    }
    let bias_unit = ((shift - lshift) as f64).exp2();
    let mut values = Vec::with_capacity(2 * bias.len());
    for b in bias {
        let q = (f64::from(*b) / sy * bias_unit).round();
        if q.abs() > f64::from(i16::MAX) {
            return Err(WriteError::Value(format!("bias {b} too large for scale {}", sy as f32)));
        }
        values.extend_from_slice(&(q as i16).to_le_bytes());
    }
    let bias_q = BiasQ::I16 { values: &values, lshift: lshift as u32 };
    let params = IntParams { shift: shift as u32, m_min, m_bits: mb, bias: bias_q };
    let mut block = Vec::with_capacity(int_linear_len(VERSION, bias.len()));
    params.encode_into(&mut block);
    Ok(block)
}
