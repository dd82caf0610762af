//! The graph executor's calls into the kernels of the ops beyond a chain's: grouped conv1d,
//! gru, conv2d, the pools, and the integer element-wise ops. Each function takes the node,
//! its constants through `m`, its input, its streaming state and the frame, and its output; the
//! fused activations of the weighted ops are applied here too ([`fused_f32`], [`fused_i8`]).

// Without every op feature some of these calls are not made (graph_step's `streaming_op`).
#![cfg_attr(
    not(all(feature = "grouped-conv", feature = "gru", feature = "conv2d", feature = "pool")),
    allow(dead_code, unused_imports)
)]

use super::step::fill_taps;
use super::Model;
use crate::error::Error;
use crate::format::{
    int_linear_len, Act, Bias, IntParams, Node, Op, Requant, MAX_ADD_M, MAX_CONCAT_M, MAX_INPUTS, MAX_KERNEL,
    MAX_MUL_M, NO_TENSOR,
};
use crate::kernels::{self, act, Conv2dShape, GRU_GATE_SCALE};

/// A weighted node's fused activation on the f32 path.
pub(super) fn fused_f32(a: Act, y: &mut [f32]) {
    match a {
        Act::None => {}
        Act::Relu => act::relu(y),
        Act::Sigmoid => act::sigmoid(y),
        Act::Tanh => act::tanh(y),
    }
}

/// A weighted node's fused activation on the integer path (sigmoid/tanh: the node's table).
pub(super) fn fused_i8(m: &Model<'_>, n: &Node, i: u16, y: &mut [i8]) -> Result<(), Error> {
    match (n.act, m.act_tail_of(n, i)?) {
        (Act::Relu, _) => act::relu_i8(y),
        (Act::Sigmoid | Act::Tanh, Some(tail)) => act::lut_i8(tail.lut, y),
        (Act::Sigmoid | Act::Tanh, None) => return Err(Error::KernelShape),
        (Act::None, _) => {}
    }
    Ok(())
}

/// The taps of a node over time (`kernel_t` frames, `dilation` apart; pools: dilation 1).
fn taps_of<'t, T: Copy>(
    n: &Node,
    x: &'t [T],
    (hist, frame): (&'t mut [T], u64),
    taps: &'t mut [Option<&'t [T]>; MAX_KERNEL],
) -> Result<&'t [Option<&'t [T]>], Error> {
    let d = if matches!(n.op, Op::AvgPool | Op::MaxPool) { 1 } else { usize::from(n.dilation) };
    fill_taps((usize::from(n.kernel_t), d), frame, x, hist, taps)
}

/// conv1d with `groups > 1`, f32 path.
pub(super) fn conv1d_grouped_f32(
    m: &Model<'_>,
    n: &Node,
    i: u16,
    x: &[f32],
    state: (&mut [f32], u64),
    y: &mut [f32],
) -> Result<(), Error> {
    let mut taps = [None; MAX_KERNEL];
    let taps = taps_of(n, x, state, &mut taps)?;
    let (w, bias) = (m.weights(n.weight)?, m.bias_of(n, i)?);
    kernels::conv_grouped_f32(&w, bias.as_ref(), taps, x.len(), usize::from(n.groups), y)?;
    fused_f32(n.act, y);
    Ok(())
}

/// conv1d with `groups > 1`, integer path.
pub(super) fn conv1d_grouped_i8(
    m: &Model<'_>,
    n: &Node,
    i: u16,
    x: &[i8],
    state: (&mut [i8], u64),
    y: &mut [i8],
) -> Result<(), Error> {
    let mut taps = [None; MAX_KERNEL];
    let taps = taps_of(n, x, state, &mut taps)?;
    let (w, params) = (m.weights(n.weight)?, m.int_params_of(n, i)?);
    kernels::conv_grouped_i8(&w, &params, taps, x.len(), usize::from(n.groups), y)?;
    fused_i8(m, n, i, y)
}

/// The two weighted-layer blocks of a gru's integer constants: `W_x`'s, then `W_h`'s.
fn gru_params<'a>(m: &Model<'a>, n: &Node, i: u16) -> Result<(IntParams<'a>, IntParams<'a>), Error> {
    let (version, rows) = (m.header.version, 3 * usize::from(n.out_c));
    let block = m.int_block_of(n, i)?;
    let (bx, bh) = block.split_at_checked(int_linear_len(version, rows)).ok_or(Error::KernelShape)?;
    Ok((IntParams::read(bx, rows, version, m.part(i))?, IntParams::read(bh, rows, version, m.part(i))?))
}

/// A gru's biases on the f32 path: `b_x` as every weighted node's ([`Model::bias_of`]: its
/// tensor, or its constants at the gate scale), `b_h` likewise from the second tensor or block.
fn gru_biases<'a>(m: &Model<'a>, n: &Node, i: u16) -> Result<(Option<Bias<'a>>, Option<Bias<'a>>), Error> {
    let b_x = m.bias_of(n, i)?;
    let b_h = if n.bias2 != NO_TENSOR {
        Some(Bias::from_weights(m.weights(n.bias2)?).ok_or(Error::KernelShape)?)
    } else if m.has_int() {
        gru_params(m, n, i)?.1.f32_bias(GRU_GATE_SCALE)
    } else {
        None
    };
    Ok((b_x, b_h))
}

/// gru, f32 path: `h` in the state, `y` the output followed by `6H` of scratch.
/// `tables`: the step's room for a table of sums.
pub(super) fn gru_f32(
    m: &Model<'_>,
    n: &Node,
    i: u16,
    x: &[f32],
    h: &mut [f32],
    y: &mut [f32],
    tables: &mut kernels::Tables,
) -> Result<(), Error> {
    let (w_x, w_h) = (m.weights(n.weight)?, m.weights(n.weight2)?);
    let (b_x, b_h) = gru_biases(m, n, i)?;
    let (out, scratch) = y.split_at_mut_checked(h.len()).ok_or(Error::KernelShape)?;
    kernels::gru_f32_in((&w_x, b_x.as_ref()), (&w_h, b_h.as_ref()), x, h, scratch, tables)?;
    out.copy_from_slice(h);
    Ok(())
}

/// gru, integer path: `h` as i16 byte pairs in the state, `y` the output followed by `6H` of scratch.
pub(super) fn gru_i8(m: &Model<'_>, n: &Node, i: u16, x: &[i8], h: &mut [i8], y: &mut [i8]) -> Result<(), Error> {
    let (w_x, w_h) = (m.weights(n.weight)?, m.weights(n.weight2)?);
    let (px, ph) = gru_params(m, n, i)?;
    let (out, scratch) = y.split_at_mut_checked(usize::from(n.out_c)).ok_or(Error::KernelShape)?;
    kernels::gru_i8(&w_x, &px, &w_h, &ph, x, h, out, scratch)
}

/// The shape of conv2d node `i`'s input and kernel.
fn conv2d_shape(m: &Model<'_>, n: &Node, i: u16) -> Result<Conv2dShape, Error> {
    let v = m.inputs_of(n, i)?.get(0).ok_or(Error::KernelShape)?;
    let (c_in, freq) = m.value_shape(v)?;
    Ok(Conv2dShape {
        c_in: usize::from(c_in),
        freq: usize::from(freq),
        k_f: usize::from(n.kernel_h),
        stride_f: usize::from(n.stride_h),
        groups: usize::from(n.groups),
    })
}

/// conv2d, f32 path.
pub(super) fn conv2d_f32(
    m: &Model<'_>,
    n: &Node,
    i: u16,
    x: &[f32],
    state: (&mut [f32], u64),
    y: &mut [f32],
) -> Result<(), Error> {
    let shape = conv2d_shape(m, n, i)?;
    let mut taps = [None; MAX_KERNEL];
    let taps = taps_of(n, x, state, &mut taps)?;
    let (w, bias) = (m.weights(n.weight)?, m.bias_of(n, i)?);
    kernels::conv2d_f32(&w, bias.as_ref(), taps, &shape, y)?;
    fused_f32(n.act, y);
    Ok(())
}

/// conv2d, integer path.
pub(super) fn conv2d_i8(
    m: &Model<'_>,
    n: &Node,
    i: u16,
    x: &[i8],
    state: (&mut [i8], u64),
    y: &mut [i8],
) -> Result<(), Error> {
    let shape = conv2d_shape(m, n, i)?;
    let mut taps = [None; MAX_KERNEL];
    let taps = taps_of(n, x, state, &mut taps)?;
    let (w, params) = (m.weights(n.weight)?, m.int_params_of(n, i)?);
    kernels::conv2d_i8(&w, &params, taps, &shape, y)?;
    fused_i8(m, n, i, y)
}

/// avgpool / maxpool (`n.op`), f32 path: a ring of `kernel_t` frames in the state.
pub(super) fn pool_f32(n: &Node, _: u16, x: &[f32], state: (&mut [f32], u64), y: &mut [f32]) -> Result<(), Error> {
    let mut taps = [None; MAX_KERNEL];
    let taps = taps_of(n, x, state, &mut taps)?;
    match n.op {
        Op::MaxPool => kernels::max_pool_f32(taps, y),
        _ => kernels::avg_pool_f32(taps, y),
    }
}

/// avgpool / maxpool (`n.op`), integer path.
pub(super) fn pool_i8(n: &Node, _: u16, x: &[i8], state: (&mut [i8], u64), y: &mut [i8]) -> Result<(), Error> {
    let mut taps = [None; MAX_KERNEL];
    let taps = taps_of(n, x, state, &mut taps)?;
    match n.op {
        Op::MaxPool => kernels::max_pool_i8(taps, y),
        _ => kernels::avg_pool_i8(taps, y),
    }
}

/// add, integer path (`Model::int_block` holds `S`, `m_a`, `m_b`: `format::Requant`).
pub(super) fn add_i8(m: &Model<'_>, n: &Node, i: u16, xs: &[&[i8]], y: &mut [i8]) -> Result<(), Error> {
    let [a, b] = xs else { return Err(Error::KernelShape) };
    let q = Requant::read(m.int_block_of(n, i)?, 2, MAX_ADD_M, m.part(i))?;
    kernels::add_i8(a, b, q.m_at(0), q.m_at(1), u32::from(q.shift), y)
}

/// mul, integer path.
pub(super) fn mul_i8(m: &Model<'_>, n: &Node, i: u16, xs: &[&[i8]], y: &mut [i8]) -> Result<(), Error> {
    let [a, b] = xs else { return Err(Error::KernelShape) };
    let q = Requant::read(m.int_block_of(n, i)?, 1, MAX_MUL_M, m.part(i))?;
    kernels::mul_i8(a, b, q.m_at(0), u32::from(q.shift), y)
}

/// concat, integer path (one `m_k` per input).
pub(super) fn concat_i8(m: &Model<'_>, n: &Node, i: u16, xs: &[&[i8]], y: &mut [i8]) -> Result<(), Error> {
    let q = Requant::read(m.int_block_of(n, i)?, xs.len(), MAX_CONCAT_M, m.part(i))?;
    let mut ins: [(&[i8], i32); MAX_INPUTS] = [(&[], 0); MAX_INPUTS];
    for (k, (slot, x)) in ins.iter_mut().zip(xs).enumerate() {
        *slot = (x, q.m_at(k));
    }
    kernels::concat_i8(ins.get(..xs.len()).ok_or(Error::KernelShape)?, u32::from(q.shift), y)
}
