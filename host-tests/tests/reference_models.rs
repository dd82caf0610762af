//! The reference models (`models/*.model.toml`, trained tiny and exported by the trainer's
//! `reference_models` test into `target/reference-models/`) under QEMU: Cortex-M4 on the f32 and
//! the integer path, RV32IMAC on the integer path, each against the host runtime on the demo
//! clip: bit-exact on the integer paths, within the f32 tolerance on the M4's f32 path, in RAM.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // tests

use host_tests::qemu::{self, NumPath};
use host_tests::repo_root;
use host_tests::report::{measure, F32_TOLERANCE_LSB};
use std::time::Duration;

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
        for target in ["m4", "m4-int", "rv32"] {
            let t = qemu::target(target).unwrap();
            let work = root.join("target/qemu-tests/reference").join(&name);
            let m = measure(
                &t,
                blob,
                &root.join("data/clip/noisy.wav"),
                &root.join("data/clip/clean.wav"),
                &work,
                Duration::from_secs(180),
            )
            .unwrap_or_else(|e| panic!("{name} on {target}: {e:#}"));
            let diff = m.max_diff_lsb.unwrap();
            match t.path {
                NumPath::I8 => {
                    assert_eq!(diff, 0, "{name} on {target}: integer path must be bit-exact ({:?} differ)", m.differing)
                }
                NumPath::F32 => {
                    assert!(diff <= F32_TOLERANCE_LSB, "{name} on {target}: f32 path {diff} LSB from the host")
                }
            }
            let stack = m.stack_hwm.unwrap();
            assert!(
                m.static_ram + stack <= m.ram_region,
                "{name} on {target}: RAM {} + {stack} over {}",
                m.static_ram,
                m.ram_region
            );
            let (_, med, _) = m.instr.unwrap();
            rows.push(format!(
                "| {name} | {target} | {} B | {med} | {} | {} + {stack} B | {:.2} → {:.2} dB | {diff} LSB |",
                m.flash_blob,
                m.est_cycles.map_or("–".into(), |c| format!("{c:.0}")),
                m.static_ram,
                m.si_sdr_in,
                m.si_sdr_out.unwrap()
            ));
        }
    }
    eprintln!("| model | target | blob | instructions/frame | est. M4 cycles/frame | RAM static + stack | SI-SDR clip | vs host |");
    eprintln!("|---|---|---:|---:|---:|---|---|---|");
    for r in rows {
        eprintln!("{r}");
    }
}
