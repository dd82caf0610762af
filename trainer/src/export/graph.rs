//! A description's checkpoint → format v5 graph blob: every weight tensor truly quantised at its
//! checkpoint widths, the feature normalisation folded into every layer reading the input, the
//! mel filterbank stored as f16, and the graph written by `runtime::writer::GraphWriter` (then
//! parsed back by it).

use super::{BitsPlan, ExportOptions};
use crate::checkpoint::Trained;
use crate::describe::write::{graph_writer, keep_layout, GraphTensor, KEEP_INT_BITS};
use crate::describe::{ModelDesc, Node, Src, WeightSpec};
use crate::diffq::{quantize, size, QuantLayout};
use crate::graph::norm::{self, BatchNorm};
use crate::graph::Described;
use anyhow::{anyhow, bail, Result};
use candle_core::{Device, Tensor};
use runtime::writer::GraphCalibration;

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

    /// The STFT of its front end (descriptions are checked to run at 8 or 16 kHz).
    pub fn stft(&self) -> crate::features::Stft {
        self.desc.frontend.stft()
    }
}

/// Tensor `k`'s layout and group widths: the checkpoint's; with `ptq_bits`, that width for every
/// group of a tensor the description quantises (an fp32 checkpoint's in the description's
/// layout); [`KEEP_INT_BITS`] for an unquantised tensor of an integer blob, else none (f32).
fn tensor_plan(
    t: &Trained,
    k: usize,
    n: &Node,
    w: &WeightSpec,
    o: &ExportOptions,
) -> Result<Option<(QuantLayout, Vec<u8>)>> {
    let trained = t.qs.layouts.get(k).copied().flatten();
    Ok(match (trained.or(w.layout.filter(|_| o.ptq_bits.is_some())), t.qs.group_bits(k)?, o.ptq_bits) {
        (Some(l), _, Some(b)) => Some((l, vec![b; l.n_groups])),
        (Some(l), Some(gb), None) => Some((l, gb)),
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

/// Every tensor's plan (see [`tensor_plan`]), in the description's tensor order.
pub fn plans(t: &Trained, d: &Described, o: &ExportOptions) -> Result<BitsPlan> {
    let mut out = Vec::new();
    for n in &d.desc.nodes {
        for w in &n.weights {
            out.push(tensor_plan(t, out.len(), n, w, o)?);
        }
    }
    Ok(out)
}

/// Every tensor of the description folded and quantised with `plans`; the graph's layers keep no
/// norm (folded into their weights).
pub fn deploy(t: &Trained, d: &Described, plans: &BitsPlan) -> Result<DeployGraph> {
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
        for (j, _) in n.weights.iter().enumerate() {
            let k = tensors.len();
            let plan = plans.get(k).cloned().ok_or_else(|| anyhow!("layer `{}`: no plan for tensor {k}", n.name))?;
            let name = format!("{}.w{j}", n.name);
            tensors.push(deploy_tensor(t, k, &name, plan, reads_input && j == 0, bn.filter(|_| j == 0))?);
        }
    }
    let filterbank = d.filterbank().map(|fb| fb.iter().map(|&v| half::f16::from_f32(v).to_f32()).collect());
    let mut desc = m.clone();
    desc.nodes.iter_mut().for_each(|n| n.norm = None);
    Ok(DeployGraph { desc, tensors, filterbank })
}

/// Writes the blob (integer path when `calib` is given) and parses it back; also returns the
/// planned arena and a chain's (twice the widest value), in elements.
pub fn write_graph(dep: &DeployGraph, calib: Option<&GraphCalibration>) -> Result<(Vec<u8>, (usize, usize))> {
    let wr = graph_writer(&dep.desc, &dep.tensors, dep.filterbank.as_deref())?;
    let arena = wr.arena_lens();
    let blob = match calib {
        Some(c) => wr.finish_with_int(c)?,
        None => wr.finish()?,
    };
    runtime::Model::parse(&blob).map_err(|e| anyhow!("exported blob: {e}"))?;
    Ok((blob, arena))
}
