//! One node-table entry (FORMAT.md, "Node table entry", version 5): the ops ([`Op`], shared with
//! the layer table of versions 1–4), the fused activation ([`Act`]), and [`Node`]:
//! [`Node::read`] decodes and checks the 40 bytes on their own, [`Node::encode`] writes them,
//! through the same field offsets. A layer of versions 1–4 is presented as a node by
//! [`super::Layer::as_node`]: the graph view the executor and the tools share.

use super::header::{Header, NODE_ENTRY_LEN};
use crate::bytes::{entry, f32_at, put, u16_at, u32_at, u8_at};
use crate::error::{Error, Part};

/// Tensor index meaning "none".
pub const NO_TENSOR: u16 = 0xFFFF;
/// Largest conv kernel over time (taps live in a stack array of this size).
pub const MAX_KERNEL: usize = 16;
/// Largest conv dilation.
pub const MAX_DILATION: u16 = 256;
/// The operand field meaning "the previous value" (value `i` for node `i`), with one input.
pub const PREVIOUS: u16 = 0xFFFF;
/// Most inputs of a node (a concat).
pub const MAX_INPUTS: usize = 8;
/// Largest pooling window.
pub const MAX_POOL: u8 = 64;
/// Largest conv2d kernel over height.
pub const MAX_KERNEL_H: u8 = 15;
/// Largest conv2d stride over height.
pub const MAX_STRIDE_H: u8 = 8;
/// Largest conv1d stride over time.
pub const MAX_STRIDE_T: u8 = 8;

// Field offsets.
const OP_AT: usize = 0;
const ACT_AT: usize = 1;
const N_IN_AT: usize = 2;
const RESERVED3_AT: usize = 3;
const OPERANDS_AT: usize = 4;
const OUT_C_AT: usize = 6;
const OUT_H_AT: usize = 8;
const WEIGHT_AT: usize = 10;
const WEIGHT2_AT: usize = 12;
const BIAS_AT: usize = 14;
const BIAS2_AT: usize = 16;
const KERNEL_T_AT: usize = 18;
const KERNEL_H_AT: usize = 19;
const DILATION_AT: usize = 20;
const GROUPS_AT: usize = 22;
const STRIDE_H_AT: usize = 24;
const STRIDE_T_AT: usize = 25;
const RESERVED26_AT: usize = 26;
const OUT_SCALE_AT: usize = 28;
const INT_OFFSET_AT: usize = 32;
const ARENA_OFFSET_AT: usize = 36;

/// Graph operations (codes 1–5 are also the ops of the layer table of versions 1–4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Op {
    /// Causal grouped 1-d convolution over frames (code 1).
    Conv1d,
    /// Matrix-vector product over the flattened input (code 2).
    Linear,
    /// `max(x, 0)` element-wise (code 3).
    Relu,
    /// The logistic function element-wise (code 4); a 256-entry table on the integer path.
    Sigmoid,
    /// `tanh` element-wise (code 5); a 256-entry table on the integer path.
    Tanh,
    /// Element-wise sum of two values (code 6).
    Add,
    /// Element-wise product of two values (code 7).
    Mul,
    /// 2..=8 values one after the other along channels (code 8).
    Concat,
    /// A GRU cell over frames (code 9).
    Gru,
    /// Time-causal, height-"same" grouped 2-d convolution (code 10).
    Conv2d,
    /// Mean over the last `kernel_t` frames (code 11).
    AvgPool,
    /// Maximum over the last `kernel_t` frames (code 12).
    MaxPool,
    /// Softmax over channels, the last node only (code 13).
    Softmax,
}

const OPS: [Op; 13] = [
    Op::Conv1d,
    Op::Linear,
    Op::Relu,
    Op::Sigmoid,
    Op::Tanh,
    Op::Add,
    Op::Mul,
    Op::Concat,
    Op::Gru,
    Op::Conv2d,
    Op::AvgPool,
    Op::MaxPool,
    Op::Softmax,
];

impl Op {
    /// The op's byte in a node or layer entry.
    pub fn code(self) -> u8 {
        OPS.iter().position(|&o| o == self).map_or(0, |i| i as u8 + 1)
    }

    /// The op of code `c` (1..=13).
    pub fn from_code(c: u8) -> Option<Op> {
        OPS.get(usize::from(c).wrapping_sub(1)).copied()
    }

    /// The op's name, as FORMAT.md writes it.
    pub fn name(self) -> &'static str {
        match self {
            Op::Conv1d => "conv1d",
            Op::Linear => "linear",
            Op::Relu => "relu",
            Op::Sigmoid => "sigmoid",
            Op::Tanh => "tanh",
            Op::Add => "add",
            Op::Mul => "mul",
            Op::Concat => "concat",
            Op::Gru => "gru",
            Op::Conv2d => "conv2d",
            Op::AvgPool => "avgpool",
            Op::MaxPool => "maxpool",
            Op::Softmax => "softmax",
        }
    }

    /// Whether the op has a weight tensor: conv1d, linear, conv2d and gru.
    pub fn has_weights(self) -> bool {
        matches!(self, Op::Conv1d | Op::Linear | Op::Conv2d | Op::Gru)
    }

    /// Whether the op is a weighted layer (one weighted-layer block, a fused activation):
    /// conv1d, linear and conv2d.
    pub fn is_weighted_layer(self) -> bool {
        matches!(self, Op::Conv1d | Op::Linear | Op::Conv2d)
    }

    /// Whether the output's scale is the input's (integer path): relu, the pools and softmax.
    pub fn keeps_scale(self) -> bool {
        matches!(self, Op::Relu | Op::AvgPool | Op::MaxPool | Op::Softmax)
    }

    /// The only stride the layer table allows: 1 for conv1d/linear, 0 (unused) for the others.
    pub fn stride(self) -> u16 {
        u16::from(matches!(self, Op::Conv1d | Op::Linear))
    }

    /// Inputs the op takes: `(min, max)`.
    pub fn inputs(self) -> (u8, u8) {
        match self {
            Op::Add | Op::Mul => (2, 2),
            Op::Concat => (2, MAX_INPUTS as u8),
            _ => (1, 1),
        }
    }
}

/// The activation fused into a conv1d/linear/conv2d node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Act {
    /// None (code 0).
    None,
    /// ReLU (code 1).
    Relu,
    /// Sigmoid (code 2): on the integer path, the block is followed by a table.
    Sigmoid,
    /// Tanh (code 3): on the integer path, the block is followed by a table.
    Tanh,
}

impl Act {
    /// The activation's byte in a node entry.
    pub fn code(self) -> u8 {
        match self {
            Act::None => 0,
            Act::Relu => 1,
            Act::Sigmoid => 2,
            Act::Tanh => 3,
        }
    }

    fn from_code(c: u8) -> Option<Act> {
        [Act::None, Act::Relu, Act::Sigmoid, Act::Tanh].get(usize::from(c)).copied()
    }

    /// Whether the integer path maps the result through a table (sigmoid, tanh).
    pub fn has_table(self) -> bool {
        matches!(self, Act::Sigmoid | Act::Tanh)
    }
}

/// One decoded node-table entry (or a layer of versions 1–4 as a node).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Node {
    /// The operation.
    pub op: Op,
    /// The activation fused into a conv1d/linear/conv2d output; [`Act::None`] for other ops.
    pub act: Act,
    /// Inputs: 2 for add/mul, 2..=8 for concat, else 1.
    pub n_in: u8,
    /// [`PREVIOUS`] (one input: the previous value), or the first entry in the operand list.
    pub operands: u16,
    /// Output channels (gru: hidden units).
    pub out_c: u16,
    /// Output height (1 for a 1-d value).
    pub out_h: u16,
    /// conv1d/linear/conv2d: the weight tensor; gru: `W_x`; else [`NO_TENSOR`].
    pub weight: u16,
    /// gru: `W_h`; else [`NO_TENSOR`].
    pub weight2: u16,
    /// The bias tensor (gru: `b_x`), or [`NO_TENSOR`]; always none with integer constants.
    pub bias: u16,
    /// gru: `b_h` or [`NO_TENSOR`]; else [`NO_TENSOR`].
    pub bias2: u16,
    /// conv1d/conv2d: taps over time; linear/gru: 1; pools: the window; else 0.
    pub kernel_t: u8,
    /// conv2d: taps over height (odd); else 0.
    pub kernel_h: u8,
    /// conv1d/conv2d: frames between taps; linear/gru: 1; else 0.
    pub dilation: u16,
    /// conv1d/conv2d: channel groups; linear/gru: 1; else 0.
    pub groups: u16,
    /// conv2d: stride over height; else 0.
    pub stride_h: u8,
    /// conv1d: stride over time, 2..=8 (it computes on frames `t ≡ 0 mod stride_t` and holds
    /// that output until the next), or 0 (every frame); else 0.
    pub stride_t: u8,
    /// Integer path: the scale of this node's int8 output (> 0); else 0.
    pub out_scale: f32,
    /// Integer path, ops with integer constants: where they start; else 0.
    pub int_offset: u32,
    /// Element offset of this node's output in the arena (versions 1–4: the ping-pong half it
    /// is written to, as [`crate::Model::node`] computes it).
    pub arena_offset: u32,
}

impl Node {
    /// Reads node `i` of a version 5 blob and checks its fields in isolation.
    pub fn read(b: &[u8], h: &Header, i: u16) -> Result<Node, Error> {
        let p = Part::Node(i);
        if i >= h.n_nodes || !h.is_graph() {
            return Err(Error::InvalidField(p));
        }
        let e: &[u8; NODE_ENTRY_LEN] = entry(b, h.node_entry_offset(i), Part::NodeTable)?;
        let reserved = [RESERVED3_AT, RESERVED26_AT, RESERVED26_AT + 1];
        if reserved.iter().any(|&at| e.get(at).is_some_and(|&r| r != 0)) {
            return Err(Error::Reserved(p));
        }
        let (Some(op), Some(act)) = (Op::from_code(u8_at(e, OP_AT, p)?), Act::from_code(u8_at(e, ACT_AT, p)?)) else {
            return Err(Error::InvalidField(p));
        };
        let n = Node {
            op,
            act,
            n_in: u8_at(e, N_IN_AT, p)?,
            operands: u16_at(e, OPERANDS_AT, p)?,
            out_c: u16_at(e, OUT_C_AT, p)?,
            out_h: u16_at(e, OUT_H_AT, p)?,
            weight: u16_at(e, WEIGHT_AT, p)?,
            weight2: u16_at(e, WEIGHT2_AT, p)?,
            bias: u16_at(e, BIAS_AT, p)?,
            bias2: u16_at(e, BIAS2_AT, p)?,
            kernel_t: u8_at(e, KERNEL_T_AT, p)?,
            kernel_h: u8_at(e, KERNEL_H_AT, p)?,
            dilation: u16_at(e, DILATION_AT, p)?,
            groups: u16_at(e, GROUPS_AT, p)?,
            stride_h: u8_at(e, STRIDE_H_AT, p)?,
            stride_t: u8_at(e, STRIDE_T_AT, p)?,
            out_scale: f32_at(e, OUT_SCALE_AT, p)?,
            int_offset: u32_at(e, INT_OFFSET_AT, p)?,
            arena_offset: u32_at(e, ARENA_OFFSET_AT, p)?,
        };
        if !(n.shape_fields_ok() && n.tensor_fields_ok(h.has_int()) && n.int_fields_ok(h.has_int())) {
            return Err(Error::InvalidField(p));
        }
        Ok(n)
    }

    /// The op's fields other than tensors and scales: activation, inputs, shape, kernel.
    fn shape_fields_ok(&self) -> bool {
        let n = self;
        let (lo, hi) = n.op.inputs();
        let act_ok = n.op.is_weighted_layer() || n.act == Act::None;
        let operands_ok = n.operands != PREVIOUS || n.n_in == 1;
        let kt = n.kernel_t;
        let (k, d, g) =
            (kt >= 1 && usize::from(kt) <= MAX_KERNEL, (1..=MAX_DILATION).contains(&n.dilation), n.groups >= 1);
        let kernel_ok = match n.op {
            Op::Conv1d => k && d && g && n.kernel_h == 0 && n.stride_h == 0,
            Op::Conv2d => {
                k && d
                    && g
                    && n.kernel_h % 2 == 1
                    && n.kernel_h <= MAX_KERNEL_H
                    && (1..=MAX_STRIDE_H).contains(&n.stride_h)
            }
            Op::Linear | Op::Gru => kt == 1 && n.dilation == 1 && n.groups == 1 && n.kernel_h == 0 && n.stride_h == 0,
            Op::AvgPool | Op::MaxPool => (2..=MAX_POOL).contains(&kt) && n.no_conv_fields(),
            _ => kt == 0 && n.no_conv_fields(),
        };
        let stride_ok = n.stride_t == 0 || (n.op == Op::Conv1d && (2..=MAX_STRIDE_T).contains(&n.stride_t));
        act_ok && (lo..=hi).contains(&n.n_in) && operands_ok && n.out_c >= 1 && n.out_h >= 1 && kernel_ok && stride_ok
    }

    fn no_conv_fields(&self) -> bool {
        self.kernel_h == 0 && self.dilation == 0 && self.groups == 0 && self.stride_h == 0
    }

    /// Tensor fields: weights for the weighted ops, biases only without integer constants.
    fn tensor_fields_ok(&self, has_int: bool) -> bool {
        let n = self;
        let some = |t: u16| t != NO_TENSOR;
        let gru = n.op == Op::Gru;
        let bias_ok = !some(n.bias) || (n.op.has_weights() && !has_int);
        let bias2_ok = !some(n.bias2) || (gru && !has_int);
        some(n.weight) == n.op.has_weights() && some(n.weight2) == gru && bias_ok && bias2_ok
    }

    /// Scale and integer-constant fields against the integer-path flag.
    fn int_fields_ok(&self, has_int: bool) -> bool {
        if has_int {
            self.out_scale.is_finite() && self.out_scale > 0.0 && (self.int_offset == 0) != self.op_has_int_block()
        } else {
            self.out_scale == 0.0 && self.int_offset == 0
        }
    }

    /// Whether the op has integer constants (all but relu, the pools and softmax).
    pub fn op_has_int_block(&self) -> bool {
        !self.op.keeps_scale()
    }

    /// The 40 bytes of this entry (reserved bytes zero).
    pub fn encode(&self) -> [u8; NODE_ENTRY_LEN] {
        let mut b = [0u8; NODE_ENTRY_LEN];
        put(&mut b, OP_AT, [self.op.code()]);
        put(&mut b, ACT_AT, [self.act.code()]);
        put(&mut b, N_IN_AT, [self.n_in]);
        put(&mut b, OPERANDS_AT, self.operands.to_le_bytes());
        put(&mut b, OUT_C_AT, self.out_c.to_le_bytes());
        put(&mut b, OUT_H_AT, self.out_h.to_le_bytes());
        put(&mut b, WEIGHT_AT, self.weight.to_le_bytes());
        put(&mut b, WEIGHT2_AT, self.weight2.to_le_bytes());
        put(&mut b, BIAS_AT, self.bias.to_le_bytes());
        put(&mut b, BIAS2_AT, self.bias2.to_le_bytes());
        put(&mut b, KERNEL_T_AT, [self.kernel_t]);
        put(&mut b, KERNEL_H_AT, [self.kernel_h]);
        put(&mut b, DILATION_AT, self.dilation.to_le_bytes());
        put(&mut b, GROUPS_AT, self.groups.to_le_bytes());
        put(&mut b, STRIDE_H_AT, [self.stride_h]);
        put(&mut b, STRIDE_T_AT, [self.stride_t]);
        put(&mut b, OUT_SCALE_AT, self.out_scale.to_le_bytes());
        put(&mut b, INT_OFFSET_AT, self.int_offset.to_le_bytes());
        put(&mut b, ARENA_OFFSET_AT, self.arena_offset.to_le_bytes());
        b
    }

    /// Elements of the node's output value: `out_c · out_h`.
    pub fn out_len(&self) -> usize {
        usize::from(self.out_c) * usize::from(self.out_h)
    }

    /// Frames of input history a time-causal conv keeps (ring of `history + 1` frames).
    pub fn history(&self) -> usize {
        usize::from(self.kernel_t.saturating_sub(1)) * usize::from(self.dilation)
    }

    /// Frames between the node's computations: `stride_t` for a strided conv1d, else 1.
    pub fn time_stride(&self) -> u16 {
        u16::from(self.stride_t.max(1))
    }

    /// Elements of streaming state for an input of `e` elements: conv1d/conv2d with
    /// `kernel_t > 1` a ring of `history + 1` input frames, then for a strided conv1d its held
    /// output (`out_c`); gru `H` (f32) or `2H` (integer path: `h` as i16); pools `kernel_t`
    /// frames; else none.
    pub fn state_len(&self, e: usize, int_path: bool) -> usize {
        let held = if self.stride_t > 1 { self.out_len() } else { 0 };
        match self.op {
            Op::Conv1d | Op::Conv2d if self.kernel_t > 1 => (self.history() + 1).saturating_mul(e).saturating_add(held),
            Op::Gru => usize::from(self.out_c) * if int_path { 2 } else { 1 },
            Op::AvgPool | Op::MaxPool => usize::from(self.kernel_t).saturating_mul(e),
            _ => held,
        }
    }

    /// Arena elements of scratch the node uses right after its output, at its own step (gru: `6H`).
    pub fn scratch_len(&self) -> usize {
        if self.op == Op::Gru {
            6 * usize::from(self.out_c)
        } else {
            0
        }
    }
}
