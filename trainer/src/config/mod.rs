//! The configuration layer: what a training run is ([`RunConfig`]: method, architecture, DiffQ and
//! training settings), the presets every run starts from ([`preset`]), and recipes ([`Recipe`]):
//! a preset and the settings that differ from it, given as `train` flags or as a TOML file
//! (`train --config FILE`; the shipped model's are `models/conv8k.fp32.toml` and
//! `models/conv8k.toml`).

mod error;
pub mod limits;
mod presets;
mod recipe;
mod run;

pub use error::ConfigError;
pub use presets::{preset, Preset};
pub use recipe::{Recipe, DEFAULT_METHOD, DEFAULT_PRESET};
pub use run::{default_anneal, Method, RunConfig, TrainConfig};
