//! The training loop: fp32, QAT (STE), DiffQ with a fixed λ or with a size target (dual
//! ascent on λ), and post-training quantisation (a copy of an fp32 checkpoint).
//!
//! `train` sets a run up (`TrainState`, fresh, `--from` a checkpoint or resumed), makes its
//! steps (`TrainState::step`) with the bit widths frozen on the way (`--freeze-bits`) and λ
//! adapted after each (`SizeControl`), logs and checkpoints it every `ckpt_every` steps, and
//! at the end puts the weight average in (`--ema`) and writes the final checkpoint.

mod bench;
mod progress;
mod state;
mod step;

pub use bench::{bench_step, BenchSummary};
use state::TrainState;
pub use step::StepImpl;
use step::{eval_loss, StepContext, Teacher};

use crate::checkpoint::{self, Checkpoint, CheckpointError, LogEntry, Meta};
use crate::config::{Method, RunConfig};
use crate::data::{Corpus, Split, SplitMode};
use crate::diffq::size::BlobLayout;
use crate::diffq::DiffqConfig;
use crate::fused::FusedNet;
use crate::loader::{self, Batch};
use crate::schedule::SizeControl;
use anyhow::{Context, Result};
use candle_core::Device;
use progress::Progress;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::mpsc::Receiver;
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
    /// Wall-clock seconds of this invocation's steps, and how many it made (a resumed run
    /// counts from where it resumed).
    pub seconds: f64,
    pub steps_run: usize,
}

/// Everything `train` needs.
pub struct TrainRequest {
    pub run: RunConfig,
    /// Output directory of the checkpoint.
    pub out: PathBuf,
    /// Continue from `out`'s checkpoint if there is one.
    pub resume: bool,
    /// Start over even if `out` holds a run (without it, or `resume`, that is an error).
    pub force: bool,
    pub device: Device,
    /// How each step computes the network and its gradients, and on how many CPU threads.
    pub step_impl: StepImpl,
    pub threads: usize,
    /// Show a progress bar.
    pub progress: bool,
}

/// A run in progress: what does not change from step to step.
struct Session<'a> {
    run: &'a RunConfig,
    steps: usize,
    out: &'a Path,
    dev: &'a Device,
    layout: BlobLayout,
    teacher: Option<Teacher>,
    fused: Option<FusedNet>,
    /// The fixed validation batch.
    val: Batch,
}

/// The training and validation data of a run: the training corpus and the fixed validation batch.
fn load_data(run: &RunConfig) -> Result<(Arc<Corpus>, Batch)> {
    let cfg = &run.train;
    let sel = cfg.data();
    if sel.split == SplitMode::All {
        eprintln!("warning: --split all: validation draws from the training files (its loss measures fit, not generalisation)");
    }
    let rate = run.stft().rate();
    let mut corpus = Corpus::load_at(&sel, Split::Train, cfg.max_files, rate)?;
    corpus.vary_music = cfg.vary_music;
    let val_corpus = Corpus::load_at(&sel, Split::Val, cfg.max_files, rate)?;
    let n = cfg.val_mixtures.max(1);
    let val = loader::batch_at(
        &val_corpus,
        cfg.seed ^ 0x5a1,
        0,
        (n, cfg.samples(run.stft())),
        (cfg.snr_lo, cfg.snr_hi),
        &run.frontend(),
    );
    Ok((Arc::new(corpus), val))
}

/// The run's state and metadata: resumed from `out`'s checkpoint (with `resume`), started from
/// `--from`'s weights, or fresh.
fn setup(run: &RunConfig, steps: usize, out: &Path, resume: bool, dev: &Device) -> Result<(TrainState, Meta)> {
    let mut st = TrainState::new(run, steps, dev)?;
    let mut meta = Meta::new(run, &st.qs);
    let ckpt_path = out.join(checkpoint::CKPT_FILE);
    if resume && ckpt_path.is_file() {
        Checkpoint::load(&ckpt_path, dev)
            .and_then(|ck| st.resume(&ck, run, &mut meta))
            .with_context(|| format!("cannot resume {}", ckpt_path.display()))?;
    } else if let Some(f) = &run.from {
        Checkpoint::load(f, dev)
            .and_then(|ck| ck.restore_params(&run.arch, &st.params))
            .with_context(|| format!("cannot start from {}", f.display()))?;
    }
    Ok((st, meta))
}

/// Size of the blob with every group at `init_bits`: where the annealed size target starts.
fn initial_size(layout: &BlobLayout, diffq: &DiffqConfig) -> f64 {
    layout.fixed_bytes() as f64 + layout.quantized_count() as f64 * f64::from(diffq.init_bits + diffq.extra_bits) / 8.0
}

/// Runs training and writes `out/checkpoint.safetensors`.
pub fn train(req: TrainRequest) -> Result<TrainSummary> {
    let TrainRequest { run, out, resume, force, device: dev, step_impl, threads, progress } = req;
    run.validate()?;
    if run.model.is_none() {
        run.arch.validate()?;
    }
    if !resume && !force && out.join(checkpoint::CKPT_FILE).exists() {
        return Err(CheckpointError::RunExists(out).into());
    }
    let steps = run.steps();
    let (st, meta) = setup(&run, steps, &out, resume, &dev)?;
    let (corpus, val) = load_data(&run)?;
    let layout = st.layout(&run);
    let teacher = Teacher::load(&run, &dev)?;
    // a description runs through candle's graph (the fused op computes the built-in model only)
    let fused = step_impl.fused(&dev, threads).filter(|_| run.model.is_none());
    let s = Session { run: &run, steps, out: &out, dev: &dev, layout, teacher, fused, val };
    let ctl = SizeControl::new(meta.lambda, meta.log_lambda_i, initial_size(&s.layout, &run.diffq));
    let start = meta.step.min(steps);
    let mut prog = Progress::new(progress, steps, start);
    let cfg = &run.train;
    let rx = loader::spawn(
        corpus,
        cfg.seed,
        start as u64,
        (cfg.batch, cfg.samples(run.stft())),
        (cfg.snr_lo, cfg.snr_hi),
        &run.frontend(),
    );
    let mut r = Running { st, meta, ctl, last_loss: f64::NAN };
    for step in start..steps {
        s.step(&mut r, &mut prog, &rx, step)?;
    }
    prog.finish();
    s.finish(r, &prog)
}

/// The state of a run between steps.
struct Running {
    st: TrainState,
    meta: Meta,
    ctl: SizeControl,
    /// Task loss of the last step (NaN before the first).
    last_loss: f64,
}

impl Running {
    /// Brings the metadata up to step `step`: λ, its controller, the median step time.
    fn sync_meta(&mut self, step: usize, prog: &Progress) {
        self.meta.step = step;
        self.meta.lambda = self.ctl.lambda;
        self.meta.log_lambda_i = Some(self.ctl.log_i);
        self.meta.step_ms_median = prog.step_ms_median().or(self.meta.step_ms_median);
    }
}

impl Session<'_> {
    /// Step `step`: the freeze when it is due, the step itself, λ's update, the status line,
    /// and the log point and checkpoint when they are due.
    fn step(&self, r: &mut Running, prog: &mut Progress, rx: &Receiver<Batch>, step: usize) -> Result<()> {
        let cfg = &self.run.train;
        if cfg.freeze_step(self.steps) == Some(step) && self.run.method == Method::Diffq {
            prog.note(&r.st.freeze_bits(cfg, &self.layout, step)?);
        }
        let batch = prog.next_batch(rx)?;
        let t0 = Instant::now();
        let cx = StepContext {
            run: self.run,
            steps: self.steps,
            layout: &self.layout,
            teacher: self.teacher.as_ref(),
            dev: self.dev,
            fused: self.fused.as_ref(),
        };
        let out = r.st.step(&cx, &batch, step, r.ctl.lambda)?;
        if let (Some(size), Some(_), false) = (&out.size, cfg.target_bytes, cfg.bits_frozen(step, self.steps)) {
            r.ctl.update(cfg, f64::from(size.to_scalar::<f32>()?), step, self.steps);
        }
        r.last_loss = out.loss;
        let done = step + 1;
        let lambda = r.ctl.lambda;
        prog.stepped(t0, done, done == self.steps, || {
            let bits = r.st.qs.avg_bits()?.map_or(String::new(), |b| {
                format!(" bits {b:.2} size {:.1} KB λ {lambda:.3e}", out.exact as f64 / 1000.0)
            });
            Ok(format!("loss {:.4}{bits}", out.loss))
        })?;
        if done % cfg.ckpt_every.max(1) == 0 || done == self.steps {
            let val_loss = self.val_loss(&r.st)?;
            r.meta.history.push(LogEntry {
                step: done,
                loss: out.loss,
                val_loss: Some(val_loss),
                lambda,
                size_bytes: Some(out.exact as f64),
                avg_bits: r.st.qs.avg_bits()?,
            });
            r.sync_meta(done, prog);
            r.st.checkpoint(&r.meta, Vec::new()).save(self.out)?;
        }
        Ok(())
    }

    /// Loss on the validation batch under the exported quantisation.
    fn val_loss(&self, st: &TrainState) -> Result<f64> {
        eval_loss(self.run, &st.qs.eval_weights(&st.params)?, &st.params, &self.val, self.dev)
    }

    /// The end: the weight average into the weights, the final log point (unless the last step
    /// made one) and checkpoint, and the summary.
    fn finish(&self, mut r: Running, prog: &Progress) -> Result<TrainSummary> {
        let raw = r.st.apply_average(self.steps)?;
        let val_loss = self.val_loss(&r.st)?;
        r.sync_meta(self.steps, prog);
        if self.steps == 0 || r.meta.history.last().is_none_or(|h| h.step != self.steps) {
            r.meta.history.push(LogEntry {
                step: self.steps,
                loss: r.last_loss,
                val_loss: Some(val_loss),
                lambda: r.ctl.lambda,
                size_bytes: None,
                avg_bits: r.st.qs.avg_bits()?,
            });
        }
        r.st.checkpoint(&r.meta, raw).save(self.out)?;
        let (_, exact) = r.st.qs.size(&self.layout)?;
        let (seconds, steps_run) = prog.elapsed(self.steps);
        Ok(TrainSummary {
            seconds,
            steps_run,
            method: self.run.method.name(),
            preset: self.run.train.preset.clone(),
            steps: self.steps,
            final_loss: r.last_loss,
            val_loss,
            step_ms_median: r.meta.step_ms_median,
            data_wait_ms_median: prog.data_wait_ms_median(),
            lambda: r.ctl.lambda,
            blob_bytes_estimate: exact,
            avg_bits: r.st.qs.avg_bits()?,
            weights: self.run.n_weights(),
            checkpoint: self.out.join(checkpoint::CKPT_FILE),
        })
    }
}
