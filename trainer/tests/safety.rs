//! The binary never destroys data and never aborts on a size: outputs are refused over inputs
//! and over existing runs, a full disk is an error naming the file and leaves nothing behind,
//! damaged checkpoints are refused, oversized requests are errors at parse time, and the
//! messages say what is wrong and where.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trainer")).args(args).env("CANDLE_NUM_THREADS", "1").output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn model() -> String {
    common::s(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/conv8k.dqem"))
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

/// A scratch directory with a short 8 kHz WAV `in.wav`.
fn scratch(tag: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::Builder::new().prefix(&format!("trainer-safety-{tag}-")).tempdir().unwrap();
    let wav = dir.path().join("in.wav");
    trainer::audio::write_wav(&wav, &(0..2000).map(|i| (i as f32 * 0.1).sin() * 0.1).collect::<Vec<_>>()).unwrap();
    (dir, wav)
}

#[test]
fn denoise_refuses_to_write_over_its_input_or_its_model() {
    let (dir, wav) = scratch("same");
    let before = std::fs::read(&wav).unwrap();
    let other_name = dir.path().join("sub/../in.wav");
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    let hard_link = dir.path().join("link.wav");
    std::fs::hard_link(&wav, &hard_link).unwrap();
    for out in [&wav, &other_name, &hard_link] {
        let o = run(&["denoise", "--model", &model(), &common::s(&wav), &common::s(out)]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(stderr(&o).contains("refusing to write") && stderr(&o).contains("in.wav"), "{}", stderr(&o));
    }
    assert!(std::fs::read(&wav).unwrap() == before, "the input is untouched");
    let blob = dir.path().join("m.dqem");
    std::fs::copy(model(), &blob).unwrap();
    let o = run(&["denoise", "--model", &common::s(&blob), &common::s(&wav), &common::s(&blob)]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(std::fs::read(&blob).unwrap() == std::fs::read(model()).unwrap(), "the model is untouched");
}

#[test]
fn a_full_disk_is_an_error_naming_the_file_and_leaves_nothing() {
    use std::os::unix::fs::FileTypeExt;
    if !std::fs::metadata("/dev/full").is_ok_and(|m| m.file_type().is_char_device()) {
        eprintln!("no /dev/full: skipped");
        return;
    }
    let (dir, wav) = scratch("full");
    let out = dir.path().join("out.wav");
    std::os::unix::fs::symlink("/dev/full", &out).unwrap(); // writes through it get ENOSPC
    let o = run(&["denoise", "--model", &model(), &common::s(&wav), &common::s(&out)]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("out.wav") && stderr(&o).contains("No space left on device"), "{}", stderr(&o));
    assert!(std::fs::symlink_metadata(&out).unwrap().file_type().is_symlink(), "the link is not replaced");
    assert!(std::fs::metadata("/dev/full").unwrap().file_type().is_char_device());
    assert_eq!(names(dir.path()), ["in.wav", "out.wav"], "no temporary or partial file");
}

#[test]
fn empty_truncated_and_unfinished_wavs_are_errors_that_write_nothing() {
    let (dir, wav) = scratch("wavs");
    let full = std::fs::read(&wav).unwrap();
    let mut empty = full[..44].to_vec();
    empty[4..8].copy_from_slice(&36u32.to_le_bytes());
    empty[40..44].copy_from_slice(&0u32.to_le_bytes());
    let truncated = full[..full.len() - 1001].to_vec();
    let mut unfinished = full.clone(); // the sizes a writer puts in before it completes the header
    unfinished[40..44].copy_from_slice(&0u32.to_le_bytes());
    for (name, bytes, says) in [
        ("empty.wav", empty, "no audio samples"),
        ("truncated.wav", truncated, "truncated: the header announces 2000 samples, the file holds 1499"),
        ("unfinished.wav", unfinished, "unfinished: the header announces no samples but 4000 bytes of audio follow"),
    ] {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        let out = dir.path().join(format!("out-{name}"));
        let o = run(&["denoise", "--model", &model(), &common::s(&p), &common::s(&out)]);
        assert_eq!(o.status.code(), Some(1), "{name}: {}", stderr(&o));
        assert!(stderr(&o).contains(name) && stderr(&o).contains(says), "{name}: {}", stderr(&o));
        assert!(!out.exists(), "{name}: no output");
    }
}

#[test]
fn sizes_past_their_limits_are_errors_naming_flag_value_and_limit() {
    let c = common::make("limits");
    let (m, sp, nz) = (model(), common::s(&c.speech), common::s(&c.noise));
    let eval = |flag: &'static str, v: &'static str| {
        vec!["eval", "--model", m.as_str(), "--speech", sp.as_str(), "--noise", nz.as_str(), flag, v]
    };
    for (args, code, says) in [
        (eval("--seconds", "1e6"), 2, ["--seconds", "1e6", "60"]),
        (eval("--per-snr", "100000"), 2, ["--per-snr", "100000", "1000"]),
        (eval("--seconds", "NaN"), 2, ["--seconds", "NaN", "60"]),
        (vec!["export", "--ckpt", "x", "--out", "y", "--calib", "9999999"], 2, ["--calib", "9999999", "1000"]),
        (
            vec!["denoise", "--model", "m", "--max-buffer-mib", "2000000", "a", "b"],
            2,
            ["--max-buffer-mib", "2000000", "1048576"],
        ),
        (vec!["train", "--out", "/nonexistent/x", "--seconds", "1e9"], 1, ["--seconds", "1000000000", "60"]),
        (vec!["train", "--out", "/nonexistent/x", "--batch", "100000"], 1, ["--batch", "100000", "256"]),
        (vec!["train", "--out", "/nonexistent/x", "--width", "65536"], 1, ["--width", "65536", "512"]),
        (vec!["train", "--out", "/nonexistent/x", "--steps", "99999999999"], 1, ["--steps", "99999999999", "10000000"]),
    ] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(code), "{args:?}: {}", stderr(&o));
        assert!(says.iter().all(|s| stderr(&o).contains(s)), "{args:?}: {}", stderr(&o));
    }
}

/// A valid denoiser blob whose streaming state takes 1.9 MiB: a 16-tap conv1d at dilation 256.
fn wide_state_blob() -> Vec<u8> {
    use runtime::dsp::{BINS, N_FEATURES};
    let mut w = runtime::writer::BlobWriter::new(N_FEATURES);
    let weights = w.f16_tensor(&vec![0.001; BINS * 16 * N_FEATURES]).unwrap();
    w.conv1d(weights, None, N_FEATURES, BINS, 16, 256).unwrap();
    w.sigmoid().unwrap();
    w.finish().unwrap()
}

#[test]
fn a_blob_asking_for_more_buffers_than_the_cap_is_refused_before_allocating() {
    let (dir, wav) = scratch("cap");
    let blob = dir.path().join("wide.dqem");
    std::fs::write(&blob, wide_state_blob()).unwrap();
    let o = run(&["inspect", &common::s(&blob), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let info: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&o.stdout).lines().last().unwrap()).unwrap();
    let needed = info["buffer_bytes"]["f32_path"].as_u64().unwrap();
    assert_eq!(needed, 4 * (2 * 129 + 3841 * 128), "arena 2 × widest + state (15 · 256 + 1) · 128, in f32");
    assert_eq!(info["buffer_bytes"]["int_path"].as_u64(), Some(0), "no integer path");
    let out = dir.path().join("out.wav");
    let o =
        run(&["denoise", "--model", &common::s(&blob), "--max-buffer-mib", "1", &common::s(&wav), &common::s(&out)]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("wide.dqem") && e.contains(&format!("{needed} bytes")) && e.contains("1 MiB"), "{e}");
    assert!(!out.exists());
    let o = run(&["denoise", "--model", &common::s(&blob), &common::s(&wav), &common::s(&out)]);
    assert!(o.status.success(), "under the default cap: {}", stderr(&o));
}

#[test]
fn wrong_kinds_of_path_are_named() {
    let c = common::make("kinds");
    let (sp, nz) = (common::s(&c.speech), common::s(&c.noise));
    let a_file = common::s(&c.noise.join("other-synth.wav"));
    for flag in ["--speech", "--noise"] {
        let (s, n) = if flag == "--speech" { (a_file.as_str(), nz.as_str()) } else { (sp.as_str(), a_file.as_str()) };
        let o = run(&["eval", "--model", &model(), "--speech", s, "--noise", n, "--per-snr", "1"]);
        assert_eq!(o.status.code(), Some(1));
        let e = stderr(&o);
        assert!(e.contains(&format!("{flag} {a_file} is a file, not a directory")), "{e}");
    }
    let export = run(&["export", "--ckpt", &model(), "--out", "/nonexistent/x.dqem", "--speech", &sp, "--noise", &nz]);
    let eval = run(&["eval", "--ckpt", &model(), "--speech", &sp, "--noise", &nz, "--per-snr", "1"]);
    for o in [export, eval] {
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(stderr(&o).contains("is a .dqem model blob, not a checkpoint: give it with --model"), "{}", stderr(&o));
    }
}

fn train(c: &common::Corpus, out: &Path, steps: &str, extra: &[&str]) -> Output {
    let (sp, nz, out) = (common::s(&c.speech), common::s(&c.noise), common::s(out));
    let mut a = vec!["train", "--preset", "tiny", "--steps", steps, "--out", &out, "--speech", &sp, "--noise", &nz];
    a.extend_from_slice(extra);
    run(&a)
}

fn step_of(run: &Path) -> u64 {
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("checkpoint.json")).unwrap()).unwrap();
    meta["step"].as_u64().unwrap()
}

#[test]
fn an_existing_run_is_replaced_only_with_force_and_its_last_save_is_kept() {
    let c = common::make("rerun");
    let out = c.root.join("run");
    assert!(train(&c, &out, "6", &[]).status.success());
    let saved = std::fs::read(out.join("checkpoint.safetensors")).unwrap();
    let o = train(&c, &out, "2", &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("already holds a run") && stderr(&o).contains("--force"), "{}", stderr(&o));
    assert!(std::fs::read(out.join("checkpoint.safetensors")).unwrap() == saved, "untouched");
    let o = train(&c, &out, "2", &["--force"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(step_of(&out), 2);
    // The save before the last is kept, complete and verified by its own checksum.
    let prev = common::s(&out.join("checkpoint.prev.safetensors"));
    let (sp, nz, blob) = (common::s(&c.speech), common::s(&c.noise), common::s(&c.root.join("prev.dqem")));
    let o = run(&["export", "--ckpt", &prev, "--out", &blob, "--calib", "1", "--speech", &sp, "--noise", &nz]);
    assert!(o.status.success() && !stderr(&o).contains("warning"), "{}", stderr(&o));
    // export never writes over the checkpoint it reads
    let ck = common::s(&out.join("checkpoint.safetensors"));
    let o = run(&["export", "--ckpt", &common::s(&out), "--out", &ck, "--calib", "1"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("refusing to write"), "{}", stderr(&o));
}

#[test]
fn a_damaged_checkpoint_is_refused_and_one_without_a_checksum_loads_with_a_warning() {
    let c = common::make("crc");
    let out = c.root.join("run");
    assert!(train(&c, &out, "3", &[]).status.success());
    let (file, json) = (out.join("checkpoint.safetensors"), out.join("checkpoint.json"));
    let good = std::fs::read(&file).unwrap();
    let mut flipped = good.clone();
    let at = good.len() - 100; // in the tensor data
    flipped[at] ^= 0x04;
    std::fs::write(&file, &flipped).unwrap();
    let (sp, nz) = (common::s(&c.speech), common::s(&c.noise));
    let blob = common::s(&c.root.join("m.dqem"));
    let export = || {
        run(&["export", "--ckpt", &common::s(&out), "--out", &blob, "--calib", "1", "--speech", &sp, "--noise", &nz])
    };
    let o = export();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("checksum mismatch") && stderr(&o).contains("checkpoint.safetensors"),
        "{}",
        stderr(&o)
    );
    let o = train(&c, &out, "6", &["--resume"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("checksum mismatch"), "{}", stderr(&o));
    // As a checkpoint written before checksums: loads, with a warning.
    std::fs::write(&file, &good).unwrap();
    let mut meta: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    meta.as_object_mut().unwrap().remove("safetensors_crc32").unwrap();
    std::fs::write(&json, serde_json::to_string_pretty(&meta).unwrap()).unwrap();
    let o = export();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("warning") && stderr(&o).contains("no checksum"), "{}", stderr(&o));
}

#[test]
fn a_full_disk_during_training_is_an_error_naming_the_checkpoint() {
    use std::os::unix::fs::FileTypeExt;
    if !std::fs::metadata("/dev/full").is_ok_and(|m| m.file_type().is_char_device()) {
        eprintln!("no /dev/full: skipped");
        return;
    }
    let c = common::make("fullck");
    let out = c.root.join("run");
    std::fs::create_dir_all(&out).unwrap();
    std::os::unix::fs::symlink("/dev/full", out.join("checkpoint.safetensors")).unwrap();
    let o = train(&c, &out, "2", &["--force"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("run/checkpoint.safetensors") && e.contains("No space left on device"), "{e}");
    assert!(std::fs::metadata("/dev/full").unwrap().file_type().is_char_device());
    assert_eq!(names(&out), ["checkpoint.safetensors"], "no temporary, no JSON of a checkpoint never written");
}

#[test]
fn a_training_run_given_as_a_model_blob_is_named() {
    let c = common::make("run-as-model");
    let out = c.root.join("run");
    assert!(train(&c, &out, "2", &[]).status.success());
    let wav = c.speech.join("train-0.wav");
    let wav = if wav.exists() { wav } else { std::fs::read_dir(&c.speech).unwrap().next().unwrap().unwrap().path() };
    let dest = common::s(&c.root.join("out.wav"));
    let (dir, file) = (common::s(&out), common::s(&out.join("checkpoint.safetensors")));
    for m in [&dir, &file] {
        let o = run(&["denoise", "--model", m, &common::s(&wav), &dest]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(
            stderr(&o).contains("a training run's checkpoint, not a model blob: export it first"),
            "{}",
            stderr(&o)
        );
        let o = run(&["inspect", m]);
        assert_ne!(o.status.code(), Some(0));
        assert!(stderr(&o).contains("a training run's checkpoint, not a model blob"), "{}", stderr(&o));
    }
    assert!(!c.root.join("out.wav").exists());
}
