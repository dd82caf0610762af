//! The training loop: fp32, QAT (STE), DiffQ with a fixed λ or with a size target (dual
//! ascent on λ), and post-training quantisation (a copy of an fp32 checkpoint).

use crate::checkpoint::{self, Checkpoint, LogEntry, Meta};
use crate::config::{Method, RunConfig};
use crate::data::{Corpus, Split};
use crate::ema::WeightAverage;
use crate::loader::{self, Batch};
use crate::model::{self, Arch, Params};
use crate::optim::Adam;
use crate::qstate::QState;
pub use crate::schedule::{annealed_target, dual_step, lr_at};
use anyhow::{bail, Context, Result};
use candle_core::{Device, Tensor};
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// What `train` reports.
#[derive(Clone, Debug, Serialize)]
pub struct TrainSummary {
    pub method: &'static str,
    pub preset: String,
    pub steps: usize,
    pub final_loss: f64,
    pub val_loss: f64,
    pub step_ms_median: Option<f64>,
    /// Median time a step waited for the data loader thread.
    pub data_wait_ms_median: Option<f64>,
    pub lambda: f64,
    /// Exact size of the blob export will write (integer path included when possible).
    pub blob_bytes_estimate: usize,
    pub avg_bits: Option<f64>,
    pub weights: usize,
    pub checkpoint: PathBuf,
}

/// Everything `train` needs.
pub struct TrainRequest {
    pub run: RunConfig,
    pub out: PathBuf,
    pub resume: bool,
    pub device: Device,
    pub progress: bool,
}

fn batch_tensors(b: &Batch, dev: &Device) -> Result<(Tensor, Tensor, Tensor)> {
    let f = Tensor::from_slice(&b.feats, (b.b, b.t, runtime::dsp::N_FEATURES), dev)?;
    let m = Tensor::from_slice(&b.sqrt_mix, (b.b, b.t, runtime::dsp::BINS), dev)?;
    let c = Tensor::from_slice(&b.sqrt_clean, (b.b, b.t, runtime::dsp::BINS), dev)?;
    Ok((f, m, c))
}

/// Loss of `weights` on a batch, without gradients.
fn eval_loss(arch: &Arch, weights: &[Tensor], params: &Params, b: &Batch, dev: &Device) -> Result<f64> {
    let (f, m, c) = batch_tensors(b, dev)?;
    let z = model::forward(arch, weights, &params.bias_tensors(), &f, true)?;
    Ok(f64::from(model::mask_loss(&z, &m, &c)?.to_scalar::<f32>()?))
}

fn save_ckpt(
    out: &Path,
    meta: &Meta,
    params: &Params,
    qs: &QState,
    opt: &Adam,
    bopt: &Adam,
    extra: Vec<(String, Tensor)>,
) -> Result<()> {
    let mut ck = Checkpoint::of_model(meta.clone(), params, qs);
    ck.extend(opt.state("adam"));
    ck.extend(bopt.state("adam_bits"));
    ck.extend(extra);
    ck.save(out)
}

fn median(v: &mut [f64]) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied()
}

/// Runs training and writes `out/checkpoint.safetensors`.
pub fn train(req: TrainRequest) -> Result<TrainSummary> {
    let TrainRequest { run, out, resume, device: dev, progress } = req;
    run.validate()?;
    let RunConfig { method, arch, diffq, train: cfg, from } = run.clone();
    arch.validate()?;
    let mut corpus = Corpus::load(&cfg.speech, &cfg.noise, Split::Train, cfg.max_files)?;
    corpus.vary_music = cfg.vary_music;
    let corpus = Arc::new(corpus);
    let val_corpus = Corpus::load(&cfg.speech, &cfg.noise, Split::Val, cfg.max_files)?;
    let samples = (cfg.seconds * crate::audio::SAMPLE_RATE as f32) as usize;
    if samples < runtime::dsp::HOP || cfg.batch == 0 {
        bail!("batch size and mixture length must be positive (seconds = {})", cfg.seconds);
    }
    let val =
        loader::batch_at(&val_corpus, cfg.seed ^ 0x5a1, 0, cfg.val_mixtures.max(1), samples, (cfg.snr_lo, cfg.snr_hi));
    let mut rng = StdRng::seed_from_u64(cfg.seed);
    let params = Params::init(&arch, &mut rng, &dev)?;
    let qs = QState::new(method, &arch, &diffq, &dev)?;
    let layout = qs.blob_layout(&arch, qs.all_quantized());
    let pvars: Vec<&candle_core::Var> = params.weights.iter().chain(params.biases.iter()).collect();
    let lvars = qs.logit_vars();
    let mut opt = Adam::new(&pvars, cfg.lr)?;
    let mut bopt = Adam::new(&lvars, cfg.bits_lr)?;
    let steps = if matches!(method, Method::Ptq8 | Method::Ptq4) { 0 } else { cfg.steps };
    let freeze_at = cfg.freeze_bits.map(|f| (f * steps as f64) as usize);
    // The weight average starts when the bits are frozen: averaged weights all saw the final noise.
    let ema_start = freeze_at.filter(|_| method == Method::Diffq).unwrap_or(0);
    let mut ema = cfg.ema.map(|d| WeightAverage::new(&pvars, d)).transpose()?;
    let mut meta = Meta::new(&run, &qs);
    let ckpt_path = out.join(checkpoint::CKPT_FILE);
    if resume && ckpt_path.is_file() {
        let ck = Checkpoint::load(&ckpt_path, &dev)?;
        let m = &ck.meta;
        m.check_resumable(&run).with_context(|| format!("cannot resume {}", ckpt_path.display()))?;
        ck.restore_params(&arch, &params)?;
        ck.restore_logits(&qs)?;
        opt.load("adam", m.step as u64, ck.tensors())?;
        bopt.load("adam_bits", m.step as u64, ck.tensors())?;
        if let (Some(e), true) = (ema.as_mut(), m.step > ema_start) {
            e.load((m.step - ema_start) as u64, ck.tensors())?;
            WeightAverage::restore_raw(&pvars, ck.tensors())?; // a finished run holds the average
        }
        meta.step = m.step;
        meta.lambda = m.lambda;
        meta.log_lambda_i = m.log_lambda_i;
        meta.history = m.history.clone();
    } else if let Some(f) = &from {
        Checkpoint::load(f, &dev)
            .and_then(|ck| ck.restore_params(&arch, &params))
            .with_context(|| format!("cannot start from {}", f.display()))?;
    }
    let teacher = match (&from, cfg.distill > 0.0) {
        (Some(f), true) => {
            let t = Checkpoint::load(f, &dev)
                .and_then(|ck| ck.params(&arch, &dev))
                .with_context(|| format!("cannot load the teacher {}", f.display()))?;
            Some((
                t.weight_tensors().iter().map(Tensor::detach).collect::<Vec<_>>(),
                t.bias_tensors().iter().map(Tensor::detach).collect::<Vec<_>>(),
            ))
        }
        _ => None,
    };
    let start = meta.step.min(steps);
    let rx = loader::spawn(corpus, cfg.seed, start as u64, cfg.batch, samples, (cfg.snr_lo, cfg.snr_hi));
    let bar = if progress { indicatif::ProgressBar::new(steps as u64) } else { indicatif::ProgressBar::hidden() };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_position(start as u64);
    let mut times = Vec::new();
    let mut waits = Vec::new();
    let mut last_loss = f64::NAN;
    let mut lambda = meta.lambda;
    let mut log_lambda_i = meta.log_lambda_i.unwrap_or(lambda.max(1e-4).ln());
    // Size of the blob at the initial bits (every group at init_bits): where the annealed target starts.
    let size0 = layout.fixed_bytes() as f64
        + layout.quantized_count() as f64 * f64::from(diffq.init_bits + diffq.extra_bits) / 8.0;
    let mut step = start;
    while step < steps {
        if freeze_at == Some(step) && method == Method::Diffq {
            let budget = cfg.target_bytes.filter(|_| cfg.fill_budget).map(|t| t as usize);
            let fit = qs.snap_logits(&layout, budget)?;
            let over = budget.filter(|&b| fit.bytes > b).map_or(String::new(), |b| {
                format!(", {} over the budget: the export will lower widths", fit.bytes - b)
            });
            bar.suspend(|| {
                eprintln!("step {step}: bits frozen at {} bytes ({} widths moved{over})", fit.bytes, fit.moves)
            });
        }
        let frozen = freeze_at.is_some_and(|s| step >= s);
        let tw = Instant::now();
        let batch = rx.recv().context("the data loader stopped")?;
        waits.push(tw.elapsed().as_secs_f64() * 1000.0);
        let t0 = Instant::now();
        let (f, m, c) = batch_tensors(&batch, &dev)?;
        let mut nrng = StdRng::seed_from_u64(loader::batch_seed(cfg.seed ^ 0xd1ff, step as u64));
        let w = qs.train_weights(&params, &mut nrng)?;
        let z = model::forward(&arch, &w, &params.bias_tensors(), &f, true)?;
        let task = model::mask_loss(&z, &m, &c)?;
        let fit = match &teacher {
            Some((tw, tb)) => {
                let est_t = model::mask_estimate(&model::forward(&arch, tw, tb, &f, true)?, &m)?.detach();
                ((&task * (1.0 - cfg.distill))? + (model::mask_loss(&z, &m, &est_t)? * cfg.distill)?)?
            }
            None => task.clone(),
        };
        let (size_t, exact) = qs.size(&layout)?;
        // Once the bits are frozen the size term is a constant: leave it out of the graph.
        let total = match &size_t {
            Some(s) if lambda > 0.0 && !frozen => (&fit + (s * (lambda / f64::from(1u32 << 20)))?)?,
            _ => fit,
        };
        let loss = f64::from(task.to_scalar::<f32>()?);
        if !loss.is_finite() {
            bail!("loss became {loss} at step {step}: lower the learning rate");
        }
        let grads = total.backward()?;
        opt.lr = lr_at(&cfg, step, steps);
        opt.step(&pvars, &grads)?;
        if !frozen {
            bopt.step(&lvars, &grads)?;
            qs.project_logits()?;
        }
        if let (Some(e), true) = (ema.as_mut(), step >= ema_start) {
            e.update(&pvars)?;
        }
        if let (Some(target), Some(st), false) = (cfg.target_bytes, &size_t, frozen) {
            // PI control of log λ on size <= target (schedule.rs, `dual_step`).
            let cont = f64::from(st.to_scalar::<f32>()?);
            let goal = annealed_target(target, size0, step, steps, cfg.target_anneal);
            (log_lambda_i, lambda) = dual_step(log_lambda_i, cont, goal, cfg.dual_lr);
        }
        times.push(t0.elapsed().as_secs_f64() * 1000.0);
        last_loss = loss;
        step += 1;
        bar.set_position(step as u64);
        if step % 10 == 0 || step == steps {
            let bits = qs
                .avg_bits()?
                .map_or(String::new(), |b| format!(" bits {b:.2} size {:.1} KB λ {lambda:.3e}", exact as f64 / 1000.0));
            bar.set_message(format!("loss {loss:.4}{bits}"));
        }
        let log_now = step % cfg.ckpt_every.max(1) == 0 || step == steps;
        if log_now {
            let vl = eval_loss(&arch, &qs.eval_weights(&params)?, &params, &val, &dev)?;
            meta.history.push(LogEntry {
                step,
                loss,
                val_loss: Some(vl),
                lambda,
                size_bytes: Some(exact as f64),
                avg_bits: qs.avg_bits()?,
            });
            meta.step = step;
            meta.lambda = lambda;
            meta.log_lambda_i = Some(log_lambda_i);
            meta.step_ms_median = median(&mut times.clone());
            save_ckpt(
                &out,
                &meta,
                &params,
                &qs,
                &opt,
                &bopt,
                ema.as_ref().map(WeightAverage::state).unwrap_or_default(),
            )?;
        }
    }
    bar.finish_and_clear();
    // The average goes into the weights; the trained values are kept for a resumed run.
    let mut extra = ema.as_ref().map(WeightAverage::state).unwrap_or_default();
    if let (Some(e), true) = (&ema, step > ema_start) {
        extra.extend(e.copy_to(&pvars)?);
    }
    let val_loss = eval_loss(&arch, &qs.eval_weights(&params)?, &params, &val, &dev)?;
    meta.step = step;
    meta.lambda = lambda;
    meta.log_lambda_i = Some(log_lambda_i);
    if !times.is_empty() {
        meta.step_ms_median = median(&mut times);
    }
    if steps == 0 || meta.history.last().is_none_or(|h| h.step != step) {
        meta.history.push(LogEntry {
            step,
            loss: last_loss,
            val_loss: Some(val_loss),
            lambda,
            size_bytes: None,
            avg_bits: qs.avg_bits()?,
        });
    }
    save_ckpt(&out, &meta, &params, &qs, &opt, &bopt, extra)?;
    let (_, exact) = qs.size(&layout)?;
    Ok(TrainSummary {
        method: method.name(),
        preset: cfg.preset.clone(),
        steps: step,
        final_loss: last_loss,
        val_loss,
        step_ms_median: meta.step_ms_median,
        data_wait_ms_median: median(&mut waits),
        lambda,
        blob_bytes_estimate: exact,
        avg_bits: qs.avg_bits()?,
        weights: arch.macs(),
        checkpoint: ckpt_path,
    })
}
