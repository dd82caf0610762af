//! [`chain_to_graph`]: a chain blob (versions 1–4) rewritten as the version 5 node graph that
//! computes the same outputs, on both paths, bit for bit. The tensors are copied as stored
//! ([`GraphWriter::stored_tensor`]); each conv1d/linear layer followed by a relu, sigmoid or
//! tanh becomes one node with that activation fused; the integer constants are carried over
//! byte for byte (a fused sigmoid/tanh's block is the layer's block, then the layer's output
//! scale as the pre-activation scale and the activation layer's table: FORMAT.md, "Integer
//! constants per op"); the front end is the one versions 1–4 imply. The graph is laid out by
//! the writer's own layout ([`GraphWriter`]'s), which plans the arena and parses the blob back.

use super::graph::Constants;
use super::{ConvSpec, GraphWriter, TensorId, ValueId, WriteError};
use crate::format::{Act, ActTail, FrontEnd, Header, Layer, Op, INT_BIAS_VERSION, INT_LUT_LEN, NO_TENSOR};
use crate::Model;
use alloc::vec::Vec;
use std::format;

/// The version 5 blob of chain blob `blob` (versions 1–4): same tensors (entries but for their
/// offsets, bit-width tables and data byte for byte), one node per weighted layer with the
/// activation after it fused, the same integer constants, and the front end versions 1–4 imply
/// ([`FrontEnd::DEFAULT`], so the chain must have its 128 inputs and 129 outputs).
///
/// A chain with the integer path must be version 4: versions 1 and 2 store the biases as i64,
/// which version 5's i16 constants cannot hold in general, and version 3's f32 path adds bias
/// tensors, where version 5's adds the constants (FORMAT.md, "Biases from version 4").
pub fn chain_to_graph(blob: &[u8]) -> Result<Vec<u8>, WriteError> {
    let m = Model::parse(blob).map_err(WriteError::Source)?;
    let h = *m.header();
    check_source(&h)?;
    let mut w = GraphWriter::new(FrontEnd::DEFAULT);
    let ids = (0..m.n_tensors()).map(|i| w.stored_tensor(&m, i)).collect::<Result<Vec<TensorId>, _>>()?;
    let mut consts = Vec::new();
    let mut x = w.input();
    let mut i = 0u16;
    while i < m.n_layers() {
        let l = m.layer(i).map_err(WriteError::Source)?;
        let next = m.layer(i + 1).ok().filter(|n| l.op.has_weights() && !n.op.has_weights());
        x = node(&mut w, x, (i, &l), next.map_or(Act::None, |n| act_of(n.op)), &ids)?;
        if h.has_int() {
            consts.push(carried(&m, (i, &l), next.as_ref())?);
        }
        i += if next.is_some() { 2 } else { 1 };
    }
    let consts = h.has_int().then_some(Constants { input_scale: h.input_scale, nodes: consts });
    w.lay_out(consts.as_ref())
}

/// A chain whose graph has an exact version 5 form: version 4 with the integer path (or any
/// without it), the inputs and outputs of [`FrontEnd::DEFAULT`].
fn check_source(h: &Header) -> Result<(), WriteError> {
    if h.is_graph() {
        return Err(WriteError::Value("the blob is a graph (version 5) already".into()));
    }
    if h.has_int() && h.version != INT_BIAS_VERSION {
        return Err(WriteError::Value(format!(
            "a version {} blob's integer constants have no exact version 5 form (only version 4's do)",
            h.version
        )));
    }
    let fe = FrontEnd::DEFAULT;
    if (h.input_len, h.output_len) != (fe.n_bands, fe.bins()) {
        return Err(WriteError::Shape(format!(
            "a chain of {} inputs and {} outputs does not fit the front end versions 1-4 imply \
             ({} features, {} bin gains)",
            h.input_len,
            h.output_len,
            fe.n_bands,
            fe.bins()
        )));
    }
    Ok(())
}

/// Layer `i` as a node reading `x`, with `act` fused; `ids` the writer's ids of the chain's
/// tensors.
fn node(
    w: &mut GraphWriter,
    x: ValueId,
    (i, l): (u16, &Layer),
    act: Act,
    ids: &[TensorId],
) -> Result<ValueId, WriteError> {
    let bias = if l.bias == NO_TENSOR { None } else { Some(tensor_id(ids, l.bias)?) };
    match l.op {
        Op::Conv1d => {
            let (out_c, kernel, dilation) = (usize::from(l.out_len), usize::from(l.kernel), usize::from(l.dilation));
            let spec = ConvSpec { out_c, kernel, dilation, groups: 1, act };
            w.conv1d(x, tensor_id(ids, l.weight)?, bias, spec)
        }
        Op::Linear => w.linear(x, tensor_id(ids, l.weight)?, bias, usize::from(l.out_len), act),
        Op::Relu => w.relu(x),
        Op::Sigmoid => w.sigmoid(x),
        Op::Tanh => w.tanh(x),
        op => Err(WriteError::Shape(format!("layer {i}: {op:?} is not a chain's op"))),
    }
}

/// The writer's id of tensor `t` of the chain.
fn tensor_id(ids: &[TensorId], t: u16) -> Result<TensorId, WriteError> {
    ids.get(usize::from(t)).copied().ok_or_else(|| WriteError::Shape(format!("no tensor {t}")))
}

/// The activation a relu, sigmoid or tanh layer fuses as.
fn act_of(op: Op) -> Act {
    match op {
        Op::Relu => Act::Relu,
        Op::Sigmoid => Act::Sigmoid,
        Op::Tanh => Act::Tanh,
        _ => Act::None,
    }
}

/// Layer `i`'s node: its output scale and constants, with `act` (the activation layer fused
/// into it) taken in: a relu keeps the scale, a sigmoid/tanh adds the pre-activation scale (the
/// layer's output scale) and its table, and its output scale is the node's.
fn carried(m: &Model<'_>, (i, l): (u16, &Layer), act: Option<&Layer>) -> Result<(f32, Vec<u8>), WriteError> {
    let mut block = m.int_block(i).map_err(WriteError::Source)?.to_vec();
    let Some(a) = act else { return Ok((l.out_scale, block)) };
    if a.op != Op::Relu {
        let lut = m.int_block(i + 1).map_err(WriteError::Source)?;
        if lut.len() != INT_LUT_LEN {
            return Err(WriteError::Shape(format!("layer {}: a table of {} bytes", i + 1, lut.len())));
        }
        ActTail { pre_scale: l.out_scale, lut }.encode_into(&mut block);
    }
    Ok((a.out_scale, block))
}
