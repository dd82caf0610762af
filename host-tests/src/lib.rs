//! Host side of the firmware work and the workspace's task runner (`cargo xtask`, src/main.rs):
//! the reference run (the same `demo-core` frame loop, compiled for the host), the QEMU harness
//! (build, run with a timeout, collect output, counts and sizes), the C API's example as a QEMU
//! target, the demo report, the per-target and kernel benchmarks, a model's agreement with the host
//! on the QEMU targets (`report::host_agreement`), the op zoo (a graph using every op of the
//! format), a small classifier built the same way, and the generator of the demo clip.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic))]

pub mod capi;
pub mod classifier;
pub mod clip;
pub mod cycles;
pub mod demo;
pub mod flash_split;
pub mod footprint;
pub mod kbench;
pub mod metrics;
pub mod profile;
pub mod qemu;
pub mod reference;
pub mod report;
pub mod zoo;

use std::path::PathBuf;

/// The repository root (host-tests lives one level below it).
pub fn repo_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent().map(PathBuf::from).unwrap_or(here)
}

/// The project's default model, which `cargo xtask demo|bench|kbench` run: the 16 kHz GRU mask
/// denoiser.
pub const DEFAULT_MODEL: &str = "models/gru16k.dqem";

/// The 8 kHz conv denoiser: what a firmware crate built by hand carries without `DQ_MODEL`
/// (firmware/demo-core/build.rs, unless its feature `default-16k` is on, as in the board's
/// default build; it needs no optional runtime part), and the model of the 8 kHz demo tests.
pub const NARROWBAND_MODEL: &str = "models/conv8k.dqem";

/// The model a task runs when none is named: `DQ_MODEL` (relative to the repository root) if
/// set, else [`DEFAULT_MODEL`].
pub fn default_model() -> PathBuf {
    match std::env::var_os("DQ_MODEL").map(PathBuf::from) {
        Some(p) if p.is_absolute() => p,
        Some(p) => repo_root().join(p),
        None => repo_root().join(DEFAULT_MODEL),
    }
}

/// [`NARROWBAND_MODEL`] in this checkout.
pub fn narrowband_model() -> PathBuf {
    repo_root().join(NARROWBAND_MODEL)
}
