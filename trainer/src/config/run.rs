//! What a training run is: its method, the hyper-parameters its checkpoint stores, and the checks
//! they must pass before any data is read.

use super::error::ConfigError;
use super::limits;
use crate::data::{DataSel, SplitMode, ALL_KINDS};
use crate::diffq::DiffqConfig;
use crate::features::Stft;
use crate::graph::Described;
use crate::model::Arch;
use crate::noise::NoiseType;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Training methods (all exported through the same blob format).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Full precision weights.
    Fp32,
    /// Post-training 8-bit quantisation of an fp32 checkpoint (`--from`).
    Ptq8,
    /// Post-training 4-bit quantisation of an fp32 checkpoint (`--from`).
    Ptq4,
    /// Quantisation-aware training at 4 bits (straight-through estimator).
    Qat4,
    /// DiffQ: learnt bit widths with pseudo quantisation noise.
    Diffq,
}

impl Method {
    /// Fixed bit width of the uniform methods.
    pub fn fixed_bits(self) -> Option<u8> {
        match self {
            Method::Ptq8 => Some(8),
            Method::Ptq4 | Method::Qat4 => Some(4),
            Method::Fp32 | Method::Diffq => None,
        }
    }

    /// Post-training quantisation: no training steps, the weights of `--from`.
    pub fn is_post_training(self) -> bool {
        matches!(self, Method::Ptq8 | Method::Ptq4)
    }

    pub fn name(self) -> &'static str {
        match self {
            Method::Fp32 => "fp32",
            Method::Ptq8 => "ptq8",
            Method::Ptq4 => "ptq4",
            Method::Qat4 => "qat4",
            Method::Diffq => "diffq",
        }
    }
}

/// Training hyper-parameters (stored in the checkpoint). Fields added after the first
/// checkpoints have serde defaults, so that those still load.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub preset: String,
    pub steps: usize,
    pub batch: usize,
    pub seconds: f32,
    pub lr: f64,
    pub bits_lr: f64,
    /// Cosine decay of `lr` to 1% over the run (the bit logits' rate stays constant).
    #[serde(default)]
    pub lr_cosine: bool,
    /// Weight of the distillation term (0 = off): the loss becomes `(1 − α)·task + α·MSE` to
    /// the `--from` model's estimate, the fp32 teacher's output standing in for part of the target.
    #[serde(default)]
    pub distill: f64,
    /// Fraction of the steps after which the bit widths are rounded and frozen (DiffQ; none = 1).
    #[serde(default)]
    pub freeze_bits: Option<f64>,
    /// At the freeze, move the rounded widths up until the blob fills `target_bytes`.
    #[serde(default)]
    pub fill_budget: bool,
    /// Vary the training music (speed 0.7–1.4×, spectral tilt, a second track mixed in).
    #[serde(default)]
    pub vary_music: bool,
    /// Decay of an exponential moving average of the weights, from the freeze on (DiffQ with
    /// `freeze_bits`) or from the start; the final checkpoint holds the average (none = off).
    #[serde(default)]
    pub ema: Option<f64>,
    pub seed: u64,
    pub snr_lo: f32,
    pub snr_hi: f32,
    /// Use at most this many speech files of the split (evenly spread).
    pub max_files: Option<usize>,
    /// DiffQ penalty weight on the model size in MiB.
    pub lambda: f64,
    /// DiffQ size target for the whole blob in bytes (λ is then adapted).
    pub target_bytes: Option<f64>,
    /// Step size of the dual ascent on log λ (integral gain of the λ controller).
    pub dual_lr: f64,
    /// Fraction of the steps over which the size target is annealed from the initial size.
    #[serde(default = "default_anneal")]
    pub target_anneal: f64,
    pub ckpt_every: usize,
    pub val_mixtures: usize,
    pub speech: PathBuf,
    pub noise: PathBuf,
    /// Which files of `speech` and `noise` serve each split.
    #[serde(default)]
    pub split_mode: SplitMode,
    /// Noise kinds mixed in.
    #[serde(default = "all_kinds")]
    pub noise_kinds: Vec<NoiseType>,
}

fn all_kinds() -> Vec<NoiseType> {
    ALL_KINDS.to_vec()
}

/// The size target's annealing fraction (the presets' value, and that of checkpoints written
/// before the setting existed).
pub fn default_anneal() -> f64 {
    0.6
}

impl TrainConfig {
    /// The run's data selection.
    pub fn data(&self) -> DataSel {
        DataSel {
            speech: self.speech.clone(),
            noise: self.noise.clone(),
            split: self.split_mode,
            kinds: self.noise_kinds.clone(),
        }
    }

    /// Samples per training mixture at the model's STFT rate.
    pub fn samples(&self, stft: Stft) -> usize {
        stft.samples(self.seconds)
    }

    /// The step at which the bit widths are frozen, if they are.
    pub fn freeze_step(&self, steps: usize) -> Option<usize> {
        self.freeze_bits.map(|f| (f * steps as f64) as usize)
    }

    /// Whether the bit widths are frozen during step `step` of `steps`.
    pub fn bits_frozen(&self, step: usize, steps: usize) -> bool {
        self.freeze_step(steps).is_some_and(|s| step >= s)
    }

    /// Checks every setting whose range the training relies on.
    pub fn validate(&self) -> Result<(), ConfigError> {
        limits::check("--seconds", self.seconds, limits::SECONDS)?;
        limits::check("--batch", self.batch, limits::BATCH)?;
        limits::check("--steps", self.steps, limits::STEPS)?;
        limits::check("--ckpt-every", self.ckpt_every, limits::CKPT_EVERY)?;
        if let Some(m) = self.max_files {
            limits::check("--max-files", m, limits::MAX_FILES)?;
        }
        // a hop is 16 ms at either rate
        if self.samples(Stft::Narrowband) < Stft::Narrowband.hop() || self.batch == 0 {
            return Err(ConfigError::EmptyBatch { batch: self.batch, seconds: self.seconds });
        }
        if let Some(t) = self.target_bytes {
            if !(t.is_finite() && t > 0.0) {
                return Err(ConfigError::out_of_range("the size target", "positive", t));
            }
        }
        if let Some(f) = self.freeze_bits {
            if !(0.0..=1.0).contains(&f) {
                return Err(ConfigError::out_of_range("--freeze-bits", "a fraction in [0, 1]", f));
            }
        }
        if self.fill_budget && (self.freeze_bits.is_none() || self.target_bytes.is_none()) {
            return Err(ConfigError::FillBudgetNeedsFreezeAndTarget);
        }
        if !(0.0..1.0).contains(&self.distill) {
            return Err(ConfigError::out_of_range("--distill", "in [0, 1)", self.distill));
        }
        Ok(()) // `ema`'s range is checked where the average is made (`WeightAverage::new`)
    }
}

/// A training run, resolved from a preset and a recipe: everything but where it writes and
/// whether it resumes.
#[derive(Clone, Debug, PartialEq)]
pub struct RunConfig {
    pub method: Method,
    pub arch: Arch,
    pub diffq: DiffqConfig,
    pub train: TrainConfig,
    /// Checkpoint to start from (and, with `distill`, the teacher); post-training methods
    /// quantise its weights.
    pub from: Option<PathBuf>,
    /// The model description trained instead of the built-in architecture (`--model`).
    pub model: Option<Described>,
}

impl RunConfig {
    /// The STFT and the features the model reads (the built-in model: 8 kHz log magnitudes).
    pub fn frontend(&self) -> crate::loader::Frontend {
        self.model.as_ref().map(Described::frontend).unwrap_or_default()
    }

    /// The STFT of the model's front end.
    pub fn stft(&self) -> Stft {
        self.model.as_ref().map(Described::stft).unwrap_or_default()
    }

    /// Weights of the model trained.
    pub fn n_weights(&self) -> usize {
        self.model.as_ref().map_or_else(|| self.arch.macs(), |d| d.desc.n_weights())
    }

    /// Training steps: none for the post-training methods.
    pub fn steps(&self) -> usize {
        if self.method.is_post_training() {
            0
        } else {
            self.train.steps
        }
    }

    /// Checks the settings and that a `--from` checkpoint is given where one is needed.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.train.validate()?;
        limits::check("--width", self.arch.width, limits::WIDTH)?;
        if self.from.is_none() {
            if self.method.is_post_training() {
                return Err(ConfigError::PostTrainingNeedsFrom(self.method.name()));
            }
            if self.train.distill > 0.0 {
                return Err(ConfigError::DistillNeedsFrom);
            }
        }
        if self.model.is_some() && self.train.distill > 0.0 {
            return Err(ConfigError::DistillWithModel);
        }
        Ok(())
    }
}
