//! A description's export (the graph of [`super::graph`], calibrated, written, reported). The
//! integer path's scales of an exported graph, measured per value on calibration mixtures
//! with the trainer's forward of the exported (folded, dequantised) weights, and that forward as
//! a denoiser (what the runtime's f32 path should reproduce).

use super::graph::DeployGraph;
use super::{BitsPlan, ExportOptions, ExportReport};
use crate::checkpoint::Trained;
use crate::describe::{Act, Node, Op};
use crate::graph::Described;
use crate::{data, features, graph};
use anyhow::{bail, Result};
use candle_core::{Device, Tensor};
use runtime::writer::GraphCalibration;

/// The features the exported graph reads (log power, or the blob's f16 filterbank's bands).
pub fn features_of(dep: &DeployGraph, specs: &features::Spectra) -> Result<Vec<f32>> {
    match &dep.filterbank {
        Some(fb) => features::band_features(specs, fb),
        None => Ok(features::features(specs)),
    }
}

/// Whether `n`'s output is squashed into `[−1, 1]` (sigmoid or tanh, as an op or fused).
fn squashed(n: &Node) -> bool {
    matches!(n.op, Op::Sigmoid | Op::Tanh) || matches!(n.act, Some(Act::Sigmoid | Act::Tanh))
}

fn max_abs(t: &Tensor) -> Result<f32> {
    Ok(t.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>()?)
}

/// Per value `max|v| / 127` over `mixtures` (a squashed value: 1/127), per node the same of its
/// result before the activation, and the input's.
pub fn calibrate(dep: &DeployGraph, mixtures: &[data::Mixture], dev: &Device) -> Result<GraphCalibration> {
    let (w, b) = dep.tensors(dev)?;
    let n = dep.desc.nodes.len();
    let (mut outs, mut pres, mut in_max) = (vec![0f32; n], vec![0f32; n], 0f32);
    for m in mixtures {
        let specs = features::spectra(dep.stft(), &m.noisy);
        let feats = features_of(dep, &specs)?;
        in_max = feats.iter().fold(in_max, |a, v| a.max(v.abs()));
        let x = Tensor::from_vec(feats, (1, specs.len(), dep.desc.frontend.n_features()), dev)?;
        for (k, (pre, v)) in graph::trace(&dep.desc, &w, &b, &x)?.iter().enumerate() {
            if let (Some(o), Some(p)) = (outs.get_mut(k), pres.get_mut(k)) {
                *o = o.max(max_abs(v)?);
                *p = p.max(max_abs(pre)?);
            }
        }
    }
    let scale = |m: f32| m.max(1e-6) / 127.0;
    let out_scales =
        dep.desc.nodes.iter().zip(&outs).map(|(n, &m)| if squashed(n) { 1.0 / 127.0 } else { scale(m) }).collect();
    Ok(GraphCalibration {
        input_scale: scale(in_max),
        out_scales,
        pre_act_scales: pres.iter().map(|&m| scale(m)).collect(),
    })
}

/// Denoises `noisy` with the trainer's candle forward of the exported graph: its mask (per bin,
/// or per band spread by the blob's filterbank) applied to the spectra and resynthesised.
pub fn enhance(dep: &DeployGraph, noisy: &[f32], dev: &Device) -> Result<Vec<f32>> {
    if dep.desc.frontend.output != crate::describe::Output::Mask {
        bail!("a classifier's graph does not denoise");
    }
    let specs = features::spectra(dep.stft(), noisy);
    let feats = features_of(dep, &specs)?;
    let (w, b) = dep.tensors(dev)?;
    let x = Tensor::from_vec(feats, (1, specs.len(), dep.desc.frontend.n_features()), dev)?;
    let z = graph::forward(&dep.desc, &w, &b, graph::norm::Norms::Folded, &x, false)?;
    let fb = match &dep.filterbank {
        Some(fb) => Some(Tensor::from_slice(fb, (fb.len() / specs.stft.bins(), specs.stft.bins()), dev)?),
        None => None,
    };
    let gains = graph::bin_gains(&z, fb.as_ref())?.flatten_all()?.to_device(&Device::Cpu)?.to_vec1::<f32>()?;
    features::synthesize(&specs, &gains, noisy.len())
}

/// A written graph blob and what it was written from.
struct Written {
    blob: Vec<u8>,
    has_int: bool,
    /// Planned arena and a chain's, in elements.
    arena: (usize, usize),
    dep: DeployGraph,
}

/// The graph of `plans` deployed, calibrated (with the integer path) and written.
fn written(
    t: &Trained,
    d: &Described,
    plans: &BitsPlan,
    mixes: Option<&[data::Mixture]>,
    dev: &Device,
) -> Result<Written> {
    let dep = super::graph::deploy(t, d, plans)?;
    let calib = mixes.map(|m| calibrate(&dep, m, dev)).transpose()?;
    let (blob, arena) = super::graph::write_graph(&dep, calib.as_ref())?;
    Ok(Written { blob, has_int: calib.is_some(), arena, dep })
}

/// A description's checkpoint → (blob, report, deployed graph). With a size target (DiffQ),
/// the widths move to fit it as for the built-in model ([`super::fit_to_target`]).
pub fn export(
    t: &Trained,
    d: &Described,
    o: &ExportOptions,
    dev: &Device,
) -> Result<(Vec<u8>, ExportReport, DeployGraph)> {
    let plans = super::graph::plans(t, d, o)?;
    let mixes = if o.with_int { Some(super::calibration_mixtures(t, o)?) } else { None };
    let mut w = written(t, d, &plans, mixes.as_deref(), dev)?;
    let target = super::size_target(t, o);
    let (mut fitted, mut final_plans) = (None, plans.clone());
    if let Some(tb) = target {
        let (moved, bytes, moves, fit) = super::graph_fit::fit(t, &plans, w.blob.len(), tb, o.allow_below_min_bits)?;
        if let Some(p) = moved {
            w = written(t, d, &p, mixes.as_deref(), dev)?;
            final_plans = p;
        }
        super::check_predicted(&w.blob, bytes)?;
        fitted = Some((moves, fit));
    }
    let Written { blob, has_int, arena, dep } = w;
    let base = ExportReport::new(t, o, &blob, d.desc.n_weights(), super::plan_avg_bits(&final_plans), has_int);
    let (adjusted_groups, budget_fit) = fitted.map_or((0, None), |(m, f)| (m, Some(f)));
    let report =
        ExportReport { target_bytes: target, adjusted_groups, budget_fit, arena_elements: Some(arena), ..base };
    Ok((blob, report, dep))
}
