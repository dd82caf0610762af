//! One layer-table entry (FORMAT.md, "Layer table entry", versions 1–4): [`Layer::read`] decodes and checks
//! the 24 bytes on their own, [`Layer::encode`] writes them, through the same field offsets;
//! [`BufferSizes`] is the one rule for the arena and state sizes the header states.

use super::header::{Header, LAYER_ENTRY_LEN};
use super::node::{Act, Node, Op, MAX_DILATION, MAX_KERNEL, NO_TENSOR, PREVIOUS};
use super::version::INT_BIAS_VERSION;
use crate::bytes::{entry, f32_at, put, u16_at, u32_at, u8_at};
use crate::error::{Error, Part};

/// The layer table's ops: codes 1..=5 (conv1d, linear, relu, sigmoid, tanh).
const CHAIN_OPS: u8 = 5;

// Field offsets.
const OP_AT: usize = 0;
const RESERVED1_AT: usize = 1;
const IN_AT: usize = 2;
const OUT_AT: usize = 4;
const WEIGHT_AT: usize = 6;
const BIAS_AT: usize = 8;
const KERNEL_AT: usize = 10;
const RESERVED11_AT: usize = 11;
const DILATION_AT: usize = 12;
const STRIDE_AT: usize = 14;
const OUT_SCALE_AT: usize = 16;
const INT_OFFSET_AT: usize = 20;

/// One decoded layer-table entry (the stride is not stored here: [`Op::stride`] is the only
/// valid value).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Layer {
    /// The operation.
    pub op: Op,
    /// Input features per frame: the previous layer's `out_len` (the model's input for the first).
    pub in_len: u16,
    /// Output features per frame; element-wise ops: `out_len == in_len`.
    pub out_len: u16,
    /// Conv1d/linear: the weight tensor's index; else [`NO_TENSOR`].
    pub weight: u16,
    /// Conv1d/linear: the bias tensor's index, or [`NO_TENSOR`] for none (always none in a
    /// version ≥ 4 blob with integer constants, whose biases are constants); else [`NO_TENSOR`].
    pub bias: u16,
    /// Conv1d: taps, 1..=[`MAX_KERNEL`]; linear: 1; else 0.
    pub kernel: u8,
    /// Conv1d: frames between taps, 1..=[`MAX_DILATION`]; linear: 1; else 0.
    pub dilation: u16,
    /// Integer path: the scale of this layer's int8 output (> 0); else 0.
    pub out_scale: f32,
    /// Integer path, ops other than relu: where the layer's integer constants start; else 0.
    pub int_offset: u32,
}

impl Layer {
    /// Reads layer `i` and checks its fields in isolation.
    pub fn read(b: &[u8], h: &Header, i: u16) -> Result<Layer, Error> {
        let p = Part::Layer(i);
        if i >= h.n_nodes || h.is_graph() {
            return Err(Error::InvalidField(p));
        }
        let e: &[u8; LAYER_ENTRY_LEN] = entry(b, h.node_entry_offset(i), Part::LayerTable)?;
        let op = match Op::from_code(u8_at(e, OP_AT, p)?) {
            Some(op) if op.code() <= CHAIN_OPS => op,
            _ => return Err(Error::InvalidField(p)),
        };
        if u8_at(e, RESERVED1_AT, p)? != 0 || u8_at(e, RESERVED11_AT, p)? != 0 {
            return Err(Error::Reserved(p));
        }
        let l = Layer {
            op,
            in_len: u16_at(e, IN_AT, p)?,
            out_len: u16_at(e, OUT_AT, p)?,
            weight: u16_at(e, WEIGHT_AT, p)?,
            bias: u16_at(e, BIAS_AT, p)?,
            kernel: u8_at(e, KERNEL_AT, p)?,
            dilation: u16_at(e, DILATION_AT, p)?,
            out_scale: f32_at(e, OUT_SCALE_AT, p)?,
            int_offset: u32_at(e, INT_OFFSET_AT, p)?,
        };
        let stride = u16_at(e, STRIDE_AT, p)?;
        let fields_ok = l.in_len > 0
            && l.out_len > 0
            && match op {
                Op::Conv1d => (1..=MAX_KERNEL as u8).contains(&l.kernel) && (1..=MAX_DILATION).contains(&l.dilation),
                Op::Linear => l.kernel == 1 && l.dilation == 1,
                _ => l.kernel == 0 && l.dilation == 0 && l.weight == NO_TENSOR && l.bias == NO_TENSOR && stride == 0,
            };
        if !fields_ok {
            return Err(Error::InvalidField(p));
        }
        if op.has_weights() && stride != 1 {
            return Err(Error::Unsupported(p));
        }
        let scale_ok = if h.has_int() {
            l.out_scale.is_finite() && l.out_scale > 0.0 && ((l.int_offset == 0) == (op == Op::Relu))
        } else {
            l.out_scale == 0.0 && l.int_offset == 0
        };
        if !scale_ok {
            return Err(Error::InvalidField(p));
        }
        // From v4, a blob with integer constants keeps the biases there only.
        if h.has_int() && h.version >= INT_BIAS_VERSION && l.bias != NO_TENSOR {
            return Err(Error::VersionMismatch { version: h.version, part: p });
        }
        Ok(l)
    }

    /// This layer as a node reading the previous value, its output in the ping-pong half
    /// `arena_offset`.
    pub fn as_node(&self, arena_offset: u32) -> Node {
        let l = self;
        let weighted = l.op.is_weighted_layer();
        Node {
            op: l.op,
            act: Act::None,
            n_in: 1,
            operands: PREVIOUS,
            out_c: l.out_len,
            out_h: 1,
            weight: l.weight,
            weight2: NO_TENSOR,
            bias: l.bias,
            bias2: NO_TENSOR,
            kernel_t: l.kernel,
            kernel_h: 0,
            dilation: l.dilation,
            groups: u16::from(weighted),
            stride_h: 0,
            stride_t: 0,
            out_scale: l.out_scale,
            int_offset: l.int_offset,
            arena_offset,
        }
    }

    /// The 24 bytes of this entry (stride from [`Op::stride`], reserved bytes zero).
    pub fn encode(&self) -> [u8; LAYER_ENTRY_LEN] {
        let mut b = [0u8; LAYER_ENTRY_LEN];
        put(&mut b, OP_AT, [self.op.code()]);
        put(&mut b, IN_AT, self.in_len.to_le_bytes());
        put(&mut b, OUT_AT, self.out_len.to_le_bytes());
        put(&mut b, WEIGHT_AT, self.weight.to_le_bytes());
        put(&mut b, BIAS_AT, self.bias.to_le_bytes());
        put(&mut b, KERNEL_AT, [self.kernel]);
        put(&mut b, DILATION_AT, self.dilation.to_le_bytes());
        put(&mut b, STRIDE_AT, self.op.stride().to_le_bytes());
        put(&mut b, OUT_SCALE_AT, self.out_scale.to_le_bytes());
        put(&mut b, INT_OFFSET_AT, self.int_offset.to_le_bytes());
        b
    }

    /// Frames of input history a streaming conv keeps (ring of `history + 1` frames).
    pub fn history(&self) -> usize {
        usize::from(self.kernel.saturating_sub(1)) * usize::from(self.dilation)
    }

    /// f32/i8 elements of streaming state this layer needs.
    pub fn state_len(&self) -> usize {
        if self.op == Op::Conv1d && self.kernel > 1 {
            (self.history() + 1) * usize::from(self.in_len)
        } else {
            0
        }
    }

    /// Multiply-accumulates per frame of a conv1d/linear layer: `out·kernel·in`, its weight count.
    pub fn macs(&self) -> u64 {
        u64::from(self.out_len) * u64::from(self.kernel) * u64::from(self.in_len)
    }
}

/// The buffers a graph needs, accumulated layer by layer: the parser checks the header's four
/// sizes against them and the writer states them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferSizes {
    /// Widest activation (the input included).
    pub max_width: usize,
    /// Streaming state of all layers.
    pub state: usize,
}

impl BufferSizes {
    /// The sizes of a graph with no layers yet, whose input is `input_len` wide.
    pub fn new(input_len: usize) -> Self {
        BufferSizes { max_width: input_len, state: 0 }
    }

    /// Accounts for layer `l`: its output width and its streaming state.
    pub fn add(&mut self, l: &Layer) {
        self.max_width = self.max_width.max(usize::from(l.out_len));
        self.state = self.state.saturating_add(l.state_len()); // no wrap on 32-bit targets
    }

    /// The header's f32 arena, f32 state, i8 arena and i8 state (`None` past `u32`): two halves
    /// of the widest activation, the states; the i8 ones only with integer constants.
    pub fn header_lens(&self, has_int: bool) -> Option<[u32; 4]> {
        let arena = u32::try_from(self.max_width.checked_mul(2)?).ok()?;
        let state = u32::try_from(self.state).ok()?;
        Some(if has_int { [arena, state, arena, state] } else { [arena, state, 0, 0] })
    }
}
