//! `trainer bench-step`: the time of one training step (forward, backward, updates) on a fixed
//! batch, without the data loader, checkpoints or logging; the batch and the initial weights can
//! be written out for the PyTorch comparison in `scripts/step-compare/`.

use super::progress::median;
use super::state::TrainState;
use super::step::{StepContext, StepImpl, Teacher};
use crate::config::RunConfig;
use crate::data::{Corpus, Split};
use crate::loader::{self, Batch};
use anyhow::{Context, Result};
use candle_core::{Device, Tensor};
use serde::Serialize;
use std::path::Path;
use std::time::Instant;

/// What `bench-step` reports (milliseconds are medians over the measured steps).
#[derive(Clone, Debug, Serialize)]
pub struct BenchSummary {
    pub method: &'static str,
    pub preset: String,
    pub step_impl: StepImpl,
    pub threads: usize,
    pub batch: usize,
    pub frames: usize,
    pub steps: usize,
    pub step_ms: f64,
    /// Weights under the method's noise or quantisation, forward pass and loss.
    pub forward_ms: f64,
    pub backward_ms: f64,
    /// Adam on weights and bit logits, the weight average.
    pub update_ms: f64,
    /// Task loss of the first and the last measured step.
    pub first_loss: f64,
    pub last_loss: f64,
}

/// Times `warmup + steps` steps of `run` on its first training batch, reporting the last `steps`.
pub fn bench_step(
    run: &RunConfig,
    imp: StepImpl,
    (warmup, steps): (usize, usize),
    threads: usize,
    dump: Option<&Path>,
    dev: &Device,
) -> Result<BenchSummary> {
    run.validate()?;
    if run.model.is_none() {
        run.arch.validate()?;
    }
    let cfg = &run.train;
    let corpus = Corpus::load_at(&cfg.data(), Split::Train, cfg.max_files, run.stft().rate())?;
    let batch = loader::batch_at(
        &corpus,
        cfg.seed,
        0,
        (cfg.batch, cfg.samples(run.stft())),
        (cfg.snr_lo, cfg.snr_hi),
        &run.frontend(),
    );
    let total = warmup + steps;
    let mut st = TrainState::new(run, total, dev)?;
    if let Some(dir) = dump {
        dump_inputs(dir, run, &st, &batch).with_context(|| format!("cannot write {}", dir.display()))?;
    }
    let layout = st.layout(run);
    let teacher = Teacher::load(run, dev)?;
    let fused = imp.fused(dev, threads).filter(|_| run.model.is_none());
    let cx = StepContext { run, steps: total, layout: &layout, teacher: teacher.as_ref(), dev, fused: fused.as_ref() };
    let (mut all, mut fwd, mut bwd, mut upd, mut losses) = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for step in 0..total {
        let t0 = Instant::now();
        let out = st.step(&cx, &batch, step, cfg.lambda)?;
        let ms = t0.elapsed().as_secs_f64() * 1000.0;
        if step >= warmup {
            all.push(ms);
            fwd.push(out.phase_ms[0]);
            bwd.push(out.phase_ms[1]);
            upd.push(out.phase_ms[2]);
            losses.push(out.loss);
        }
    }
    let med = |v: &mut Vec<f64>| median(v).unwrap_or(f64::NAN);
    Ok(BenchSummary {
        method: run.method.name(),
        preset: cfg.preset.clone(),
        step_impl: imp,
        threads,
        batch: batch.b,
        frames: batch.t,
        steps,
        step_ms: med(&mut all),
        forward_ms: med(&mut fwd),
        backward_ms: med(&mut bwd),
        update_ms: med(&mut upd),
        first_loss: losses.first().copied().unwrap_or(f64::NAN),
        last_loss: losses.last().copied().unwrap_or(f64::NAN),
    })
}

/// Writes `dir/inputs.safetensors` (the batch `feats`, `sqrt_mix`, `sqrt_clean` and the initial
/// weights `w{i}`, `b{i}`) and `dir/inputs.json` (architecture and training settings).
fn dump_inputs(dir: &Path, run: &RunConfig, st: &TrainState, b: &Batch) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    let (f, m, c) = super::step::batch_tensors(b, &Device::Cpu)?;
    let mut tensors: Vec<(String, Tensor)> =
        vec![("feats".into(), f), ("sqrt_mix".into(), m), ("sqrt_clean".into(), c)];
    for (name, v) in st.params.named() {
        tensors.push((name, v.as_tensor().to_device(&Device::Cpu)?));
    }
    candle_core::safetensors::save(&tensors.into_iter().collect(), dir.join("inputs.safetensors"))?;
    let a = &run.arch;
    let meta = serde_json::json!({
        "n_features": a.n_features, "width": a.width, "kernel": a.kernel, "dilations": a.dilations,
        "n_out": a.n_out, "in_mean": a.in_mean, "in_scale": a.in_scale(), "lr": run.train.lr,
    });
    std::fs::write(dir.join("inputs.json"), serde_json::to_string_pretty(&meta)?)?;
    Ok(())
}
