//! Recipes: a preset and the settings of a run that differ from it. The `train` command's flags
//! and a recipe file (`train --config FILE`, TOML) are the same fields: the flag `--noise-kind`
//! is the key `noise_kind`, a switch such as `--fill-budget` the key `fill_budget = true`. Flags
//! given on the command line override the file. In a file, a relative `from` is taken from the
//! parent directory of `--out`, so that `from = "fp32"` names the stage written beside this one.
//! A file can also name the noise kinds of its data (`noise_kinds = ["recorded", "babble"]`, the
//! data flag `--noise-kinds` overriding it), so that a recipe is the whole run.

use super::error::ConfigError;
use super::presets::preset;
use super::run::{Method, RunConfig};
use crate::data::DataSel;
use crate::diffq::{BitsParam, NoiseKind};
use crate::graph::Described;
use crate::noise::NoiseType;
use clap::Args;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The preset a recipe uses when it names none.
pub const DEFAULT_PRESET: &str = "default";
/// The method a recipe uses when it names none.
pub const DEFAULT_METHOD: Method = Method::Diffq;

/// The settings of a run beyond its preset; `None` (or an absent switch) keeps the preset's.
#[derive(Args, Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipe {
    /// Preset: `tiny` (seconds, for tests) or `default` (the shipped model) [default: default].
    #[arg(long)]
    pub preset: Option<String>,
    /// Train this model description (`models/*.model.toml`, docs/model-description.md) instead
    /// of the built-in architecture; its checkpoint stores the description.
    #[arg(long, value_name = "FILE.model.toml")]
    pub model: Option<PathBuf>,
    /// Training method [default: diffq].
    #[arg(long, value_enum)]
    pub method: Option<Method>,
    /// Start from (ptq8/ptq4: quantise) this checkpoint (same architecture); with `--distill`
    /// it is also the teacher.
    #[arg(long)]
    pub from: Option<PathBuf>,
    /// DiffQ penalty on the model size in MiB.
    #[arg(long)]
    pub lambda: Option<f64>,
    /// DiffQ size target for the whole blob, in KiB (1024 bytes); λ is adapted during training.
    #[arg(long, conflicts_with = "target_bits")]
    pub target_kb: Option<f64>,
    /// DiffQ size target in bits per weight, the whole blob included.
    #[arg(long)]
    pub target_bits: Option<f64>,
    /// Step size of the dual ascent on λ (with a target).
    #[arg(long)]
    pub dual_lr: Option<f64>,
    /// Fraction of training over which the size target is lowered from the initial size.
    #[arg(long)]
    pub target_anneal: Option<f64>,
    /// Training steps.
    #[arg(long)]
    pub steps: Option<usize>,
    /// Mixtures per batch.
    #[arg(long)]
    pub batch: Option<usize>,
    /// Mixture length in seconds.
    #[arg(long)]
    pub seconds: Option<f32>,
    /// Seed of the initial weights and of the training batches.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Learning rate of the model's weights (Adam).
    #[arg(long)]
    pub lr: Option<f64>,
    /// Decay the model's learning rate along a cosine to 1% at the last step (the bit logits
    /// keep theirs, so the size target can still be met); with `--freeze-bits`, from the freeze on.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub lr_cosine: Option<bool>,
    /// Distillation weight α in [0, 1): the loss becomes (1 − α)·task + α·MSE to the `--from`
    /// model's output (0 = off).
    #[arg(long)]
    pub distill: Option<f64>,
    /// Round and freeze the bit widths after this fraction of the steps (DiffQ): the last steps
    /// train the weights under noise of exactly the exported quantisation's scale.
    #[arg(long)]
    pub freeze_bits: Option<f64>,
    /// With `--freeze-bits` and a size target: when the bits freeze, move widths up (those
    /// rounded down the most first) until the blob fills the budget, instead of leaving the
    /// bytes the rounding freed for the export to give away untrained.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub fill_budget: Option<bool>,
    /// Vary the training music: random speed 0.7–1.4×, spectral tilt, half of the time a second
    /// track mixed in (the test split's music is never varied).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub vary_music: Option<bool>,
    /// Keep an exponential moving average of the weights with this decay (e.g. 0.999) and save it
    /// as the final weights; with `--freeze-bits` (DiffQ) it starts when the bits are frozen.
    #[arg(long)]
    pub ema: Option<f64>,
    /// Learning rate of the bit logits' own Adam (DiffQ default 1e-3).
    #[arg(long)]
    pub bits_lr: Option<f64>,
    /// DiffQ: lowest bit width a group can learn (export keeps widths at or above it).
    #[arg(long)]
    pub min_bits: Option<f32>,
    /// DiffQ: highest bit width a group can learn.
    #[arg(long)]
    pub max_bits: Option<f32>,
    /// DiffQ: bit width every group starts from.
    #[arg(long)]
    pub init_bits: Option<f32>,
    /// Weights per learnt bit width (multiple of 8; 0 = one per tensor). The runtime's fast
    /// mixed-bit kernels unroll 64 (the default) and 48; other multiples of 8 take ~2× the instructions per MAC.
    #[arg(long)]
    pub group_size: Option<usize>,
    /// Row-major groups instead of the row-pair layout (slower mixed-bit kernels on the MCU).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub no_pair_rows: Option<bool>,
    /// Weights smaller than this stay f32.
    #[arg(long)]
    pub min_size: Option<usize>,
    /// DiffQ: bits added to the learnt widths before rounding at export.
    #[arg(long)]
    pub extra_bits: Option<f32>,
    #[arg(long, value_enum)]
    pub param: Option<BitsParam>,
    #[arg(long, value_enum)]
    pub noise_kind: Option<NoiseKind>,
    /// Channels of the conv layers.
    #[arg(long)]
    pub width: Option<usize>,
    /// Use at most this many speech files per split.
    #[arg(long)]
    pub max_files: Option<usize>,
    /// Save a checkpoint (and log the validation loss) every this many steps.
    #[arg(long)]
    pub ckpt_every: Option<usize>,
    /// The noise kinds of the training data (a file's key only: on the command line it is the
    /// data flag `--noise-kinds`, which overrides it).
    #[arg(skip)]
    pub noise_kinds: Option<Vec<NoiseType>>,
}

impl Recipe {
    /// Reads a recipe file; a relative `from` in it is taken from `out_parent` (the parent
    /// directory of the run's `--out`).
    pub fn load(path: &Path, out_parent: &Path) -> Result<Recipe, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|error| ConfigError::ReadRecipe { path: path.to_path_buf(), error })?;
        let mut r: Recipe = toml::from_str(&text)
            .map_err(|e| ConfigError::ParseRecipe { path: path.to_path_buf(), error: Box::new(e) })?;
        if r.target_kb.is_some() && r.target_bits.is_some() {
            return Err(ConfigError::TwoTargets);
        }
        r.from = r.from.map(|f| if f.is_relative() { out_parent.join(f) } else { f });
        Ok(r)
    }

    /// This recipe with every setting `over` gives replaced by `over`'s (the command line over
    /// a file). A size target in `over`, in KiB or in bits, replaces both of this recipe's.
    pub fn overridden_by(self, over: Recipe) -> Recipe {
        let base = if over.target_kb.is_some() || over.target_bits.is_some() {
            Recipe { target_kb: None, target_bits: None, ..self }
        } else {
            self
        };
        // A struct literal without `..`: a field added to `Recipe` and left out here does not compile.
        macro_rules! over {
            ($($f:ident),* $(,)?) => { Recipe { $($f: over.$f.or(base.$f)),* } };
        }
        over!(
            preset,
            model,
            method,
            from,
            lambda,
            target_kb,
            target_bits,
            dual_lr,
            target_anneal,
            steps,
            batch,
            seconds,
            seed,
            lr,
            lr_cosine,
            distill,
            freeze_bits,
            fill_budget,
            vary_music,
            ema,
            bits_lr,
            min_bits,
            max_bits,
            init_bits,
            group_size,
            no_pair_rows,
            min_size,
            extra_bits,
            param,
            noise_kind,
            width,
            max_files,
            ckpt_every,
            noise_kinds,
        )
    }

    /// The run: the preset with this recipe's settings, reading the data `data` selects.
    pub fn resolve(&self, data: &DataSel) -> Result<RunConfig, ConfigError> {
        let p = preset(self.preset.as_deref().unwrap_or(DEFAULT_PRESET))?;
        let (mut arch, mut dq, mut cfg) = (p.arch, p.diffq, p.train);
        let model = match &self.model {
            Some(path) => {
                let d = Described::load(path).map_err(|e| ConfigError::Model(e.to_string()))?;
                d.check_trainable().map_err(|e| ConfigError::Model(e.to_string()))?;
                Some(d)
            }
            None => None,
        };
        macro_rules! set {
            ($($src:ident => $dst:expr),* $(,)?) => { $( if let Some(v) = self.$src { $dst = v; } )* };
        }
        set!(width => arch.width, steps => cfg.steps, batch => cfg.batch, seconds => cfg.seconds, seed => cfg.seed,
             lr => cfg.lr, bits_lr => cfg.bits_lr, lr_cosine => cfg.lr_cosine, distill => cfg.distill,
             fill_budget => cfg.fill_budget, vary_music => cfg.vary_music, lambda => cfg.lambda,
             dual_lr => cfg.dual_lr, target_anneal => cfg.target_anneal, ckpt_every => cfg.ckpt_every,
             min_bits => dq.min_bits, max_bits => dq.max_bits, init_bits => dq.init_bits,
             group_size => dq.group_size, min_size => dq.min_size, extra_bits => dq.extra_bits,
             param => dq.param, noise_kind => dq.noise);
        if let Some(no) = self.no_pair_rows {
            dq.pair_rows = !no;
        }
        cfg.max_files = self.max_files.or(cfg.max_files);
        cfg.freeze_bits = self.freeze_bits.or(cfg.freeze_bits);
        cfg.ema = self.ema.or(cfg.ema);
        cfg.speech = data.speech.clone();
        cfg.noise = data.noise.clone();
        cfg.split_mode = data.split;
        cfg.noise_kinds = data.kinds.clone();
        cfg.target_bytes = match (self.target_kb, self.target_bits) {
            (Some(_), Some(_)) => return Err(ConfigError::TwoTargets),
            (Some(kb), None) => Some(kb * 1024.0),
            (None, Some(b)) => {
                Some(b * model.as_ref().map_or_else(|| arch.macs(), |d| d.desc.n_weights()) as f64 / 8.0)
            }
            (None, None) => cfg.target_bytes,
        };
        let run = RunConfig {
            method: self.method.unwrap_or(DEFAULT_METHOD),
            arch,
            diffq: dq,
            train: cfg,
            from: self.from.clone(),
            model,
        };
        run.validate()?;
        Ok(run)
    }
}
