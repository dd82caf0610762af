//! A description as format v5 writer calls: its front-end record, one `GraphWriter` call per
//! layer, and how an unquantised tensor is packed in a blob with the integer path. The export
//! writes trained tensors through it, the budget check zero tensors at their widest widths.

use super::graph::{ModelDesc, Node, Op, Src, WeightSpec};
use super::schema::{Act, Features, Output};
use crate::diffq::{quantize, size, QuantLayout};
use anyhow::{anyhow, bail, Result};
use runtime::format::{self as fmt, FrontEnd};
use runtime::writer::{ConvSpec, GraphWriter, TensorId, ValueId};

/// The width of a `keep = "f32"` tensor in a blob with the integer path: its kernels read packed
/// weights only, so those tensors are quantised at this width there (and stay f32 without it).
pub const KEEP_INT_BITS: u8 = 8;

/// One weight tensor as the runtime computes with it (raw features in, folded weights).
#[derive(Clone, Debug)]
pub struct GraphTensor {
    pub rows: usize,
    /// Dequantised (or f32) weights, row-major as the description stores them.
    pub weight: Vec<f32>,
    /// The bias as the blob's f32 path reads it without integer constants (f16 beside packed
    /// weights, else f32).
    pub bias: Vec<f32>,
    pub quant: Option<(quantize::Quantized, fmt::Layout)>,
}

/// Row-major groups for a `keep = "f32"` tensor of an integer blob: the largest multiple of 8 up
/// to 64 dividing what the runtime's kernels need whole groups of (a tap's inputs of a plain
/// conv1d, a row of a linear or gru, the whole tensor of a grouped conv1d or conv2d).
pub fn keep_layout(n: &Node, w: &WeightSpec) -> Result<QuantLayout> {
    let count = w.shape.count();
    let run = match n.op {
        Op::Conv2d { .. } | Op::Conv1d { groups: 2.., .. } => count,
        _ => w.shape.inner,
    };
    let Some(group_size) = (1..=8).rev().map(|k| 8 * k).find(|g| run % g == 0) else {
        bail!(
            "layer `{}`: its keep = \"f32\" tensor cannot be packed for the integer path (no multiple of 8 \
             divides {run}); export it with --no-int",
            n.name
        );
    };
    let n_groups = count / group_size;
    Ok(QuantLayout { count, group_size, n_groups, n_logits: n_groups, row_pairs: None })
}

/// The blob's front-end record of `m`.
fn front_end(m: &ModelDesc) -> Result<FrontEnd> {
    let f = &m.frontend;
    let u16_of = |v: usize, what: &str| u16::try_from(v).map_err(|_| anyhow!("[frontend] {what} {v} too large"));
    Ok(FrontEnd {
        sample_rate: u16::try_from(f.sample_rate).map_err(|_| anyhow!("sample rate {}", f.sample_rate))?,
        frame: u16_of(f.frame, "frame")?,
        hop: u16_of(f.hop, "hop")?,
        fft: u16_of(f.frame, "frame")?,
        features: match f.features {
            Features::Logmag => fmt::Features::LogPower,
            Features::Logmel => fmt::Features::LogMel,
        },
        n_bands: u16_of(f.n_features(), "features")?,
        output: match (f.output, f.features) {
            (Output::Classes, _) => fmt::Output::Scores,
            (Output::Mask, Features::Logmag) => fmt::Output::BinGains,
            (Output::Mask, Features::Logmel) => fmt::Output::BandGains,
        },
        filterbank: None,
    })
}

fn act_of(a: Option<Act>) -> fmt::Act {
    match a {
        None => fmt::Act::None,
        Some(Act::Relu) => fmt::Act::Relu,
        Some(Act::Sigmoid) => fmt::Act::Sigmoid,
        Some(Act::Tanh) => fmt::Act::Tanh,
    }
}

/// Stores a tensor (packed, or f32) and its bias (f16 beside packed weights, else f32).
fn put(wr: &mut GraphWriter, t: Option<&GraphTensor>) -> Result<(TensorId, TensorId)> {
    let t = t.ok_or_else(|| anyhow!("fewer weight tensors than the description has"))?;
    let w = match &t.quant {
        Some((q, layout)) => wr.packed_tensor_in(*layout, &q.levels, &q.group_bits, q.group_size, (q.min, q.max))?,
        None => wr.f32_tensor(&t.weight)?,
    };
    let b = match size::bias_kind(t.quant.is_some()) {
        size::PlainKind::F16 => wr.f16_tensor(&t.bias)?,
        size::PlainKind::F32 => wr.f32_tensor(&t.bias)?,
    };
    Ok((w, b))
}

/// Appends layer `n` reading `ins`.
fn add_node<'a>(
    wr: &mut GraphWriter,
    n: &Node,
    ins: &[ValueId],
    ts: &mut impl Iterator<Item = &'a GraphTensor>,
) -> Result<ValueId> {
    let x = *ins.first().ok_or_else(|| anyhow!("layer `{}` has no input", n.name))?;
    let act = act_of(n.act);
    Ok(match n.op {
        Op::Conv1d { out, kernel, dilation, groups, stride } => {
            let (w, b) = put(wr, ts.next())?;
            wr.conv1d_strided(x, (w, Some(b)), ConvSpec { out_c: out, kernel, dilation, groups, act }, stride)?
        }
        Op::Linear { out } => {
            let (w, b) = put(wr, ts.next())?;
            wr.linear(x, w, Some(b), out, act)?
        }
        Op::Gru { hidden } => {
            let ((wx, bx), (wh, bh)) = (put(wr, ts.next())?, put(wr, ts.next())?);
            wr.gru(x, (wx, wh), (Some(bx), Some(bh)), hidden)?
        }
        Op::Conv2d { out, kernel, kernel_f, stride_f, dilation, groups } => {
            let (w, b) = put(wr, ts.next())?;
            wr.conv2d(x, (w, Some(b)), ConvSpec { out_c: out, kernel, dilation, groups, act }, (kernel_f, stride_f))?
        }
        Op::Add | Op::Mul => match ins {
            [a, b] if n.op == Op::Add => wr.add(*a, *b)?,
            [a, b] => wr.mul(*a, *b)?,
            _ => bail!("layer `{}`: the runtime's add and mul take two inputs, not {}", n.name, ins.len()),
        },
        Op::Concat => wr.concat(ins)?,
        Op::Relu => wr.relu(x)?,
        Op::Sigmoid => wr.sigmoid(x)?,
        Op::Tanh => wr.tanh(x)?,
        Op::Softmax => wr.softmax(x)?,
        Op::AvgPool { window } => wr.avgpool(x, window)?,
        Op::MaxPool { window } => wr.maxpool(x, window)?,
    })
}

/// The graph of `m` with `tensors` (in order; a GRU's `W_x` then `W_h`) and the f16-rounded
/// `filterbank` of a band front end in a [`GraphWriter`], ready to finish: its input is one
/// channel of bands when a conv2d reads it, else a frame of features.
pub fn graph_writer(m: &ModelDesc, tensors: &[GraphTensor], filterbank: Option<&[f32]>) -> Result<GraphWriter> {
    let fe = front_end(m)?;
    let two_d = m.nodes.iter().any(|n| matches!(n.op, Op::Conv2d { .. }) && n.inputs.contains(&Src::Input));
    let mut wr = if two_d { GraphWriter::new_2d(fe) } else { GraphWriter::new(fe) };
    if let Some(fb) = filterbank {
        let t = wr.f16_tensor(fb)?;
        wr.filterbank(t);
    }
    let mut values: Vec<ValueId> = Vec::with_capacity(m.nodes.len());
    let mut ts = tensors.iter();
    for n in &m.nodes {
        let ins = n
            .inputs
            .iter()
            .map(|s| match s {
                Src::Input => Ok(wr.input()),
                Src::Node(i) => values.get(*i).copied().ok_or_else(|| anyhow!("layer `{}`: bad input {i}", n.name)),
            })
            .collect::<Result<Vec<_>>>()?;
        values.push(add_node(&mut wr, n, &ins, &mut ts).map_err(|e| anyhow!("layer `{}`: {e}", n.name))?);
    }
    Ok(wr)
}
