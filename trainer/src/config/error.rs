//! Errors of the configuration layer: each names the setting (as its `train` flag) or the file.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("unknown preset `{0}` (tiny, default)")]
    UnknownPreset(String),
    #[error("{setting} must be {range}, got {value}")]
    OutOfRange { setting: &'static str, range: &'static str, value: f64 },
    #[error("{setting} = {value} is outside the limits {min}..={max}")]
    Limit { setting: &'static str, value: String, min: String, max: String },
    #[error("batch size and mixture length must be positive (batch = {batch}, seconds = {seconds})")]
    EmptyBatch { batch: usize, seconds: f32 },
    #[error(
        "--fill-budget fills the size target when the bits freeze: it needs --freeze-bits and --target-kb or \
         --target-bits"
    )]
    FillBudgetNeedsFreezeAndTarget,
    #[error("--target-kb and --target-bits both set the size target: give one")]
    TwoTargets,
    #[error("{0} quantises a trained fp32 model: give it with --from DIR")]
    PostTrainingNeedsFrom(&'static str),
    #[error("--distill needs the teacher: give the fp32 model with --from DIR")]
    DistillNeedsFrom,
    #[error("--distill is not available with --model (the teacher is a built-in model)")]
    DistillWithModel,
    #[error("--model: {0}")]
    Model(String),
    #[error("cannot read the recipe {path}: {error}")]
    ReadRecipe { path: PathBuf, error: std::io::Error },
    #[error("recipe {path}: {error}")]
    ParseRecipe { path: PathBuf, error: Box<toml::de::Error> },
}

impl ConfigError {
    pub(crate) fn out_of_range(setting: &'static str, range: &'static str, value: f64) -> ConfigError {
        ConfigError::OutOfRange { setting, range, value }
    }
}
