//! A description's checkpoint → format v5 graph blob: every weight tensor truly quantised at its
//! checkpoint widths, the feature normalisation folded into every layer reading the input, the
//! mel filterbank stored as f16, and the graph written by `runtime::writer::GraphWriter` (then
//! parsed back by it).

use super::ExportOptions;
use crate::checkpoint::Trained;
use crate::describe::{Act, Features, ModelDesc, Node, Op, Output, Src, WeightSpec};
use crate::diffq::{quantize, size, QuantLayout};
use crate::graph::norm::{self, BatchNorm};
use crate::graph::Described;
use anyhow::{anyhow, bail, Result};
use candle_core::{Device, Tensor};
use runtime::format::{self as fmt, FrontEnd};
use runtime::writer::{ConvSpec, GraphCalibration, GraphWriter, TensorId, ValueId};

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

/// The exported graph: the description, its tensors in order (a GRU's `W_x` then `W_h`), and
/// the filterbank of a band front end as the blob stores it (f16-rounded).
#[derive(Clone, Debug)]
pub struct DeployGraph {
    pub desc: ModelDesc,
    pub tensors: Vec<GraphTensor>,
    pub filterbank: Option<Vec<f32>>,
}

impl DeployGraph {
    /// Weight and bias tensors for [`crate::graph::forward`] with `normalize = false`.
    pub fn tensors(&self, dev: &Device) -> Result<(Vec<Tensor>, Vec<Tensor>)> {
        let (mut w, mut b) = (Vec::new(), Vec::new());
        for t in &self.tensors {
            w.push(Tensor::from_slice(&t.weight, (t.rows, t.weight.len() / t.rows.max(1)), dev)?);
            b.push(Tensor::from_slice(&t.bias, t.bias.len(), dev)?);
        }
        Ok((w, b))
    }
}

/// Row-major groups for a `keep = "f32"` tensor of an integer blob: the largest multiple of 8 up
/// to 64 dividing what the runtime's kernels need whole groups of (a tap's inputs of a plain
/// conv1d, a row of a linear or gru, the whole tensor of a grouped conv1d or conv2d).
fn keep_layout(n: &Node, w: &WeightSpec) -> Result<QuantLayout> {
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

/// Tensor `k`'s layout and group widths: the checkpoint's (`ptq_bits` for all its groups when
/// given), [`KEEP_INT_BITS`] for an unquantised tensor of an integer blob, else none (f32).
fn tensor_plan(
    t: &Trained,
    k: usize,
    n: &Node,
    w: &WeightSpec,
    o: &ExportOptions,
) -> Result<Option<(QuantLayout, Vec<u8>)>> {
    Ok(match (t.qs.layouts.get(k).copied().flatten(), t.qs.group_bits(k)?) {
        (Some(l), Some(gb)) => Some((l, o.ptq_bits.map_or(gb, |b| vec![b; l.n_groups]))),
        _ if o.with_int => {
            let l = keep_layout(n, w)?;
            Some((l, vec![KEEP_INT_BITS; l.n_groups]))
        }
        _ => None,
    })
}

/// Tensor `k` quantised with `plan`: first its batch norm `bn` folded in (running statistics,
/// [`norm::fold`]); then, with `fold` (the first tensor of a layer reading the input),
/// `W' = W·2^−in_shift` (exact); then quantised, and `b' = b − in_mean·Σ_row W'_q`.
fn deploy_tensor(
    t: &Trained,
    k: usize,
    name: &str,
    plan: Option<(QuantLayout, Vec<u8>)>,
    fold: bool,
    bn: Option<&BatchNorm>,
) -> Result<GraphTensor> {
    let var = t.params.weights.get(k).ok_or_else(|| anyhow!("missing weight tensor {k}"))?;
    let rows = var.as_tensor().dim(0)?;
    let mut w = var.as_tensor().flatten_all()?.to_device(&Device::Cpu)?.to_vec1::<f32>()?;
    let bvar = t.params.biases.get(k).ok_or_else(|| anyhow!("missing bias {k}"))?;
    let mut bias = bvar.as_tensor().to_device(&Device::Cpu)?.to_vec1::<f32>()?;
    if let Some(bn) = bn {
        let v = |x: &candle_core::Var| x.as_tensor().to_device(&Device::Cpu)?.to_vec1::<f32>();
        norm::fold(&mut w, &mut bias, &v(&bn.gamma)?, &v(&bn.mean)?, &v(&bn.var)?);
    }
    crate::diffq::check_finite(name, &w)?;
    crate::diffq::check_finite(&format!("{name} bias"), &bias)?;
    let f = t.model.as_ref().map(|d| d.desc.frontend.clone()).ok_or_else(|| anyhow!("not a description"))?;
    if fold {
        let s = (-f.in_shift as f32).exp2();
        w.iter_mut().for_each(|v| *v *= s);
    }
    let (weight, quant) = match plan {
        Some((l, gb)) => {
            let q = quantize::quantize(name, &l.to_storage(&w), &gb, l.group_size)?;
            (l.from_storage(&quantize::dequantize(&q)), Some((q, l.blob_layout())))
        }
        None => (w, None),
    };
    if fold {
        let row = weight.len() / rows.max(1);
        for (o, b) in bias.iter_mut().enumerate() {
            let sum: f64 = weight.get(o * row..(o + 1) * row).unwrap_or(&[]).iter().map(|&v| f64::from(v)).sum();
            *b = (f64::from(*b) - f64::from(f.in_mean) * sum) as f32;
        }
    }
    let kind = size::bias_kind(quant.is_some());
    bias.iter_mut().for_each(|b| *b = size::stored_value(*b, kind));
    Ok(GraphTensor { rows, weight, bias, quant })
}

/// Every tensor of the description folded and quantised (see [`tensor_plan`]); the graph's
/// layers keep no norm (folded into their weights).
pub fn deploy(t: &Trained, d: &Described, o: &ExportOptions) -> Result<DeployGraph> {
    let m = &d.desc;
    let mut tensors = Vec::new();
    let mut norms = t.params.norms.iter();
    for n in &m.nodes {
        let bn = match n.norm {
            Some(_) => Some(norms.next().ok_or_else(|| anyhow!("layer `{}`: no batch norm state", n.name))?),
            None => None,
        };
        let reads_input = n.inputs.contains(&Src::Input);
        if reads_input && !(n.op.is_weighted() && n.inputs.len() == 1) {
            bail!(
                "layer `{}` reads the input directly: only a weighted layer with one input can take the \
                 feature normalisation (in_mean, in_shift) folded in",
                n.name
            );
        }
        for (j, w) in n.weights.iter().enumerate() {
            let k = tensors.len();
            let plan = tensor_plan(t, k, n, w, o)?;
            let name = format!("{}.w{j}", n.name);
            tensors.push(deploy_tensor(t, k, &name, plan, reads_input && j == 0, bn.filter(|_| j == 0))?);
        }
    }
    let filterbank = d.filterbank().map(|fb| fb.iter().map(|&v| half::f16::from_f32(v).to_f32()).collect());
    let mut desc = m.clone();
    desc.nodes.iter_mut().for_each(|n| n.norm = None);
    Ok(DeployGraph { desc, tensors, filterbank })
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

/// The graph of `dep` in a [`GraphWriter`], ready to finish: its input is one channel of bands
/// when a conv2d reads it, else a frame of features.
pub fn graph_writer(dep: &DeployGraph) -> Result<GraphWriter> {
    let m = &dep.desc;
    let fe = front_end(m)?;
    let two_d = m.nodes.iter().any(|n| matches!(n.op, Op::Conv2d { .. }) && n.inputs.contains(&Src::Input));
    let mut wr = if two_d { GraphWriter::new_2d(fe) } else { GraphWriter::new(fe) };
    if let Some(fb) = &dep.filterbank {
        let t = wr.f16_tensor(fb)?;
        wr.filterbank(t);
    }
    let mut values: Vec<ValueId> = Vec::with_capacity(m.nodes.len());
    let mut ts = dep.tensors.iter();
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

/// Writes the blob (integer path when `calib` is given) and parses it back; also returns the
/// planned arena and a chain's (twice the widest value), in elements.
pub fn write_graph(dep: &DeployGraph, calib: Option<&GraphCalibration>) -> Result<(Vec<u8>, (usize, usize))> {
    let wr = graph_writer(dep)?;
    let arena = wr.arena_lens();
    let blob = match calib {
        Some(c) => wr.finish_with_int(c)?,
        None => wr.finish()?,
    };
    runtime::Model::parse(&blob).map_err(|e| anyhow!("exported blob: {e}"))?;
    Ok((blob, arena))
}
