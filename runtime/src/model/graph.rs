//! The checks of a node graph (version 5): each node against its operands (ids, shapes,
//! scales), its tensors (kinds, counts) and its integer constants, the operand list used in
//! order, the state the nodes need, then the arena plan ([`super::plan`]).

use super::plan::Values;
use super::Model;
use crate::error::{Error, Part};
use crate::format::{check_block, Kind, Layout, Node, Op, TensorEntry, NO_TENSOR, PREVIOUS};

/// The integer path's GRU output scale: exactly 1/128 (`h8`, FORMAT.md).
pub const GRU_OUT_SCALE: f32 = 1.0 / 128.0;

impl Model<'_> {
    /// Checks the nodes in order; returns the header's four sizes the graph needs and the bytes
    /// of the nodes' integer constants.
    pub(super) fn check_graph(&self) -> Result<([u32; 4], u64), Error> {
        let h = &self.header;
        let (mut used, mut int_bytes) = (0usize, 0u64);
        let (mut state_f32, mut state_i8) = (0u64, 0u64);
        let mut values = Values::new(h.input_len);
        for i in 0..h.n_nodes {
            let p = Part::Node(i);
            let n = self.node(i)?;
            if n.operands != PREVIOUS {
                if usize::from(n.operands) != used {
                    return Err(Error::InvalidField(p));
                }
                used += usize::from(n.n_in);
            }
            let ins = self.inputs_of(&n, i)?;
            let mut shapes = [(0u16, 0u16); crate::format::MAX_INPUTS];
            for (s, &v) in shapes.iter_mut().zip(ins.as_slice()) {
                *s = self.value_shape(v)?;
                values.read_at(v, i);
            }
            let shapes = shapes.get(..ins.len()).ok_or(Error::InvalidField(p))?;
            let e = check_shapes(&n, shapes).ok_or(Error::ShapeMismatch(p))?;
            if n.op == Op::Softmax && i + 1 != h.n_nodes {
                return Err(Error::InvalidField(p));
            }
            self.check_node_tensors(&n, e, shapes.first().map_or(0, |s| s.0), p)?;
            if h.has_int() {
                int_bytes += self.check_node_int(&n, i, ins.as_slice())?;
            }
            state_f32 += n.state_len(e, false) as u64;
            state_i8 += n.state_len(e, true) as u64;
            values.push(&n);
        }
        if used != usize::from(h.n_operands) {
            return Err(Error::InvalidField(Part::OperandList));
        }
        if self.node(h.n_nodes.saturating_sub(1))?.out_len() != usize::from(h.output_len) {
            return Err(Error::ShapeMismatch(Part::Header));
        }
        let arena = self.check_plan(values)?;
        let u32_of = |v: u64| u32::try_from(v).map_err(|_| Error::SizeMismatch);
        let (a, s, si) = (u32_of(arena)?, u32_of(state_f32)?, u32_of(state_i8)?);
        Ok((if h.has_int() { [a, s, a, si] } else { [a, s, 0, 0] }, int_bytes))
    }

    /// A node's weight and bias tensors against its input (`e` elements, `c` channels of the
    /// first input): counts, kinds, and the packed layouts the kernels read.
    fn check_node_tensors(&self, n: &Node, e: usize, c: u16, p: Part) -> Result<(), Error> {
        let (out, c) = (usize::from(n.out_c), usize::from(c));
        let g = usize::from(n.groups.max(1));
        let kt = usize::from(n.kernel_t);
        match n.op {
            // Groups of 1: a row's input is `kernel_t` taps of `C`, whole groups per tap.
            Op::Conv1d if g == 1 => self.check_weight(n.weight, out, kt * c, Some(c), p)?,
            Op::Conv1d => self.check_weight(n.weight, out, kt * (c / g), None, p)?,
            Op::Conv2d => self.check_weight(n.weight, out, kt * (c / g) * usize::from(n.kernel_h), None, p)?,
            Op::Linear => self.check_weight(n.weight, out, e, Some(e), p)?,
            Op::Gru => {
                self.check_weight(n.weight, 3 * out, e, Some(e), p)?;
                self.check_weight(n.weight2, 3 * out, out, Some(out), p)?;
            }
            _ => return Ok(()),
        }
        let n_bias = if n.op == Op::Gru { 3 * out } else { out };
        for b in [n.bias, n.bias2].into_iter().filter(|&b| b != NO_TENSOR) {
            let t = TensorEntry::read(self.blob, &self.header, b)?;
            if t.kind == Kind::Packed || t.count as usize != n_bias {
                return Err(Error::ShapeMismatch(p));
            }
        }
        Ok(())
    }

    /// Weight tensor `t` of `rows × row` values. `tap`: packed rows are read in taps of this
    /// many values (a multiple of `group_size`; row pairs have rows of `row`); `None`: packed
    /// weights in the row layout, groups cut from the flat storage order.
    fn check_weight(&self, t: u16, rows: usize, row: usize, tap: Option<usize>, p: Part) -> Result<(), Error> {
        let w = TensorEntry::read(self.blob, &self.header, t)?;
        if Some(w.count as usize) != rows.checked_mul(row) {
            return Err(Error::ShapeMismatch(p));
        }
        if w.kind != Kind::Packed {
            return if self.has_int() { Err(Error::Unsupported(p)) } else { Ok(()) };
        }
        let gs = usize::from(w.group_size);
        let ok = match (tap, w.layout) {
            // Whole groups (row pairs: whole segments) per tap; row pairs of the layer's rows.
            (Some(tap), l) => {
                let rows_ok = match l {
                    Layout::Rows => true,
                    Layout::RowPairs { row_len, .. } => usize::from(row_len) == row,
                };
                tap.checked_rem(l.group_inputs(gs)) == Some(0) && rows_ok
            }
            (None, layout) => layout == Layout::Rows,
        };
        if ok {
            Ok(())
        } else {
            Err(Error::ShapeMismatch(p))
        }
    }

    /// The integer path of node `i`: its scale against its inputs', its constants in the data
    /// area and in range. Returns the constants' bytes.
    fn check_node_int(&self, n: &Node, i: u16, ins: &[u16]) -> Result<u64, Error> {
        let p = Part::Node(i);
        let first = self.value_scale(ins.first().copied().unwrap_or(0))?;
        let scale_ok = match n.op {
            op if op.keeps_scale() => n.out_scale == first,
            Op::Gru => n.out_scale == GRU_OUT_SCALE,
            _ => true,
        };
        if !scale_ok {
            return Err(Error::InvalidField(p));
        }
        let block = self.int_block_of(n, i)?;
        if !block.is_empty() && (n.int_offset as usize) < self.header.data_start() {
            return Err(Error::OutOfBounds(p));
        }
        check_block(n, block, self.header.version, p)?;
        Ok(block.len() as u64)
    }
}

/// The node's output shape against its inputs' `(channels, height)`; returns the elements of
/// the first input (`None` when they do not fit).
fn check_shapes(n: &Node, ins: &[(u16, u16)]) -> Option<usize> {
    let &(c, h) = ins.first()?;
    let (c32, e) = (u32::from(c), usize::from(c) * usize::from(h));
    let out = (n.out_c, n.out_h);
    let g = u32::from(n.groups.max(1));
    let grouped = c32 % g == 0 && u32::from(n.out_c) % g == 0;
    let ok = match n.op {
        Op::Conv1d => h == 1 && n.out_h == 1 && grouped,
        Op::Conv2d => grouped && u32::from(n.out_h) == u32::from(h).div_ceil(u32::from(n.stride_h.max(1))),
        Op::Linear | Op::Gru => n.out_h == 1,
        Op::Relu | Op::Sigmoid | Op::Tanh | Op::AvgPool | Op::MaxPool => out == (c, h),
        Op::Softmax => h == 1 && out == (c, h),
        Op::Add | Op::Mul => ins.iter().all(|&s| s == out),
        Op::Concat => {
            let sum: u32 = ins.iter().map(|s| u32::from(s.0)).sum();
            ins.iter().all(|s| s.1 == n.out_h) && sum == u32::from(n.out_c)
        }
    };
    ok.then_some(e)
}
