//! What the binary tells: the data it loaded, the size target it missed, the bit widths export
//! moved (and refuses to move below --min-bits), conversions, and progress; stdout stays JSON.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use std::process::{Command, Output};

fn run(args: &[&str]) -> (Output, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_trainer")).args(args).env("CANDLE_NUM_THREADS", "1").output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    (o, err)
}

#[test]
fn size_targets_missed_and_widths_moved_are_told() {
    let c = common::make("msg");
    let (sp, nz) = (common::s(&c.speech), common::s(&c.noise));
    let run_dir = common::s(&c.root.join("run"));
    // five steps cannot bring 8-bit widths down to a 3 bits/weight target
    let (o, err) = run(&[
        "train",
        "--preset",
        "tiny",
        "--target-bits",
        "3",
        "--steps",
        "5",
        "--out",
        &run_dir,
        "--speech",
        &sp,
        "--noise",
        &nz,
        "--json",
    ]);
    assert!(o.status.success(), "{err}");
    let s: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(err.contains("warning: the run ended at") && err.contains("from its size target"), "{err}");
    assert!(err.contains("5 run in") && err.contains("steps/s"), "final summary line: {err}");
    let names: Vec<String> = std::fs::read_dir(c.speech.join("en"))
        .unwrap()
        .map(|e| format!("en/{}", e.unwrap().file_name().to_string_lossy()))
        .collect();
    let n_train = names.iter().filter(|n| trainer::data::split_of(n) == trainer::data::Split::Train).count();
    let want = format!("speech: {n_train} files");
    let of = format!("(train split of {} listed", names.len());
    assert!(err.contains(&want) && err.contains(&of), "data summary: {err}");
    assert_eq!(s["steps_run"], 5);

    // at --min-bits 2 the 3-bit budget is out of reach: refused, with the way out named
    let blob = common::s(&c.root.join("m.dqem"));
    // the export of `run_dir` to `blob` with the test data, and `extra`
    let export = |extra: &[&str]| {
        let mut args =
            vec!["export", "--ckpt", &run_dir, "--out", &blob, "--speech", &sp, "--noise", &nz, "--calib", "2"];
        args.extend_from_slice(extra);
        run(&args)
    };
    let (o, err) = export(&[]);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("no width below 2 bits") && err.contains("--allow-below-min-bits"), "{err}");
    assert!(!std::path::Path::new(&blob).exists());

    // allowed: it fits, and says how many groups moved by how many bits
    let (o, err) = export(&["--allow-below-min-bits", "--json"]);
    assert!(o.status.success(), "{err}");
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let f = &r["budget_fit"];
    let lowered = f["groups_lowered"].as_u64().unwrap();
    assert!(lowered > 0 && f["bits_lowered"].as_u64().unwrap() >= lowered && f["min_bits"] == 1, "{r}");
    assert!(r["blob_bytes"].as_u64().unwrap() <= r["target_bytes"].as_u64().unwrap());
    let want = format!("export moved {lowered} groups down by {} bits", f["bits_lowered"]);
    assert!(err.contains(&want) && err.contains("none below 1"), "{err}");

    // a reachable budget: widths move, none below --min-bits
    let (o, err) = export(&["--target-kb", "5", "--json"]);
    assert!(o.status.success(), "{err}");
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(r["budget_fit"]["mean_bits_after"].as_f64().unwrap() >= 2.0 && r["budget_fit"]["min_bits"] == 2, "{r}");
    assert!(err.contains("warning: to fit the 5120-byte budget") && err.contains("none below 2"), "{err}");

    // denoise converts a 16 kHz stereo file, and says so
    let input = c.root.join("stereo.wav");
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 16000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&input, spec).unwrap();
    for i in 0..6000 {
        let v = ((i as f32 * 0.1).sin() * 3000.0) as i16;
        w.write_sample(v).unwrap();
        w.write_sample(v).unwrap();
    }
    w.finalize().unwrap();
    let output = c.root.join("out.wav");
    let (o, err) = run(&["denoise", "--model", &blob, &common::s(&input), &common::s(&output)]);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("converted 16000 Hz stereo → 8000 Hz mono"), "{err}");
    let (y, conversion) = trainer::audio::read_wav(&output).unwrap();
    assert_eq!((y.len(), conversion), (3000, None));
}

#[test]
fn every_option_has_help_text() {
    for cmd in ["train", "export", "eval", "inspect", "denoise", "data-manifest", "bench-step"] {
        let (o, err) = run(&[cmd, "-h"]);
        assert!(o.status.success(), "{err}");
        let help = String::from_utf8(o.stdout).unwrap();
        // the short help puts an option's text beside it: a flag alone on its line has none
        let bare: Vec<&str> = help
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with('-') && !l.contains("  ") && !l.starts_with("-h, --help") && !l.starts_with("-V"))
            .collect();
        assert!(bare.is_empty(), "{cmd}: options without help: {bare:?}");
    }
}
