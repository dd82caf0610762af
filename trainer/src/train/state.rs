//! What training changes, held together: the parameters, the quantisation state (bit logits),
//! the two optimisers and the weight average; how it starts (fresh, `--from` a checkpoint, or
//! resumed), how its bit widths freeze, and the checkpoint it is saved as.

use crate::checkpoint::{Checkpoint, Meta};
use crate::config::{Method, RunConfig, TrainConfig};
use crate::diffq::size::BlobLayout;
use crate::ema::WeightAverage;
use crate::graph;
use crate::model::Params;
use crate::optim::Adam;
use crate::qstate::QState;
use anyhow::Result;
use candle_core::{Device, Tensor, Var};
use rand::rngs::StdRng;
use rand::SeedableRng;

/// The trainable state of a run.
pub struct TrainState {
    pub params: Params,
    pub qs: QState,
    /// Adam of the weights and biases.
    pub(super) opt: Adam,
    /// Adam of the bit logits (DiffQ).
    pub(super) bopt: Adam,
    pub(super) ema: Option<WeightAverage>,
    /// The step the weight average starts at.
    pub(super) ema_start: usize,
}

/// The trained values as the optimiser sees them: weights, biases, the batch norms' scales (their
/// running statistics are not trained).
pub fn param_vars(params: &Params) -> Vec<&Var> {
    params.weights.iter().chain(params.biases.iter()).chain(params.norms.iter().map(|n| &n.gamma)).collect()
}

impl TrainState {
    /// A fresh state: weights initialised from the run's seed, bit logits at `init_bits`.
    pub fn new(run: &RunConfig, steps: usize, dev: &Device) -> Result<TrainState> {
        let mut rng = StdRng::seed_from_u64(run.train.seed);
        let (params, qs) = match &run.model {
            Some(d) => {
                (graph::init_params(&d.desc, &mut rng, dev)?, QState::for_desc(run.method, &d.desc, &run.diffq, dev)?)
            }
            None => (Params::init(&run.arch, &mut rng, dev)?, QState::new(run.method, &run.arch, &run.diffq, dev)?),
        };
        let opt = Adam::new(&param_vars(&params), run.train.lr)?;
        let bopt = Adam::new(&qs.logit_vars(), run.train.bits_lr)?;
        // The weight average starts when the bits are frozen: averaged weights all saw the final noise.
        let ema_start = run.train.freeze_step(steps).filter(|_| run.method == Method::Diffq).unwrap_or(0);
        let ema = run.train.ema.map(|d| WeightAverage::new(&param_vars(&params), d)).transpose()?;
        Ok(TrainState { params, qs, opt, bopt, ema, ema_start })
    }

    /// The size structure of this run's blob (the integer path's constants included when every
    /// layer of the built-in model is quantised).
    pub fn layout(&self, run: &RunConfig) -> BlobLayout {
        match &run.model {
            Some(d) => crate::qstate::desc_blob_layout(&d.desc, &self.qs.layouts),
            None => self.qs.blob_layout(&run.arch, self.qs.all_quantized()),
        }
    }

    /// Continues the run saved in `ck`: weights, bit logits, optimisers and weight average, and
    /// in `meta` the step, λ and its controller, and the history.
    pub fn resume(&mut self, ck: &Checkpoint, run: &RunConfig, meta: &mut Meta) -> Result<()> {
        let m = &ck.meta;
        m.check_resumable(run)?;
        ck.restore_params(&run.arch, &self.params)?;
        ck.restore_logits(&self.qs)?;
        self.opt.load("adam", m.step as u64, ck.tensors())?;
        self.bopt.load("adam_bits", m.step as u64, ck.tensors())?;
        if let (Some(e), true) = (self.ema.as_mut(), m.step > self.ema_start) {
            e.load((m.step - self.ema_start) as u64, ck.tensors())?;
            WeightAverage::restore_raw(&param_vars(&self.params), ck.tensors())?;
            // a finished run holds the average
        }
        meta.step = m.step;
        meta.lambda = m.lambda;
        meta.log_lambda_i = m.log_lambda_i;
        meta.history = m.history.clone();
        Ok(())
    }

    /// Rounds and freezes the bit widths (`--freeze-bits`); with `--fill-budget` the widths then
    /// move up until the blob fills the size target. Returns the line to log.
    pub fn freeze_bits(&self, cfg: &TrainConfig, layout: &BlobLayout, step: usize) -> Result<String> {
        let budget = cfg.target_bytes.filter(|_| cfg.fill_budget).map(|t| t as usize);
        let fit = self.qs.snap_logits(layout, budget)?;
        let over = budget
            .filter(|&b| fit.bytes > b)
            .map_or(String::new(), |b| format!(", {} over the budget: the export will lower widths", fit.bytes - b));
        Ok(format!("step {step}: bits frozen at {} bytes ({} widths moved{over})", fit.bytes, fit.moves))
    }

    /// The end of training after `step` steps: the weight average (if one was kept) goes into
    /// the weights. Returns the trained values as checkpoint tensors, for a resumed run.
    pub fn apply_average(&self, step: usize) -> Result<Vec<(String, Tensor)>> {
        match &self.ema {
            Some(e) if step > self.ema_start => e.copy_to(&param_vars(&self.params)),
            _ => Ok(Vec::new()),
        }
    }

    /// The checkpoint of this state with metadata `meta`: the model, the optimisers' moments,
    /// the weight average, and `extra` tensors.
    pub fn checkpoint(&self, meta: &Meta, extra: Vec<(String, Tensor)>) -> Checkpoint {
        let mut ck = Checkpoint::of_model(meta.clone(), &self.params, &self.qs);
        ck.extend(self.opt.state("adam"));
        ck.extend(self.bopt.state("adam_bits"));
        ck.extend(self.ema.as_ref().map(WeightAverage::state).unwrap_or_default());
        ck.extend(extra);
        ck
    }
}
