//! The reference models (`models/*.model.toml`, trained tiny and exported by the trainer's
//! `reference_models` test into `target/reference-models/`) under QEMU: Cortex-M4 on the f32 and
//! the integer path, RV32IMAC on the integer path, each against the host runtime on the demo
//! clip: bit-exact on the integer paths, within the f32 tolerance on the M4's f32 path, in RAM
//! (`host_tests::report::host_agreement`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // tests

use host_tests::repo_root;
use host_tests::report::{host_agreement, AGREEMENT_HEADER, AGREEMENT_TARGETS};

#[test]
fn reference_models_match_the_host_on_m4_and_rv32() {
    let root = repo_root();
    let dir = root.join("target/reference-models");
    let mut blobs: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "dqem")).collect()
        })
        .unwrap_or_default();
    blobs.sort();
    assert!(
        !blobs.is_empty(),
        "no blobs in {}: run `cargo test -p trainer --test reference_models` first (scripts/test.sh does)",
        dir.display()
    );
    let mut rows = Vec::new();
    for blob in &blobs {
        let name = blob.file_stem().unwrap().to_string_lossy().to_string();
        rows.extend(host_agreement(&name, blob, &AGREEMENT_TARGETS).unwrap_or_else(|e| panic!("{e:#}")));
    }
    eprintln!("{AGREEMENT_HEADER}");
    for r in rows {
        eprintln!("{r}");
    }
}
