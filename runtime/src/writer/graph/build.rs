//! `GraphWriter::finish`: the integer constants from the calibration's scales ([`Constants`]),
//! then the layout: the tensors as numbered in the blob, the arena plan, the operand list, the
//! node entries and their constants, the header.

use super::{GraphCalibration, GraphWriter};
use crate::format::{Header, Node, Op, FLAG_HAS_INT, GRAPH_VERSION, NO_TENSOR, PREVIOUS};
use crate::writer::assemble::{assemble_graph, NodePart, TensorPart};
use crate::writer::int::{node_block, NodeScales};
use crate::writer::plan::first_fit;
use crate::writer::WriteError;
use alloc::vec::Vec;
use std::format;

/// The integer path's GRU output scale (FORMAT.md: exactly 1/128).
const GRU_OUT_SCALE: f32 = 1.0 / 128.0;

/// Per value its scale, per node the scale its weighted-layer block rounds to.
struct Scales {
    values: Vec<f32>,
    pre: Vec<f32>,
}

fn u32_of(v: usize, what: &str) -> Result<u32, WriteError> {
    u32::try_from(v).map_err(|_| WriteError::Shape(format!("{what} = {v} exceeds 4 GiB")))
}

/// The integer path's constants as they are stored: the input scale, and per node its output
/// scale and its constants block (empty for ops without).
pub(in crate::writer) struct Constants {
    pub input_scale: f32,
    pub nodes: Vec<(f32, Vec<u8>)>,
}

impl GraphWriter {
    pub(super) fn build(self, calib: Option<&GraphCalibration>) -> Result<Vec<u8>, WriteError> {
        let consts = calib.map(|c| self.constants(c)).transpose()?;
        self.lay_out(consts.as_ref())
    }

    /// Every node's output scale and integer constants, computed from the calibration.
    fn constants(&self, c: &GraphCalibration) -> Result<Constants, WriteError> {
        let s = self.scales(c)?;
        let mut nodes = Vec::with_capacity(self.nodes.len());
        for (i, (n, ins)) in self.nodes.iter().zip(&self.inputs).enumerate() {
            let ins_s: Vec<f32> = ins.iter().map(|&v| s.values.get(usize::from(v)).copied().unwrap_or(0.0)).collect();
            let (out, pre) = (s.values.get(i + 1).copied().unwrap_or(0.0), s.pre.get(i).copied().unwrap_or(0.0));
            nodes.push((out, node_block(&self.tensors.0, n, &NodeScales { ins: &ins_s, out, pre })?));
        }
        Ok(Constants { input_scale: c.input_scale, nodes })
    }

    /// The blob: the tensors as numbered in the blob, the arena plan, the operand list, the node
    /// entries with `consts` (a blob for the f32 path only without), the header.
    pub(in crate::writer) fn lay_out(self, consts: Option<&Constants>) -> Result<Vec<u8>, WriteError> {
        if self.nodes.is_empty() {
            return Err(WriteError::Shape("a graph needs at least one node".into()));
        }
        if let Some(c) = consts.filter(|c| c.nodes.len() != self.nodes.len()) {
            let (a, b) = (c.nodes.len(), self.nodes.len());
            return Err(WriteError::Shape(format!("integer constants of {a} nodes for {b} nodes")));
        }
        let has_int = consts.is_some();
        let number = self.tensor_numbers(has_int);
        let rn =
            |t: u16| if t == NO_TENSOR { NO_TENSOR } else { number.get(usize::from(t)).copied().unwrap_or(NO_TENSOR) };
        let (offsets, arena) = first_fit(&self.lives());
        let (mut operands, mut parts) = (Vec::new(), Vec::new());
        let (mut state_f32, mut state_i8) = (0usize, 0usize);
        for (i, (n, ins)) in self.nodes.iter().zip(&self.inputs).enumerate() {
            let field = if ins[..] == [i as u16] {
                PREVIOUS
            } else {
                operands.extend_from_slice(ins);
                (operands.len() - ins.len()) as u16
            };
            let e = ins.first().and_then(|&v| self.shape(super::ValueId(v))).map_or(0, |(c, h)| c * h);
            (state_f32, state_i8) = (state_f32 + n.state_len(e, false), state_i8 + n.state_len(e, true));
            let (out_scale, int_block) = consts.and_then(|c| c.nodes.get(i)).map_or((0.0, &[][..]), |(s, b)| (*s, b));
            let (bias, bias2) = if has_int { (NO_TENSOR, NO_TENSOR) } else { (rn(n.bias), rn(n.bias2)) };
            let arena_offset = u32_of(offsets.get(i + 1).copied().unwrap_or(0), "arena offset")?;
            let (weight, weight2, operands) = (rn(n.weight), rn(n.weight2), field);
            let node = Node { operands, weight, weight2, bias, bias2, out_scale, arena_offset, ..*n };
            parts.push(NodePart { node, int_block });
        }
        let (a, s, si) = (u32_of(arena, "arena")?, u32_of(state_f32, "state")?, u32_of(state_i8, "state")?);
        let mut header = self.header(has_int, consts.map(|c| c.input_scale))?;
        header.set_buffer_lens(if has_int { [a, s, a, si] } else { [a, s, 0, 0] });
        let tensors: Vec<TensorPart<'_>> = (self.tensors.0.iter().zip(&number))
            .filter(|(_, &k)| k != NO_TENSOR)
            .map(|(t, _)| TensorPart { entry: t.entry, bits_table: &t.table, data: &t.data })
            .collect();
        let mut fe = self.front_end;
        fe.filterbank = fe.filterbank.map(rn);
        assemble_graph(header, &fe, &tensors, &parts, &operands)
    }

    /// The header's fields that do not depend on the layout.
    fn header(&self, has_int: bool, input_scale: Option<f32>) -> Result<Header, WriteError> {
        let (c, h) = self.shapes.first().copied().unwrap_or((0, 0));
        let (oc, oh) = self.shapes.last().copied().unwrap_or((0, 0));
        let len16 = |c: u16, h: u16| {
            u16::try_from(u32::from(c) * u32::from(h))
                .map_err(|_| WriteError::Shape("a value over 65535 elements".into()))
        };
        Ok(Header {
            version: GRAPH_VERSION,
            flags: if has_int { FLAG_HAS_INT } else { 0 },
            total_len: 0,
            crc32: 0,
            n_tensors: 0,
            n_nodes: 0,
            input_len: len16(c, h)?,
            output_len: len16(oc, oh)?,
            f32_arena_len: 0,
            f32_state_len: 0,
            i8_arena_len: 0,
            i8_state_len: 0,
            input_scale: input_scale.unwrap_or(0.0),
            n_operands: 0,
            input_height: self.input_height,
        })
    }

    /// The scale of every value (relu, pools, softmax: their input's; gru: 1/128) and the
    /// pre-activation scale of every node.
    fn scales(&self, c: &GraphCalibration) -> Result<Scales, WriteError> {
        let ok = |s: f32| s.is_finite() && s > 0.0;
        if !ok(c.input_scale) {
            return Err(WriteError::Value(format!("input scale {} must be finite and > 0", c.input_scale)));
        }
        if c.out_scales.len() != self.nodes.len() {
            let (a, b) = (c.out_scales.len(), self.nodes.len());
            return Err(WriteError::Shape(format!("{a} calibration scales for {b} nodes")));
        }
        let mut values = alloc::vec![c.input_scale];
        let mut pre = Vec::with_capacity(self.nodes.len());
        for (i, (n, ins)) in self.nodes.iter().zip(&self.inputs).enumerate() {
            let first = ins.first().and_then(|&v| values.get(usize::from(v))).copied().unwrap_or(0.0);
            let s = match n.op {
                op if op.keeps_scale() => first,
                Op::Gru => GRU_OUT_SCALE,
                _ => c.out_scales.get(i).copied().unwrap_or(0.0),
            };
            let p = if n.op.is_weighted_layer() && n.act.has_table() {
                c.pre_act_scales.get(i).copied().unwrap_or(0.0)
            } else {
                s
            };
            if !ok(s) || !ok(p) {
                return Err(WriteError::Value(format!("node {i}: scales {s} / {p} must be finite and > 0")));
            }
            values.push(s);
            pre.push(p);
        }
        Ok(Scales { values, pre })
    }

    /// Each tensor's index in the blob: with integer constants the biases live in them only, so
    /// tensors used only as biases are dropped (`NO_TENSOR`) and the others renumbered.
    fn tensor_numbers(&self, has_int: bool) -> Vec<u16> {
        let used_as = |i: usize, bias: bool| {
            self.nodes.iter().any(|n| {
                let ts = if bias { [n.bias, n.bias2] } else { [n.weight, n.weight2] };
                ts.iter().any(|&t| usize::from(t) == i)
            })
        };
        let filterbank = |i: usize| self.front_end.filterbank.is_some_and(|t| usize::from(t) == i);
        let mut next = 0u16;
        (0..self.tensors.0.len())
            .map(|i| {
                if has_int && used_as(i, true) && !used_as(i, false) && !filterbank(i) {
                    NO_TENSOR
                } else {
                    next += 1;
                    next - 1
                }
            })
            .collect()
    }
}
