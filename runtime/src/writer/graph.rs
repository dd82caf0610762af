//! [`GraphWriter`]: builds a version 5 blob, a node graph: add tensors, then nodes naming their
//! inputs ([`ValueId`]s), then `finish` (f32 path only) or `finish_with_int` (with the integer
//! constants from a [`GraphCalibration`]). `finish` plans the arena first fit
//! ([`super::plan`]), numbers the operand list, lays the blob out
//! ([`super::assemble::assemble_graph`]) and parses it back.

use super::plan::{first_fit, Live};
use super::tensor::Store;
use super::{TensorId, WriteError};
use crate::format::{Act, FrontEnd, Kind, Layout, Node, Op, MAX_NODES, MAX_STRIDE_T, NO_TENSOR, PREVIOUS};
use alloc::vec::Vec;
use std::format;

/// A value of the graph: [`GraphWriter::input`] or a node's output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValueId(u16);

impl ValueId {
    /// The value's id in the blob: 0 the input, `i + 1` node `i`'s output.
    pub fn index(self) -> u16 {
        self.0
    }
}

/// The integer path's scales of a graph, measured on calibration data (`max|v| / 127` of each
/// value). Relu, pools and softmax keep their input's scale and a gru's output is 1/128,
/// whatever is given for them.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphCalibration {
    /// Features enter the integer path as `round(x / input_scale)`.
    pub input_scale: f32,
    /// One scale per node: its output value's.
    pub out_scales: Vec<f32>,
    /// Per node, read only for a node with a fused sigmoid/tanh: the scale of its result before
    /// the activation (empty when no node has one).
    pub pre_act_scales: Vec<f32>,
}

/// A conv1d or conv2d node's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvSpec {
    /// Output channels.
    pub out_c: usize,
    /// Taps over time, 1..=16.
    pub kernel: usize,
    /// Frames between taps, 1..=256.
    pub dilation: usize,
    /// Channel groups (dividing the input's channels and `out_c`).
    pub groups: usize,
    /// The activation applied to the output.
    pub act: Act,
}

/// Builds a version 5 blob (FORMAT.md): the front end, tensors, nodes in execution order.
pub struct GraphWriter {
    front_end: FrontEnd,
    input_height: u16,
    tensors: Store,
    /// Tensor fields are the writer's [`TensorId`]s until `finish`; operands are in `inputs`.
    nodes: Vec<Node>,
    inputs: Vec<Vec<u16>>,
    /// `(channels, height)` of every value.
    shapes: Vec<(u16, u16)>,
}

fn u16_of(v: usize, what: &str) -> Result<u16, WriteError> {
    u16::try_from(v).map_err(|_| WriteError::Shape(format!("{what} = {v} exceeds 65535")))
}

impl GraphWriter {
    /// A graph whose input is `front_end.n_bands` features per frame (one channel each).
    pub fn new(front_end: FrontEnd) -> Self {
        let n = front_end.n_bands;
        GraphWriter {
            front_end,
            input_height: 1,
            tensors: Store::default(),
            nodes: Vec::new(),
            inputs: Vec::new(),
            shapes: alloc::vec![(n, 1)],
        }
    }

    /// A graph whose input is one channel of `front_end.n_bands` rows (a conv2d model's input).
    pub fn new_2d(front_end: FrontEnd) -> Self {
        let mut w = Self::new(front_end);
        w.input_height = front_end.n_bands;
        w.shapes = alloc::vec![(1, front_end.n_bands)];
        w
    }

    /// The input, value 0.
    pub fn input(&self) -> ValueId {
        ValueId(0)
    }

    /// `(channels, height)` of value `v`.
    pub fn shape(&self, v: ValueId) -> Option<(usize, usize)> {
        self.shapes.get(usize::from(v.0)).map(|&(c, h)| (usize::from(c), usize::from(h)))
    }

    /// Names tensor `t` (f32/f16, `n_bands × (fft/2 + 1)`) as the front end's filterbank.
    pub fn filterbank(&mut self, t: TensorId) {
        self.front_end.filterbank = Some(t.0);
    }

    /// Stores `values` as f32.
    pub fn f32_tensor(&mut self, values: &[f32]) -> Result<TensorId, WriteError> {
        self.tensors.plain(values, Kind::F32)
    }

    /// Stores `values` as f16 (rounded to nearest).
    pub fn f16_tensor(&mut self, values: &[f32]) -> Result<TensorId, WriteError> {
        self.tensors.plain(values, Kind::F16)
    }

    /// Copies tensor `i` of a parsed blob as it is stored there (entry, bit-width table, data).
    pub fn stored_tensor(&mut self, m: &crate::Model<'_>, i: u16) -> Result<TensorId, WriteError> {
        self.tensors.stored(m, i)
    }

    /// Stores DiffQ levels in `layout` (as [`super::BlobWriter::packed_tensor_in`]).
    pub fn packed_tensor_in(
        &mut self,
        layout: Layout,
        levels: &[u16],
        group_bits: &[u8],
        group_size: usize,
        (min, max): (f32, f32),
    ) -> Result<TensorId, WriteError> {
        self.tensors.packed(layout, levels, group_bits, group_size, (min, max))
    }

    /// Appends node `n` (shape in `out_c`/`out_h`) reading `inputs`; returns its output.
    fn push(&mut self, n: Node, inputs: &[ValueId]) -> Result<ValueId, WriteError> {
        if self.nodes.len() >= usize::from(MAX_NODES) {
            return Err(WriteError::Shape(format!("a graph holds at most {MAX_NODES} nodes")));
        }
        if let Some(v) = inputs.iter().find(|v| usize::from(v.0) >= self.shapes.len()) {
            return Err(WriteError::Shape(format!("node {} reads value {}, not yet written", self.nodes.len(), v.0)));
        }
        self.nodes.push(Node { n_in: inputs.len() as u8, ..n });
        self.inputs.push(inputs.iter().map(|v| v.0).collect());
        self.shapes.push((n.out_c, n.out_h));
        Ok(ValueId(self.shapes.len() as u16 - 1))
    }

    fn in_shape(&self, x: ValueId) -> Result<(u16, u16), WriteError> {
        self.shapes.get(usize::from(x.0)).copied().ok_or_else(|| WriteError::Shape(format!("no value {}", x.0)))
    }

    /// Causal grouped conv1d of a `C×1` value, weights `[out_c][kernel][C/groups]`.
    pub fn conv1d(
        &mut self,
        x: ValueId,
        weight: TensorId,
        bias: Option<TensorId>,
        spec: ConvSpec,
    ) -> Result<ValueId, WriteError> {
        self.conv1d_strided(x, (weight, bias), spec, 1)
    }

    /// [`GraphWriter::conv1d`] that computes on frames `t ≡ 0 (mod stride)` only and holds that
    /// output in between (`stride` 1..=8; 1 is every frame).
    pub fn conv1d_strided(
        &mut self,
        x: ValueId,
        (weight, bias): (TensorId, Option<TensorId>),
        spec: ConvSpec,
        stride: usize,
    ) -> Result<ValueId, WriteError> {
        if !(1..=usize::from(MAX_STRIDE_T)).contains(&stride) {
            return Err(WriteError::Shape(format!("conv1d time stride {stride} is outside 1..={MAX_STRIDE_T}")));
        }
        let n = conv_node(Op::Conv1d, weight, bias, &spec)?;
        let stride_t = if stride > 1 { stride as u8 } else { 0 };
        self.push(Node { out_h: 1, stride_t, ..n }, &[x])
    }

    /// Height-"same" conv2d with `kernel_h` rows (odd) and `stride_h`, weights
    /// `[out_c][kernel][C/groups][kernel_h]`.
    pub fn conv2d(
        &mut self,
        x: ValueId,
        (weight, bias): (TensorId, Option<TensorId>),
        spec: ConvSpec,
        (kernel_h, stride_h): (usize, usize),
    ) -> Result<ValueId, WriteError> {
        let (_, h) = self.in_shape(x)?;
        let n = conv_node(Op::Conv2d, weight, bias, &spec)?;
        let (kernel_h, stride_h) = (u8_of(kernel_h, "kernel_h")?, u8_of(stride_h, "stride_h")?);
        let out_h = h.div_ceil(u16::from(stride_h.max(1)));
        self.push(Node { kernel_h, stride_h, out_h, ..n }, &[x])
    }

    /// `W·x + b` over the flattened input, weights `[out_c][E]`, then `act`.
    pub fn linear(
        &mut self,
        x: ValueId,
        weight: TensorId,
        bias: Option<TensorId>,
        out_c: usize,
        act: Act,
    ) -> Result<ValueId, WriteError> {
        let spec = ConvSpec { out_c, kernel: 1, dilation: 1, groups: 1, act };
        let n = conv_node(Op::Linear, weight, bias, &spec)?;
        self.push(Node { out_h: 1, ..n }, &[x])
    }

    /// A GRU cell of `hidden` units: `W_x` `[3H][E]`, `W_h` `[3H][H]`, optional biases `3H`.
    pub fn gru(
        &mut self,
        x: ValueId,
        (w_x, w_h): (TensorId, TensorId),
        (b_x, b_h): (Option<TensorId>, Option<TensorId>),
        hidden: usize,
    ) -> Result<ValueId, WriteError> {
        let spec = ConvSpec { out_c: hidden, kernel: 1, dilation: 1, groups: 1, act: Act::None };
        let n = conv_node(Op::Gru, w_x, b_x, &spec)?;
        let (weight2, bias2) = (w_h.0, b_h.map_or(NO_TENSOR, |b| b.0));
        self.push(Node { weight2, bias2, out_h: 1, ..n }, &[x])
    }

    /// An op of one input whose output has the input's shape.
    fn same_shape(&mut self, op: Op, x: ValueId, kernel_t: u8) -> Result<ValueId, WriteError> {
        let (out_c, out_h) = self.in_shape(x)?;
        self.push(Node { out_c, out_h, kernel_t, ..plain_node(op) }, &[x])
    }
    /// ReLU.
    pub fn relu(&mut self, x: ValueId) -> Result<ValueId, WriteError> {
        self.same_shape(Op::Relu, x, 0)
    }
    /// Sigmoid.
    pub fn sigmoid(&mut self, x: ValueId) -> Result<ValueId, WriteError> {
        self.same_shape(Op::Sigmoid, x, 0)
    }
    /// Tanh.
    pub fn tanh(&mut self, x: ValueId) -> Result<ValueId, WriteError> {
        self.same_shape(Op::Tanh, x, 0)
    }
    /// Softmax over channels (the last node).
    pub fn softmax(&mut self, x: ValueId) -> Result<ValueId, WriteError> {
        self.same_shape(Op::Softmax, x, 0)
    }
    /// Mean of the last `window` frames (2..=64).
    pub fn avgpool(&mut self, x: ValueId, window: usize) -> Result<ValueId, WriteError> {
        self.same_shape(Op::AvgPool, x, u8_of(window, "window")?)
    }
    /// Maximum of the last `window` frames (2..=64).
    pub fn maxpool(&mut self, x: ValueId, window: usize) -> Result<ValueId, WriteError> {
        self.same_shape(Op::MaxPool, x, u8_of(window, "window")?)
    }
    /// `a + b` element-wise.
    pub fn add(&mut self, a: ValueId, b: ValueId) -> Result<ValueId, WriteError> {
        let (out_c, out_h) = self.in_shape(a)?;
        self.push(Node { out_c, out_h, ..plain_node(Op::Add) }, &[a, b])
    }
    /// `a · b` element-wise.
    pub fn mul(&mut self, a: ValueId, b: ValueId) -> Result<ValueId, WriteError> {
        let (out_c, out_h) = self.in_shape(a)?;
        self.push(Node { out_c, out_h, ..plain_node(Op::Mul) }, &[a, b])
    }
    /// The inputs one after the other along channels (2..=8 of one height).
    pub fn concat(&mut self, xs: &[ValueId]) -> Result<ValueId, WriteError> {
        let mut out_c = 0usize;
        for &x in xs {
            out_c += usize::from(self.in_shape(x)?.0);
        }
        let out_h = self.in_shape(*xs.first().ok_or_else(|| WriteError::Shape("concat of nothing".into()))?)?.1;
        self.push(Node { out_c: u16_of(out_c, "channels")?, out_h, ..plain_node(Op::Concat) }, xs)
    }

    /// The planned arena's length (elements), and twice the widest value: what a chain's
    /// ping-pong arena would take.
    pub fn arena_lens(&self) -> (usize, usize) {
        let (_, arena) = first_fit(&self.lives());
        let widest = self.shapes.iter().map(|&(c, h)| usize::from(c) * usize::from(h)).max().unwrap_or(0);
        (arena, 2 * widest)
    }

    /// Every value's size and live steps (FORMAT.md, "Arena planning").
    fn lives(&self) -> Vec<Live> {
        let n = self.nodes.len();
        let mut lives: Vec<Live> = (0..=n)
            .map(|v| {
                let (c, h) = self.shapes.get(v).copied().unwrap_or((0, 0));
                let scratch = if v == 0 { 0 } else { self.nodes.get(v - 1).map_or(0, |n| n.scratch_len()) };
                Live { len: usize::from(c) * usize::from(h), scratch, born: v, last: v }
            })
            .collect();
        for (i, ins) in self.inputs.iter().enumerate() {
            for &v in ins {
                if let Some(l) = lives.get_mut(usize::from(v)) {
                    l.last = l.last.max(i + 1);
                }
            }
        }
        if let Some(l) = lives.last_mut() {
            l.last = n + 1;
        }
        lives
    }

    /// A blob for the f32 path only.
    pub fn finish(self) -> Result<Vec<u8>, WriteError> {
        self.build(None)
    }

    /// A blob with the integer path's constants.
    pub fn finish_with_int(self, calib: &GraphCalibration) -> Result<Vec<u8>, WriteError> {
        self.build(Some(calib))
    }
}

fn u8_of(v: usize, what: &str) -> Result<u8, WriteError> {
    u8::try_from(v).map_err(|_| WriteError::Shape(format!("{what} = {v} exceeds 255")))
}

/// A node of `op` with no tensors and no conv fields (shape set by the caller).
fn plain_node(op: Op) -> Node {
    Node {
        op,
        act: Act::None,
        n_in: 1,
        operands: PREVIOUS,
        out_c: 1,
        out_h: 1,
        weight: NO_TENSOR,
        weight2: NO_TENSOR,
        bias: NO_TENSOR,
        bias2: NO_TENSOR,
        kernel_t: 0,
        kernel_h: 0,
        dilation: 0,
        groups: 0,
        stride_h: 0,
        stride_t: 0,
        out_scale: 0.0,
        int_offset: 0,
        arena_offset: 0,
    }
}

/// A weighted node of `op` with `spec`'s fields.
fn conv_node(op: Op, weight: TensorId, bias: Option<TensorId>, spec: &ConvSpec) -> Result<Node, WriteError> {
    Ok(Node {
        act: spec.act,
        out_c: u16_of(spec.out_c, "out_c")?,
        weight: weight.0,
        bias: bias.map_or(NO_TENSOR, |b| b.0),
        kernel_t: u8_of(spec.kernel, "kernel")?,
        dilation: u16_of(spec.dilation, "dilation")?,
        groups: u16_of(spec.groups, "groups")?,
        ..plain_node(op)
    })
}

mod build;
pub(super) use build::Constants;
