//! The op zoo (`host_tests::zoo`): a random-weight v5 denoiser using every op of the format,
//! under QEMU on the M4 (f32, int) and RV32 (int), against the host runtime, by the reference
//! models' check (`host_tests::report::host_agreement`); every op of the format is in it; the
//! fuzz seeds hold a blob with every op.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // tests

use host_tests::report::{host_agreement, AGREEMENT_HEADER, AGREEMENT_TARGETS};
use host_tests::{repo_root, zoo};
use runtime::{Act, Model, Op};
use std::collections::BTreeSet;
use std::path::Path;

const SEED_DIR: &str = "runtime/fuzz/seeds/parse_and_step";

/// Every op the format defines: each code that names one.
fn format_ops() -> BTreeSet<u8> {
    (1..=u8::MAX).filter(|&c| Op::from_code(c).is_some()).collect()
}

/// The op codes of `blob`'s nodes, and the codes of their fused activations.
fn ops_of(blob: &[u8]) -> (BTreeSet<u8>, BTreeSet<u8>) {
    let m = Model::parse(blob).unwrap();
    let nodes: Vec<_> = (0..m.n_nodes()).map(|i| m.node(i).unwrap()).collect();
    (nodes.iter().map(|n| n.op.code()).collect(), nodes.iter().map(|n| n.act.code()).collect())
}

#[test]
fn the_zoo_uses_every_op_of_the_format() {
    let blob = zoo::blob().unwrap();
    let m = Model::parse(&blob).unwrap();
    assert!(m.has_int() && m.header().version == 5);
    runtime::pipeline::check_denoiser(&m).unwrap();
    let (ops, acts) = ops_of(&blob);
    let missing: Vec<_> = format_ops().difference(&ops).filter_map(|&c| Op::from_code(c)).map(Op::name).collect();
    assert!(missing.is_empty(), "ops of the format not in the zoo (add them to host-tests/src/zoo.rs): {missing:?}");
    // Each activation both fused into a weighted node and as a node of its own.
    for (act, op) in [(Act::Relu, Op::Relu), (Act::Sigmoid, Op::Sigmoid), (Act::Tanh, Op::Tanh)] {
        assert!(acts.contains(&act.code()) && ops.contains(&op.code()), "{act:?}");
    }
}

#[test]
fn a_fuzz_seed_uses_every_op_of_the_format() {
    let dir = repo_root().join(SEED_DIR);
    let every = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| Model::parse(&std::fs::read(p).unwrap()).is_ok_and(|m| m.header().version == 5))
        .any(|p| ops_of(&std::fs::read(&p).unwrap()).0.is_superset(&format_ops()));
    assert!(
        every,
        "no seed in {} uses every op: `cargo test -p host-tests --test zoo -- --ignored write_zoo_fuzz_seed`",
        dir.display()
    );
}

/// Writes the zoo blob as a fuzz seed: `cargo test -p host-tests --test zoo -- --ignored write_zoo_fuzz_seed`.
#[test]
#[ignore]
fn write_zoo_fuzz_seed() {
    zoo::write(&repo_root().join(SEED_DIR).join("zoo.bin")).unwrap();
}

#[test]
fn the_zoo_matches_the_host_on_m4_and_rv32() {
    let path = repo_root().join("target/qemu-tests/zoo/zoo.dqem");
    zoo::write(&path).unwrap();
    let rows = host_agreement("zoo", Path::new(&path), &AGREEMENT_TARGETS).unwrap_or_else(|e| panic!("{e:#}"));
    eprintln!("{AGREEMENT_HEADER}");
    for r in rows {
        eprintln!("{r}");
    }
}
