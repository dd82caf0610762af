//! The named presets a run starts from: every default of the architecture, DiffQ and training
//! settings is set here (DiffQ's own in `DiffqConfig::default`).

use super::error::ConfigError;
use super::run::{default_anneal, TrainConfig};
use crate::diffq::DiffqConfig;
use crate::model::Arch;
use std::path::PathBuf;

/// A named configuration: architecture, DiffQ settings, training settings.
#[derive(Clone, Debug, PartialEq)]
pub struct Preset {
    pub arch: Arch,
    pub diffq: DiffqConfig,
    pub train: TrainConfig,
}

/// The training settings every preset starts from.
fn base(name: &str) -> TrainConfig {
    TrainConfig {
        preset: name.to_string(),
        steps: 6000, // 6000 × 32 two-second mixtures (~5 min on 2 cores with the fused CPU step, ~11 with the graph); 3000 cost DiffQ 0.6 dB
        batch: 32,
        seconds: 2.0,
        lr: 1e-3,
        bits_lr: 1e-3,
        lr_cosine: false,   // constant rate: what every result before the fine-tuning recipe used
        distill: 0.0,       // no teacher
        freeze_bits: None,  // the bits learn until the last step
        fill_budget: false, // the freeze rounds to nearest; the export then lands in [97%, 100%]
        vary_music: false,  // the training music as recorded
        ema: None,          // the last weights, not an average
        seed: 0,
        snr_lo: -5.0,
        snr_hi: 15.0,
        max_files: None,
        lambda: 1.0,
        target_bytes: None,
        dual_lr: 0.01,
        target_anneal: default_anneal(),
        ckpt_every: 250,
        val_mixtures: 32,
        speech: PathBuf::from(crate::data::DEFAULT_SPEECH),
        noise: PathBuf::from(crate::data::DEFAULT_NOISE),
        split_mode: crate::data::SplitMode::Hash,
        noise_kinds: crate::data::ALL_KINDS.to_vec(),
    }
}

/// The preset `name`: `tiny` (seconds, for tests) or `default` (the shipped model's).
pub fn preset(name: &str) -> Result<Preset, ConfigError> {
    let base = base(name);
    match name {
        "default" => Ok(Preset {
            arch: Arch::new(64),
            diffq: DiffqConfig::default(),
            train: TrainConfig { bits_lr: 5e-3, ..base },
        }),
        "tiny" => Ok(Preset {
            arch: Arch::new(16),
            diffq: DiffqConfig { min_size: 0, group_size: 16, ..DiffqConfig::default() }, // width 16: 8 inputs × 2 rows
            train: TrainConfig {
                steps: 30,
                batch: 4,
                seconds: 1.0,
                max_files: Some(24),
                ckpt_every: 20,
                val_mixtures: 4,
                ..base
            },
        }),
        _ => Err(ConfigError::UnknownPreset(name.to_string())),
    }
}
