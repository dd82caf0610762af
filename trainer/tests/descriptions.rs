//! Model descriptions: every malformed file under `descriptions/bad/` fails with the message in
//! its `.err` (line and column included), every file under `descriptions/good/` and every
//! `models/*.model.toml` validates, and the shipped model's description matches its architecture.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::path::{Path, PathBuf};
use trainer::describe::{self, LayerQuant, Op, Shape};

fn dir(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(sub)
}

fn files(d: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    v.sort();
    v
}

#[test]
fn every_bad_description_fails_with_its_message() {
    let bad = dir("tests/descriptions/bad");
    let tomls = files(&bad, ".toml");
    assert!(tomls.len() >= 10, "only {} malformed descriptions", tomls.len());
    for e in files(&bad, ".err") {
        assert!(e.with_extension("toml").is_file(), "{} has no .toml", e.display());
    }
    let mut failures = Vec::new();
    for t in &tomls {
        let err_file = t.with_extension("err");
        let want = std::fs::read_to_string(&err_file)
            .unwrap_or_else(|_| panic!("{} has no .err file", t.display()))
            .trim()
            .to_string();
        assert!(!want.is_empty(), "{} is empty", err_file.display());
        match describe::load(t) {
            Ok(_) => failures.push(format!("{}: validated, expected `{want}`", t.display())),
            Err(e) if !e.to_string().contains(&want) => {
                failures.push(format!("{}:\n  got  `{e}`\n  want `{want}`", t.display()))
            }
            Err(_) => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn good_descriptions_and_the_reference_models_validate() {
    let mut all = files(&dir("tests/descriptions/good"), ".toml");
    let models = files(&dir("../models"), ".model.toml");
    assert!(models.len() >= 4, "{models:?}");
    all.extend(models);
    for f in all {
        let m = describe::load(&f).unwrap_or_else(|e| panic!("{e}"));
        assert!(m.budget.flash_estimate > 0 && m.budget.ram_estimate > 0);
        if let Some(b) = m.budget.flash_bytes {
            assert!(m.budget.flash_estimate <= b);
        }
    }
}

/// `models/conv.model.toml` is the shipped architecture: the same weight shapes, the same storage
/// groups as the trainer's default quantisation, and its flash estimate is the exact size of
/// that blob with every group at 15 bits.
#[test]
fn the_conv_description_is_the_default_architecture() {
    use trainer::diffq::DiffqConfig;
    use trainer::model::Arch;
    let m = describe::load(&dir("../models/conv.model.toml")).unwrap();
    let arch = Arch::new(64);
    let f = &m.frontend;
    assert_eq!(
        (f.n_features(), f.n_outputs(), f.in_mean, f.in_shift),
        (arch.n_features, arch.n_out, arch.in_mean, arch.in_shift)
    );
    let cfg = DiffqConfig::default();
    let weighted = arch.weighted();
    let specs: Vec<_> = m.nodes.iter().flat_map(|n| n.weights.clone()).collect();
    assert_eq!(specs.len(), weighted.len());
    let mut layouts = Vec::new();
    for (i, (s, w)) in specs.iter().zip(&weighted).enumerate() {
        assert_eq!((s.shape.rows, s.shape.row_len, s.shape.inner), (w.out, w.kernel * w.inp, w.inp));
        let want = cfg.layout_for(&format!("w{i}"), w.count(), w.inp, w.kernel * w.inp).unwrap();
        assert_eq!(s.layout, Some(want));
        layouts.push(Some(want));
    }
    let convs: Vec<_> = m
        .nodes
        .iter()
        .filter_map(|n| if let Op::Conv1d { dilation, .. } = n.op { Some(dilation) } else { None })
        .collect();
    assert_eq!(convs, arch.dilations);
    assert!(m.nodes.iter().all(|n| matches!(n.quant, Some(LayerQuant::Learnt { group_size: 64, .. }))));
    // the graph blob at 15 bits holds the chain blob's packed weights; only the tables differ
    // (models/README.md, "The default as a graph", accounts for every byte)
    let blob = trainer::qstate::blob_layout(&arch, &layouts, true);
    let at15: Vec<Vec<u8>> = layouts.iter().flatten().map(|l| vec![15; l.n_groups]).collect();
    let chain = blob.exact_bytes(&at15).unwrap();
    assert!(m.budget.flash_estimate.abs_diff(chain) < 256, "{} vs {chain}", m.budget.flash_estimate);
}

/// The arena planner reuses freed space and keeps values that are read later.
#[test]
fn arena_reuses_dead_values_and_keeps_skip_connections() {
    let chain = describe::load(&dir("../models/conv.model.toml")).unwrap();
    // features at 0..128, c1 at 128..192; c2 reuses 0..64, c3 64..128; the mask's 129 values do
    // not fit below c3, so they go at 128..257 (first fit, in layer order).
    assert_eq!(describe::footprint(&chain).unwrap().arena, 257);
    let tcn = describe::load(&dir("../models/tcn.model.toml")).unwrap();
    // a block input stays live across its two convolutions: in, dw, pw at once (64 each)
    assert!(describe::footprint(&tcn).unwrap().arena >= 3 * 64);
    assert_eq!(tcn.nodes.last().map(|n| n.shape), Some(Shape::Vec(129)));
}

/// The flash figure is the blob at the widest widths: one bit less on every group of the conv
/// model (all of it quantised, 64-weight groups) is exactly one bit less per weight.
#[test]
fn flash_is_the_blob_at_the_widest_widths() {
    let path = dir("../models/conv.model.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("max_bits = 15"));
    let m15 = describe::parse(&text, &path).unwrap();
    let m14 = describe::parse(&text.replace("max_bits = 15", "max_bits = 14"), &path).unwrap();
    assert_eq!(m15.budget.flash_estimate - m14.budget.flash_estimate, m15.n_weights() / 8);
    assert_eq!(m15.budget.ram_estimate, m14.budget.ram_estimate);
}
