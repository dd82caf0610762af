//! Host side of the firmware work: the reference run (the same `demo-core` frame loop, compiled
//! for the host), the QEMU harness (build, run with a timeout, collect output, counts and
//! sizes), metrics, and the generators of the stand-in model and the demo clip.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic))]

pub mod audio;
pub mod clip;
pub mod elf;
pub mod kbench;
pub mod metrics;
pub mod qemu;
pub mod reference;
pub mod report;
pub mod standin;

use std::path::PathBuf;

/// The repository root (host-tests lives one level below it).
pub fn repo_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent().map(PathBuf::from).unwrap_or(here)
}

/// The model the firmware carries by default: `models/default.dqem`, or the stand-in while the
/// trainer's model is not there (the same rule as firmware/demo-core/build.rs).
pub fn default_model() -> PathBuf {
    if let Some(p) = std::env::var_os("DQ_MODEL") {
        let p = PathBuf::from(p);
        return if p.is_absolute() { p } else { repo_root().join(p) };
    }
    let trained = repo_root().join("models/default.dqem");
    if trained.is_file() {
        trained
    } else {
        repo_root().join("firmware/assets/standin.dqem")
    }
}
