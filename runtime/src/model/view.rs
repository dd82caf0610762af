//! The graph view both kinds of blob share: node `i` ([`Model::node`]; a layer of versions 1–4
//! is a node reading the previous value), its inputs ([`Model::inputs`]), each value's shape,
//! scale and arena offset, and a node's constants as the executor reads them.

use super::Model;
use crate::bytes::{slice, u16_at};
use crate::error::{Error, Part};
use crate::format::{
    ActTail, Bias, FrontEnd, IntParams, Layer, Node, Op, TensorEntry, INT_BIAS_VERSION, MAX_INPUTS, NO_TENSOR,
    OPERAND_LEN, PREVIOUS,
};

/// The value ids a node reads, in operand order (at most [`MAX_INPUTS`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inputs {
    ids: [u16; MAX_INPUTS],
    len: u8,
}

impl Inputs {
    /// The value ids.
    pub fn as_slice(&self) -> &[u16] {
        self.ids.get(..usize::from(self.len)).unwrap_or(&[])
    }
    /// Value id `k` (the first input: `get(0)`).
    pub fn get(&self, k: usize) -> Option<u16> {
        self.as_slice().get(k).copied()
    }
    /// Number of inputs.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }
    /// Whether there are none (never, for a node of a parsed model).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl<'a> Model<'a> {
    /// Node `i` (0-based, in execution order); an error past the last. In versions 1–4 layer `i`
    /// as a node: it reads value `i`, and its `arena_offset` is the ping-pong half it writes.
    pub fn node(&self, i: u16) -> Result<Node, Error> {
        if self.is_graph() {
            return Node::read(self.blob, &self.header, i);
        }
        let l = self.layer(i)?;
        // Value 0 is in the first half; each weighted layer writes the other half.
        let mut flips = 0u32;
        for j in 0..=i {
            flips += u32::from(self.layer(j)?.op.has_weights());
        }
        let half = self.header.f32_arena_len / 2;
        Ok(l.as_node(if flips % 2 == 1 { half } else { 0 }))
    }

    /// Layer `i` of a version 1–4 blob; an error past the last and for a node graph.
    pub fn layer(&self, i: u16) -> Result<Layer, Error> {
        Layer::read(self.blob, &self.header, i)
    }

    /// The value ids node `i` reads: each earlier than `i + 1` ([`Error::BadOperand`] otherwise).
    pub fn inputs(&self, i: u16) -> Result<Inputs, Error> {
        let n = self.node(i)?;
        self.inputs_of(&n, i)
    }

    pub(super) fn inputs_of(&self, n: &Node, i: u16) -> Result<Inputs, Error> {
        let mut ins = Inputs { ids: [i; MAX_INPUTS], len: n.n_in };
        if n.operands == PREVIOUS {
            ins.len = 1;
            return Ok(ins);
        }
        let p = Part::OperandList;
        if usize::from(n.n_in) > MAX_INPUTS || usize::from(n.operands) + usize::from(n.n_in) > self.n_operands() {
            return Err(Error::OutOfBounds(p));
        }
        let at = self.header.operand_list_offset() + usize::from(n.operands) * OPERAND_LEN;
        for (k, id) in ins.ids.iter_mut().take(usize::from(n.n_in)).enumerate() {
            let v = u16_at(self.blob, at + k * OPERAND_LEN, p)?;
            *id = if v == PREVIOUS { i } else { v };
            if *id > i {
                return Err(Error::BadOperand { node: i, operand: k as u8, value: v });
            }
        }
        Ok(ins)
    }

    fn n_operands(&self) -> usize {
        usize::from(self.header.n_operands)
    }

    /// Channels and height of value `v` (value 0 the input, value `i + 1` node `i`'s output).
    pub fn value_shape(&self, v: u16) -> Result<(u16, u16), Error> {
        if v == 0 {
            let h = self.header.input_height.max(1);
            return Ok((self.header.input_len / h, h));
        }
        let n = self.node(v - 1)?;
        Ok((n.out_c, n.out_h))
    }

    /// Integer path: the scale of value `v`.
    pub fn value_scale(&self, v: u16) -> Result<f32, Error> {
        if v == 0 {
            return Ok(self.header.input_scale);
        }
        self.node(v - 1).map(|n| n.out_scale)
    }

    /// The front end the model expects: the record of a version 5 blob, or
    /// [`FrontEnd::DEFAULT`] for versions 1–4.
    pub fn front_end(&self) -> Result<FrontEnd, Error> {
        if self.is_graph() {
            FrontEnd::read(self.blob, &self.header)
        } else {
            Ok(FrontEnd::DEFAULT)
        }
    }

    /// The front-end record and its filterbank tensor (f32 or f16, `n_bands × (fft/2 + 1)`).
    pub(super) fn front_end_checked(&self) -> Result<FrontEnd, Error> {
        let fe = FrontEnd::read(self.blob, &self.header)?;
        if let Some(t) = fe.filterbank {
            let e = TensorEntry::read(self.blob, &self.header, t)?;
            if e.kind == crate::format::Kind::Packed || e.count != fe.filterbank_count() {
                return Err(Error::ShapeMismatch(Part::FrontEnd));
            }
        }
        Ok(fe)
    }

    /// The bias of weighted node `i` as the f32 path adds it: its tensor, or from format v4
    /// with integer constants, those constants read as f32 (FORMAT.md); `None` if it has none.
    pub fn bias(&self, i: u16) -> Result<Option<Bias<'a>>, Error> {
        let n = self.node(i)?;
        self.bias_of(&n, i)
    }

    pub(super) fn bias_of(&self, n: &Node, i: u16) -> Result<Option<Bias<'a>>, Error> {
        if n.bias != NO_TENSOR {
            let w = self.weights(n.bias)?;
            return Bias::from_weights(w).map(Some).ok_or(Error::ShapeMismatch(self.part(i)));
        }
        let weighted = n.op.is_weighted_layer() || n.op == Op::Gru;
        if !(weighted && self.has_int() && self.header.version >= INT_BIAS_VERSION) {
            return Ok(None);
        }
        Ok(self.int_params_of(n, i)?.f32_bias(self.pre_scale_of(n, i)?))
    }

    /// The bytes of node `i`'s integer constants (empty for ops without, or a blob without them).
    pub fn int_block(&self, i: u16) -> Result<&'a [u8], Error> {
        let n = self.node(i)?;
        self.int_block_of(&n, i)
    }

    /// The weighted-layer constants of conv1d/linear/conv2d node `i` (gru: of its `W_x`).
    pub fn int_params(&self, i: u16) -> Result<IntParams<'a>, Error> {
        let n = self.node(i)?;
        self.int_params_of(&n, i)
    }

    pub(super) fn int_block_of(&self, n: &Node, i: u16) -> Result<&'a [u8], Error> {
        let len = if self.has_int() { n.int_block_len(self.header.version) } else { 0 };
        slice(self.blob, n.int_offset as usize, len, self.part(i))
    }

    pub(super) fn int_params_of(&self, n: &Node, i: u16) -> Result<IntParams<'a>, Error> {
        let block = self.int_block_of(n, i)?;
        let out = usize::from(n.out_c) * if n.op == Op::Gru { 3 } else { 1 };
        IntParams::read(block, out, self.header.version, self.part(i))
    }

    /// A fused sigmoid/tanh's pre-activation scale and table (`None` for other nodes).
    pub(super) fn act_tail_of(&self, n: &Node, i: u16) -> Result<Option<ActTail<'a>>, Error> {
        if !(self.has_int() && n.op.is_weighted_layer() && n.act.has_table()) {
            return Ok(None);
        }
        let at = crate::format::int_linear_len(self.header.version, usize::from(n.out_c));
        ActTail::read(self.int_block_of(n, i)?, at, self.part(i)).map(Some)
    }

    /// The scale a weighted node's block rounds to: the stored pre-activation scale with a
    /// fused sigmoid/tanh, a gru's gate scale, else the node's `out_scale`.
    fn pre_scale_of(&self, n: &Node, i: u16) -> Result<f32, Error> {
        if n.op == Op::Gru {
            return Ok(crate::kernels::GRU_GATE_SCALE); // both products round to the gate scale
        }
        Ok(self.act_tail_of(n, i)?.map_or(n.out_scale, |t| t.pre_scale))
    }

    /// Multiply-accumulates per frame: every weight of a conv1d/linear/gru node once, of a
    /// conv2d node once per output row.
    pub fn macs_per_frame(&self) -> u64 {
        (0..self.n_nodes()).map(|i| self.node_macs(i)).sum()
    }

    /// Node `i`'s multiply-accumulates per frame (0 for a node without weights or past the last).
    pub fn node_macs(&self, i: u16) -> u64 {
        let count = |t: u16| TensorEntry::read(self.blob, &self.header, t).map_or(0, |e| u64::from(e.count));
        match self.node(i) {
            Ok(n) if n.op == Op::Gru => count(n.weight) + count(n.weight2),
            Ok(n) if n.op.has_weights() => count(n.weight) * u64::from(n.out_h),
            _ => 0,
        }
    }
}
