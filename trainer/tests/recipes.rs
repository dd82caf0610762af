//! Recipe files: the shipped model's resolve to the configuration it was trained with (its
//! checkpoint metadata, `models/conv8k.train.json`), unknown keys are errors naming the key,
//! and flags given with `--config` override the file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use clap::Parser;
use std::path::{Path, PathBuf};
use trainer::checkpoint::Meta;
use trainer::cli::{Cli, Cmd, TrainArgs};
use trainer::config::{preset, ConfigError, Method, Recipe, RunConfig};
use trainer::noise::NoiseType;

fn models() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../models")
}

fn args(v: &[&str]) -> TrainArgs {
    let mut all = vec!["trainer", "train"];
    all.extend_from_slice(v);
    match Cli::try_parse_from(all).unwrap().cmd {
        Cmd::Train(a) => *a,
        _ => unreachable!(),
    }
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("trainer-recipes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn the_shipped_recipe_is_the_shipped_models_configuration() {
    let json = std::fs::read_to_string(models().join("conv8k.train.json")).unwrap();
    let meta: Meta = serde_json::from_str(&json).unwrap();
    let diffq = models().join("conv8k.toml");
    let run: RunConfig = args(&["--config", diffq.to_str().unwrap(), "--out", "/runs/diffq3"]).run_config().unwrap();
    assert_eq!(run.method, meta.method);
    assert_eq!(run.arch, meta.arch);
    assert_eq!(run.diffq, meta.diffq);
    assert_eq!(run.train, meta.train);
    assert_eq!(run.from.as_deref(), Some(Path::new("/runs/fp32")), "`from` is taken from the parent of --out");

    let fp32 = models().join("conv8k.fp32.toml");
    let stage1 = args(&["--config", fp32.to_str().unwrap(), "--out", "/runs/fp32"]).run_config().unwrap();
    let p = preset("default").unwrap();
    assert_eq!((stage1.method, stage1.from), (Method::Fp32, None));
    assert_eq!((stage1.arch, stage1.diffq, stage1.train), (p.arch, p.diffq, p.train), "stage 1 is the preset");
}

/// The 16 kHz model's recipe, noise kinds included, resolves to the configuration its shipped
/// blob (`models/gru16k.dqem`) was trained with (`models/gru16k.train.json`).
#[test]
fn the_16k_recipe_is_the_16k_models_configuration() {
    let json = std::fs::read_to_string(models().join("gru16k.train.json")).unwrap();
    let meta: Meta = serde_json::from_str(&json).unwrap();
    let (diffq, model) = (models().join("gru16k.toml"), models().join("gru16k.model.toml"));
    // The file's `model` is relative to the repository root, where the commands run.
    let model = ["--model", model.to_str().unwrap()];
    let run = args(&[&["--config", diffq.to_str().unwrap(), "--out", "/runs/gru16k-diffq3"][..], &model].concat())
        .run_config()
        .unwrap();
    assert_eq!((run.method, run.arch, run.diffq), (meta.method, meta.arch, meta.diffq));
    assert_eq!(run.train, meta.train);
    assert_eq!(run.train.noise_kinds.len(), 11, "every noise kind, from the file");
    assert_eq!(run.from.as_deref(), Some(Path::new("/runs/gru16k-fp32")));
    let fp32 = models().join("gru16k.fp32.toml");
    let stage1 = args(&[&["--config", fp32.to_str().unwrap(), "--out", "/runs/gru16k-fp32"][..], &model].concat())
        .run_config()
        .unwrap();
    assert_eq!(stage1.train.noise_kinds, meta.train.noise_kinds, "both stages on the same data");
}

#[test]
fn the_noise_kinds_flag_overrides_the_files_and_the_default_stays() {
    let f = temp_file("kinds.toml", "preset = \"tiny\"\nnoise_kinds = [\"babble\", \"hum\"]\n");
    let file = f.to_str().unwrap();
    let run = args(&["--config", file, "--out", "/runs/x"]).run_config().unwrap();
    assert_eq!(run.train.noise_kinds, vec![NoiseType::Babble, NoiseType::Hum]);
    let run = args(&["--config", file, "--out", "/runs/x", "--noise-kinds", "white"]).run_config().unwrap();
    assert_eq!(run.train.noise_kinds, vec![NoiseType::White]);
    let run = args(&["--preset", "tiny", "--out", "/runs/x"]).run_config().unwrap();
    assert_eq!(run.train.noise_kinds, trainer::data::ALL_KINDS.to_vec());
    let bad = temp_file("bad-kind.toml", "noise_kinds = [\"thunder\"]\n");
    let msg = Recipe::load(&bad, Path::new("/runs")).unwrap_err().to_string();
    assert!(msg.contains("thunder") && msg.contains("bad-kind.toml"), "{msg}");
}

#[test]
fn unknown_keys_are_errors_naming_the_key() {
    let f = temp_file("typo.toml", "preset = \"tiny\"\nnoise-kind = \"uniform\"\n");
    let e = Recipe::load(&f, Path::new("/runs")).unwrap_err();
    assert!(matches!(e, ConfigError::ParseRecipe { .. }));
    let msg = e.to_string();
    assert!(msg.contains("noise-kind") && msg.contains("typo.toml"), "{msg}");
    let f = temp_file("bad-value.toml", "steps = \"many\"\n");
    let msg = Recipe::load(&f, Path::new("/runs")).unwrap_err().to_string();
    assert!(msg.contains("steps"), "{msg}");
    let msg = Recipe::load(Path::new("/nonexistent/recipe.toml"), Path::new("/runs")).unwrap_err().to_string();
    assert!(msg.contains("/nonexistent/recipe.toml"), "{msg}");
}

#[test]
fn flags_override_the_file() {
    let f = temp_file(
        "stage.toml",
        "preset = \"tiny\"\nsteps = 7\ntarget_bits = 6\nfreeze_bits = 0.5\nfill_budget = true\nfrom = \"/abs/fp32\"\n",
    );
    let file = f.to_str().unwrap();
    let plain = args(&["--config", file, "--out", "/runs/x"]).run_config().unwrap();
    assert_eq!(plain.train.steps, 7);
    assert_eq!(plain.train.target_bytes, Some(6.0 * plain.arch.macs() as f64 / 8.0));
    assert!(plain.train.fill_budget);
    assert_eq!(plain.from.as_deref(), Some(Path::new("/abs/fp32")), "an absolute `from` stays");

    let over = args(&["--config", file, "--out", "/runs/x", "--steps", "5", "--target-kb", "7", "--fill-budget=false"]);
    let run = over.run_config().unwrap();
    assert_eq!(run.train.steps, 5);
    assert_eq!(run.train.target_bytes, Some(7.0 * 1024.0), "a target flag replaces the file's target");
    assert!(!run.train.fill_budget);
    assert_eq!(run.train.freeze_bits, Some(0.5), "what the flags leave alone stays the file's");
    // the same settings as flags alone give the same run
    let flags = args(&[
        "--preset",
        "tiny",
        "--steps",
        "5",
        "--target-kb",
        "7",
        "--freeze-bits",
        "0.5",
        "--from",
        "/abs/fp32",
        "--out",
        "/runs/x",
    ]);
    assert_eq!(flags.run_config().unwrap(), run);
}

#[test]
fn a_recipe_is_checked_like_flags() {
    let f = temp_file("two-targets.toml", "target_kb = 7\ntarget_bits = 3\n");
    assert!(matches!(Recipe::load(&f, Path::new("/runs")), Err(ConfigError::TwoTargets)));
    let f = temp_file("fill.toml", "preset = \"tiny\"\nfill_budget = true\n");
    let e = args(&["--config", f.to_str().unwrap(), "--out", "/runs/x"]).run_config().unwrap_err();
    assert!(matches!(e, ConfigError::FillBudgetNeedsFreezeAndTarget), "{e}");
    let f = temp_file("distill.toml", "preset = \"tiny\"\ndistill = 0.3\n");
    let e = args(&["--config", f.to_str().unwrap(), "--out", "/runs/x"]).run_config().unwrap_err();
    assert!(e.to_string().contains("--from"), "{e}");
    let f = temp_file("preset.toml", "preset = \"huge\"\n");
    let e = args(&["--config", f.to_str().unwrap(), "--out", "/runs/x"]).run_config().unwrap_err();
    assert!(e.to_string().contains("huge"), "{e}");
}
