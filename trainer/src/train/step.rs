//! One training step: the forward pass under the method's weights (pseudo quantisation noise,
//! fake quantisation or none), the task loss blended with the teacher's (distillation) and the
//! size penalty, the backward pass and the updates (weights, bit logits, weight average).

use super::state::{param_vars, TrainState};
use crate::checkpoint::Checkpoint;
use crate::config::RunConfig;
use crate::diffq::size::BlobLayout;
use crate::fused::FusedNet;
use crate::graph::{self, norm::Norms};
use crate::loader::{self, Batch};
use crate::model::{self, Arch, Params};
use crate::schedule::lr_at;
use anyhow::{bail, Context, Result};
use candle_core::backprop::GradStore;
use candle_core::{Device, Tensor};
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::Serialize;
use std::time::Instant;

/// How a step computes the network, the loss and their gradients.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum StepImpl {
    /// One fused CPU op with a hand-written backward pass ([`crate::fused`]); the graph on
    /// other devices.
    Fused,
    /// candle's graph and autograd (float sums in the order `scripts/reproduce-conv8k.sh` needs).
    Graph,
}

impl StepImpl {
    /// The fused network of a run on `dev` with `threads` threads (none for the graph or off the CPU).
    pub fn fused(self, dev: &Device, threads: usize) -> Option<FusedNet> {
        (self == StepImpl::Fused && dev.is_cpu()).then(|| FusedNet::new(threads))
    }
}

/// The `--from` model as the distillation teacher: its estimate stands in for part of the target.
pub struct Teacher {
    weights: Vec<Tensor>,
    biases: Vec<Tensor>,
    /// Weight of the distillation term.
    alpha: f64,
}

impl Teacher {
    /// The teacher of `run` (with `distill > 0` and a `--from` checkpoint), else none.
    pub fn load(run: &RunConfig, dev: &Device) -> Result<Option<Teacher>> {
        let (Some(from), true) = (&run.from, run.train.distill > 0.0) else { return Ok(None) };
        let t = Checkpoint::load(from, dev)
            .and_then(|ck| ck.params(&run.arch, dev))
            .with_context(|| format!("cannot load the teacher {}", from.display()))?;
        Ok(Some(Teacher {
            weights: t.weight_tensors().iter().map(Tensor::detach).collect(),
            biases: t.bias_tensors().iter().map(Tensor::detach).collect(),
            alpha: run.train.distill,
        }))
    }

    /// `(1 − α)·task + α·MSE` of the student's logits `z` to the teacher's estimate.
    fn blend(&self, arch: &Arch, task: &Tensor, z: &Tensor, feats: &Tensor, sqrt_mix: &Tensor) -> Result<Tensor> {
        let est = model::mask_estimate(&model::forward(arch, &self.weights, &self.biases, feats, true)?, sqrt_mix)?;
        let distance = model::mask_loss(z, sqrt_mix, &est.detach())?;
        Ok(((task * (1.0 - self.alpha))? + (distance * self.alpha)?)?)
    }
}

/// What every step of a run shares.
pub struct StepContext<'a> {
    pub run: &'a RunConfig,
    /// Steps of the run.
    pub steps: usize,
    /// The blob's size structure (the size penalty and the exact size).
    pub layout: &'a BlobLayout,
    pub teacher: Option<&'a Teacher>,
    pub dev: &'a Device,
    /// The fused CPU network (else the candle graph).
    pub fused: Option<&'a FusedNet>,
}

/// What a step reports.
pub struct StepOut {
    /// The task loss (without the distillation and size terms).
    pub loss: f64,
    /// The differentiable blob size before the update (DiffQ).
    pub size: Option<Tensor>,
    /// The exact blob size at the rounded bits before the update.
    pub exact: usize,
    /// Milliseconds of the forward pass (weights, network, loss terms, size), the backward pass
    /// and the updates.
    pub phase_ms: [f64; 3],
}

/// Features, `|X|^0.5` and `|S|^0.5` of a batch as tensors.
pub fn batch_tensors(b: &Batch, dev: &Device) -> Result<(Tensor, Tensor, Tensor)> {
    let f = Tensor::from_slice(&b.feats, (b.b, b.t, b.width), dev)?;
    let m = Tensor::from_slice(&b.sqrt_mix, (b.b, b.t, b.bins), dev)?;
    let c = Tensor::from_slice(&b.sqrt_clean, (b.b, b.t, b.bins), dev)?;
    Ok((f, m, c))
}

/// The task loss of `run`'s model with `weights` and `biases` (and its batch norms as `norms`
/// says) on batch tensors, and its logits.
fn task_loss(
    run: &RunConfig,
    weights: &[Tensor],
    biases: &[Tensor],
    norms: Norms,
    (f, m, c): Bt,
) -> Result<(Tensor, Tensor)> {
    match &run.model {
        Some(d) => {
            let z = graph::forward(&d.desc, weights, biases, norms, f, true)?;
            let fb = d.filterbank_tensor(f.device())?;
            Ok((graph::task_loss(&z, fb.as_ref(), m, c)?, z))
        }
        None => {
            let z = model::forward(&run.arch, weights, biases, f, true)?;
            Ok((model::mask_loss(&z, m, c)?, z))
        }
    }
}

/// Features, `|X|^0.5` and `|S|^0.5`.
type Bt<'a> = (&'a Tensor, &'a Tensor, &'a Tensor);

/// Loss of `weights` on a batch, without gradients.
pub fn eval_loss(run: &RunConfig, weights: &[Tensor], params: &Params, b: &Batch, dev: &Device) -> Result<f64> {
    let (f, m, c) = batch_tensors(b, dev)?;
    let (loss, _) = task_loss(run, weights, &params.bias_tensors(), Norms::Eval(&params.norms), (&f, &m, &c))?;
    Ok(f64::from(loss.to_scalar::<f32>()?))
}

impl TrainState {
    /// Step `step` on `batch` with the size penalty `lambda` (left out once the bits are frozen).
    pub fn step(&mut self, cx: &StepContext, batch: &Batch, step: usize, lambda: f64) -> Result<StepOut> {
        let t0 = Instant::now();
        let cfg = &cx.run.train;
        let frozen = cfg.bits_frozen(step, cx.steps);
        let mut nrng = StdRng::seed_from_u64(loader::batch_seed(cfg.seed ^ 0xd1ff, step as u64));
        let w = self.qs.train_weights(&self.params, &mut nrng)?;
        let (task, fit) = match cx.fused {
            Some(f) => self.fused_loss(f, cx, &w, batch)?,
            None => self.graph_loss(cx, &w, batch)?,
        };
        let (size, exact) = self.qs.size(cx.layout)?;
        // Once the bits are frozen the size term is a constant: leave it out of the graph.
        let total = match &size {
            Some(s) if lambda > 0.0 && !frozen => (&fit + (s * (lambda / f64::from(1u32 << 20)))?)?,
            _ => fit,
        };
        let loss = f64::from(task.to_scalar::<f32>()?);
        if !loss.is_finite() {
            bail!("loss became {loss} at step {step}: lower the learning rate");
        }
        let t1 = Instant::now();
        let grads = total.backward()?;
        let t2 = Instant::now();
        self.update(&grads, cx, step, frozen)?;
        let ms = |a: Instant, b: Instant| (b - a).as_secs_f64() * 1000.0;
        Ok(StepOut { loss, size, exact, phase_ms: [ms(t0, t1), ms(t1, t2), ms(t2, Instant::now())] })
    }

    /// Task loss and fit term (the task loss blended with the teacher's) through candle's graph.
    fn graph_loss(&self, cx: &StepContext, w: &[Tensor], batch: &Batch) -> Result<(Tensor, Tensor)> {
        let (f, m, c) = batch_tensors(batch, cx.dev)?;
        let norms = Norms::Train(&self.params.norms);
        let (task, z) = task_loss(cx.run, w, &self.params.bias_tensors(), norms, (&f, &m, &c))?;
        let fit = match cx.teacher {
            Some(t) => t.blend(&cx.run.arch, &task, &z, &f, &m)?,
            None => task.clone(),
        };
        Ok((task, fit))
    }

    /// [`TrainState::graph_loss`] through the fused CPU op.
    fn fused_loss(&self, f: &FusedNet, cx: &StepContext, w: &[Tensor], batch: &Batch) -> Result<(Tensor, Tensor)> {
        f.prepare(&cx.run.arch, batch, cx.teacher.map(|t| (t.weights.as_slice(), t.biases.as_slice())))?;
        let terms = f.loss(w, &self.params.bias_tensors())?;
        let task = terms.get(0)?;
        let fit = match cx.teacher {
            Some(t) => ((&task * (1.0 - t.alpha))? + (terms.get(1)? * t.alpha)?)?,
            None => task.clone(),
        };
        Ok((task, fit))
    }

    /// Adam on the weights (at the step's learning rate) and, until the freeze, on the bit
    /// logits (kept in range); then the weight average, once it has started.
    fn update(&mut self, grads: &GradStore, cx: &StepContext, step: usize, frozen: bool) -> Result<()> {
        let pvars = param_vars(&self.params);
        self.opt.lr = lr_at(&cx.run.train, step, cx.steps);
        self.opt.step(&pvars, grads)?;
        if !frozen {
            self.bopt.step(&self.qs.logit_vars(), grads)?;
            self.qs.project_logits()?;
        }
        if let (Some(e), true) = (self.ema.as_mut(), step >= self.ema_start) {
            e.update(&pvars)?;
        }
        Ok(())
    }
}
