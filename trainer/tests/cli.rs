//! The binary: JSON last line, exit codes, clear errors on bad input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_trainer"))
}

#[test]
fn train_export_inspect_denoise_via_cli() {
    let c = common::make("cli");
    let (sp, nz) = (common::s(&c.speech), common::s(&c.noise));
    let out = common::s(&c.root.join("run"));
    let o = bin()
        .args(["train", "--preset", "tiny", "--steps", "5", "--out", &out, "--speech", &sp, "--noise", &nz, "--json"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8(o.stdout).unwrap();
    let last: serde_json::Value = serde_json::from_str(&stdout).unwrap(); // all of stdout
    assert_eq!(last["steps"], 5);

    let blob = common::s(&c.root.join("m.dqem"));
    let o = bin()
        .args(["export", "--ckpt", &out, "--out", &blob, "--speech", &sp, "--noise", &nz, "--calib", "2", "--json"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ex: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap(); // all of stdout
    assert_eq!(ex["blob_bytes"].as_u64().unwrap(), std::fs::metadata(&blob).unwrap().len());

    let o = bin().args(["inspect", &blob, "--json"]).output().unwrap();
    assert!(o.status.success());
    let stdout = String::from_utf8(o.stdout).unwrap();
    let info: serde_json::Value = serde_json::from_str(&stdout).unwrap(); // all of stdout
    assert_eq!(info["layers"].as_array().unwrap().len(), 8);
    assert_eq!(info["total_bytes"].as_u64().unwrap(), std::fs::metadata(&blob).unwrap().len());

    let o = bin()
        .args([
            "eval",
            "--model",
            &blob,
            "--speech",
            &sp,
            "--noise",
            &nz,
            "--per-snr",
            "1",
            "--seconds",
            "1",
            "--path",
            "int",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8(o.stdout).unwrap();
    let ev: serde_json::Value = serde_json::from_str(&stdout).unwrap(); // all of stdout
    assert_eq!(ev["test_set"]["fingerprint"].as_str().unwrap().len(), 16);
    assert!(String::from_utf8_lossy(&o.stderr).contains("SI-SDRi"), "the table goes to stderr");
    assert!(ev["si_sdri"].as_f64().unwrap().is_finite());

    let wav_in = c.root.join("in.wav");
    trainer::audio::write_wav(&wav_in, &vec![0.01; 3000]).unwrap();
    let wav_out = c.root.join("out.wav");
    let o = bin().args(["denoise", "--model", &blob, &common::s(&wav_in), &common::s(&wav_out)]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(trainer::audio::read_wav(&wav_out).unwrap().0.len(), 3000);

    // bad inputs: clear errors, no panic
    let bad = c.root.join("bad.dqem");
    std::fs::write(&bad, b"DQEM not a model").unwrap();
    let o = bin().args(["inspect", &common::s(&bad)]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("invalid model blob"));
    let o = bin().args(["inspect", "/nonexistent.dqem"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let o = bin()
        .args(["denoise", "--model", &common::s(&bad), &common::s(&wav_in), &common::s(&wav_out)])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let o = bin().args(["denoise", "--model", &blob, &common::s(&bad), &common::s(&wav_out)]).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("bad.dqem"));
    // the train errors below, into a directory that holds no run
    let fresh = common::s(&c.root.join("fresh"));
    let o =
        bin().args(["train", "--preset", "tiny", "--out", &fresh, "--speech", "/nonexistent/dir"]).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent/dir"));
    let o = bin()
        .args(["train", "--preset", "tiny", "--out", &fresh, "--method", "ptq4", "--speech", &sp, "--noise", &nz])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--from"));
    let o =
        bin().args(["train", "--out", &fresh, "--group-size", "12", "--speech", &sp, "--noise", &nz]).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("group size"), "{}", String::from_utf8_lossy(&o.stderr));
    let o = bin()
        .args([
            "train",
            "--preset",
            "tiny",
            "--out",
            &fresh,
            "--fill-budget",
            "--target-kb",
            "7",
            "--speech",
            &sp,
            "--noise",
            &nz,
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--freeze-bits"), "{}", String::from_utf8_lossy(&o.stderr));
    let o = bin().args(["train", "--bogus"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    // a recipe file with a key that is no setting: exit 1, the key named
    let typo = c.root.join("typo.toml");
    std::fs::write(&typo, "preset = \"tiny\"\nnoise-kind = \"uniform\"\n").unwrap();
    let o = bin().args(["train", "--config", &common::s(&typo), "--out", &fresh]).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("unknown field `noise-kind`") && err.contains("typo.toml"), "{err}");
}

/// `bench-step`: one JSON document; the fused and the graph step make the same DiffQ steps
/// (the same losses to float rounding), and the dump holds the batch and the weights.
#[test]
fn bench_step_times_both_step_implementations_alike() {
    let c = common::make("bench");
    let (sp, nz) = (common::s(&c.speech), common::s(&c.noise));
    let dump = c.root.join("dump");
    let bench = |imp: &str| {
        let mut args = vec!["bench-step", "--preset", "tiny", "--method", "diffq", "--measure", "3", "--warmup", "1"];
        args.extend(["--step-impl", imp, "--speech", &sp, "--noise", &nz, "--json"]);
        let d = common::s(&dump);
        if imp == "fused" {
            args.extend(["--dump", &d]);
        }
        let o = bin().args(&args).env("CANDLE_NUM_THREADS", "1").output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap() // all of stdout
    };
    let (f, g) = (bench("fused"), bench("graph"));
    assert_eq!((f["step_impl"].as_str(), g["step_impl"].as_str()), (Some("fused"), Some("graph")));
    assert_eq!((f["steps"].as_u64(), f["threads"].as_u64()), (Some(3), Some(1)));
    assert!(f["step_ms"].as_f64().unwrap() > 0.0);
    for key in ["first_loss", "last_loss"] {
        let (a, b) = (f[key].as_f64().unwrap(), g[key].as_f64().unwrap());
        assert!((a - b).abs() <= 1e-3 * b.abs(), "{key}: fused {a}, graph {b}");
    }
    assert!(dump.join("inputs.safetensors").is_file() && dump.join("inputs.json").is_file());
}

/// `convert`: the shipped chain blob to a version 5 graph that `inspect` reads; a graph is
/// refused (exit 1, named), and so is writing over the input.
#[test]
fn convert_rewrites_the_default_as_a_graph() {
    let c = common::make("convert");
    let default = concat!(env!("CARGO_MANIFEST_DIR"), "/../models/conv8k.dqem");
    let out = common::s(&c.root.join("default.v5.dqem"));
    let o = bin().args(["convert", default, "--out", &out]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let blob = std::fs::read(&out).unwrap();
    assert_eq!(u16::from_le_bytes([blob[4], blob[5]]), 5, "format version");
    let o = bin().args(["inspect", &out]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let again = common::s(&c.root.join("again.dqem"));
    let o = bin().args(["convert", &out, "--out", &again]).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("version 5"), "{}", String::from_utf8_lossy(&o.stderr));
    let o = bin().args(["convert", &out, "--out", &out]).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("refusing"), "{}", String::from_utf8_lossy(&o.stderr));
}

/// `relayout`: the shipped blob as lane pairs (same size, other bytes) and back (the same bytes);
/// a file that is not a blob is refused with its name, and so is writing over the input.
#[test]
fn relayout_stores_lane_pairs_and_back() {
    let c = common::make("relayout");
    let default = concat!(env!("CARGO_MANIFEST_DIR"), "/../models/conv8k.dqem");
    let (lanes, back) = (common::s(&c.root.join("lanes.dqem")), common::s(&c.root.join("back.dqem")));
    let o = bin().args(["relayout", default, "--out", &lanes]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("4 tensors"), "{}", String::from_utf8_lossy(&o.stderr));
    let (orig, relaid) = (std::fs::read(default).unwrap(), std::fs::read(&lanes).unwrap());
    assert_eq!(relaid.len(), orig.len());
    assert_ne!(relaid, orig);
    let o = bin().args(["relayout", &lanes, "--to", "rows", "--out", &back]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(std::fs::read(&back).unwrap() == orig, "relaid back: other bytes");
    let o = bin().args(["relayout", &lanes, "--out", &lanes]).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("refusing"), "{}", String::from_utf8_lossy(&o.stderr));
    let junk = c.root.join("junk.dqem");
    std::fs::write(&junk, b"not a blob").unwrap();
    let o = bin().args(["relayout", &common::s(&junk), "--out", &back]).output().unwrap();
    assert_ne!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stderr).contains("junk.dqem"), "{}", String::from_utf8_lossy(&o.stderr));
}

/// `check-model`: a reference description's table and footprint, whose flash figure is the
/// budget check's; a bad description exits 2 with its error at file:line:col.
#[test]
fn check_model_prints_the_footprint_or_the_error() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/descriptions");
    let tcn = concat!(env!("CARGO_MANIFEST_DIR"), "/../models/tcn.model.toml");
    let o = bin().args(["check-model", tcn]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    let m = trainer::describe::load(std::path::Path::new(tcn)).unwrap();
    let flash = format!("flash: {} bytes", m.budget.flash_estimate);
    assert!(out.contains(&flash) && out.contains("| b4 | add | b3, b4_pw | 64 |"), "{out}");
    let o = bin().args(["check-model", &format!("{dir}/bad/add_widths.toml")]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let want = std::fs::read_to_string(format!("{dir}/bad/add_widths.err")).unwrap();
    assert!(String::from_utf8_lossy(&o.stderr).contains(want.trim()), "{}", String::from_utf8_lossy(&o.stderr));
}
