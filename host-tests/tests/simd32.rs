//! `diffq-simd32` on the targets: the qemu-demo `simd-test` build checks the crate's functions
//! (SMLAD, SXTB16 and SXTB16 ROR #8, the 2-, 3- and 4-bit lane-pair blocks, the 1-, 2- and 4-bit
//! row pairs, the radix-4 passes and the int8 sum, as inline assembly on the Cortex-M4; portable
//! Rust on RV32) against its portable code on edge cases, 100,000 random inputs, 2,000 random
//! blocks and 600 random blocks of row pairs of each width, 40 random buffers per pass and 800
//! random runs of int8 values, under QEMU.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // tests

use host_tests::{qemu, repo_root};

#[test]
fn the_dual_mac_assembly_equals_the_portable_code_under_qemu() {
    let root = repo_root();
    for (name, native) in [("m4", true), ("rv32", false)] {
        let t = qemu::Target { features: "simd-test", ..qemu::target(name).unwrap() };
        let elf = qemu::build(&t, &root.join("models/conv8k.dqem"), &root.join("data/clip/noisy.wav")).unwrap();
        let dir = root.join(format!("target/simd32-{name}"));
        let (log, console, _) = qemu::run_raw(&t, &elf, &dir, std::time::Duration::from_secs(120)).unwrap();
        let said = |s: &str| log.iter().any(|l| l.contains(s));
        assert!(said(&format!("native assembly {native}")), "{name}: {log:?}\n{console}");
        assert!(said("109096 inputs, assembly and portable code equal"), "{name}: {log:?}\n{console}");
    }
}
