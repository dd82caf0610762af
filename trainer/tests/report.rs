//! `trainer report`: every picture from a tiny synthetic run, and clear errors on bad inputs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_trainer"))
}

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn failed(o: &Output) -> String {
    assert!(!o.status.success(), "expected a failure, got: {}", String::from_utf8_lossy(&o.stdout));
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Both files of picture `name` exist: a PNG (its signature) and an SVG document, not empty.
fn assert_picture(dir: &Path, name: &str) {
    let png = std::fs::read(dir.join(format!("{name}.png"))).unwrap();
    assert!(png.len() > 1000 && png.starts_with(b"\x89PNG\r\n\x1a\n"), "{name}.png: {} bytes", png.len());
    let svg = std::fs::read_to_string(dir.join(format!("{name}.svg"))).unwrap();
    assert!(svg.len() > 1000 && svg.contains("<svg") && svg.trim_end().ends_with("</svg>"), "{name}.svg");
}

/// A tiny run, its blob, a clip from the synthetic corpus and a points table.
struct Inputs {
    c: common::Corpus,
    run: String,
    blob: String,
}

fn inputs(tag: &str) -> Inputs {
    let c = common::make(tag);
    let (sp, nz) = (common::s(&c.speech), common::s(&c.noise));
    let run = common::s(&c.root.join("run"));
    ok(&bin()
        .args(["train", "--preset", "tiny", "--steps", "6", "--ckpt-every", "2", "--out", &run, "--speech", &sp])
        .args(["--noise", &nz])
        .output()
        .unwrap());
    let blob = common::s(&c.root.join("m.dqem"));
    ok(&bin()
        .args(["export", "--ckpt", &run, "--out", &blob, "--speech", &sp, "--noise", &nz, "--calib", "2"])
        .output()
        .unwrap());
    Inputs { c, run, blob }
}

#[test]
fn report_draws_every_picture_and_refuses_bad_inputs() {
    let i = inputs("report");
    let root = &i.c.root;
    let speech: Vec<f32> = (0..8000).map(|k| 0.3 * (k as f32 * 0.05).sin()).collect();
    let noisy: Vec<f32> =
        speech.iter().enumerate().map(|(k, s)| s + 0.05 * ((k * 7919 % 97) as f32 / 97.0 - 0.5)).collect();
    let (clean_wav, noisy_wav) = (root.join("clean.wav"), root.join("noisy.wav"));
    trainer::audio::write_wav(&clean_wav, &speech).unwrap();
    trainer::audio::write_wav(&noisy_wav, &noisy).unwrap();
    let points = root.join("points.toml");
    std::fs::write(
        &points,
        "source = \"test\"\n[[point]]\nmethod = \"fp32\"\nlabel = \"a\"\nbytes = 200000\nsi_sdri = 6.5\n\
         [[point]]\nmethod = \"diffq\"\nlabel = \"b\"\nbytes = 20000\nsi_sdri = 6.2\n",
    )
    .unwrap();
    let out = root.join("pictures");
    let (cl, nw, pts, o) = (common::s(&clean_wav), common::s(&noisy_wav), common::s(&points), common::s(&out));
    let stdout = ok(&bin()
        .args(["report", "--run", &i.run, "--model", &i.blob, "--points", &pts, "--clip", &nw, "--clean", &cl])
        .args(["--out", &o])
        .output()
        .unwrap());
    assert_eq!(stdout.lines().count(), 8, "{stdout}");
    for name in ["curves", "bits-m", "pareto", "spectrogram"] {
        assert_picture(&out, name);
    }
    let svg = std::fs::read_to_string(out.join("spectrogram.svg")).unwrap();
    assert!(svg.contains("256-point sqrt-Hann frames, 16 ms hop"), "the 8 kHz STFT's title");

    // The Pareto plot of blobs evaluated on the test set, as `trainer eval` does.
    let (sp, nz) = (common::s(&i.c.speech), common::s(&i.c.noise));
    let out2 = common::s(&root.join("eval"));
    ok(&bin().args(["report", "--eval", &i.blob, "--speech", &sp, "--noise", &nz, "--out", &out2]).output().unwrap());
    assert_picture(&root.join("eval"), "pareto");

    // A node graph's widths, a GRU's two matrices apart, and a 16 kHz STFT: the shipped 16 kHz
    // model on the 16 kHz demo clip.
    let repo = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let (graph, clip16, clean16) = (
        format!("{repo}/models/gru16k.dqem"),
        format!("{repo}/data/clip-16k/noisy.wav"),
        format!("{repo}/data/clip-16k/clean.wav"),
    );
    let out3 = root.join("graph");
    ok(&bin()
        .args(["report", "--model", &graph, "--clip", &clip16, "--clean", &clean16, "--out", &common::s(&out3)])
        .output()
        .unwrap());
    assert_picture(&out3, "bits-gru16k");
    let svg = std::fs::read_to_string(out3.join("bits-gru16k.svg")).unwrap();
    for panel in ["node 0, linear: 48 × 256", "gru W_x: 144 × 48", "gru W_h: 144 × 48", "linear: 257 × 48"] {
        assert!(svg.contains(panel), "panel {panel} missing");
    }
    let svg = std::fs::read_to_string(out3.join("spectrogram.svg")).unwrap();
    assert!(svg.contains("512-point sqrt-Hann frames, 16 ms hop"), "the 16 kHz STFT's title");

    // Bad inputs: clear errors naming the file, and nothing drawn.
    let bad_out = common::s(&root.join("bad"));
    let missing = common::s(&root.join("no-such-run"));
    let e = failed(&bin().args(["report", "--run", &missing, "--out", &bad_out]).output().unwrap());
    assert!(e.contains("no-such-run") && e.contains("checkpoint.json"), "{e}");
    let e = failed(&bin().args(["report", "--run", &common::s(root), "--out", &bad_out]).output().unwrap());
    assert!(e.contains("no readable checkpoint.json in the run directory"), "{e}");
    let e = failed(&bin().args(["report", "--model", &pts, "--out", &bad_out]).output().unwrap());
    assert!(e.contains("points.toml") && e.contains("not a model blob"), "{e}");
    let e = failed(&bin().args(["report", "--model", &i.run, "--out", &bad_out]).output().unwrap());
    assert!(e.contains("is a directory") && e.contains("export it first"), "{e}");
    let e = failed(&bin().args(["report", "--points", &cl, "--out", &bad_out]).output().unwrap());
    assert!(e.contains("points file") && e.contains("clean.wav"), "{e}");
    let wide = root.join("16k.wav");
    audio_tools::write_f32(&wide, 16000, &speech).unwrap();
    // a 16 kHz clip is converted to the model's rate, and its panel says so
    let wide_out = common::s(&root.join("wide"));
    let args = ["report", "--model", &i.blob, "--clip", &common::s(&wide), "--clean", &cl, "--out", &wide_out];
    let o = bin().args(args).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let svg = std::fs::read_to_string(root.join("wide/spectrogram.svg")).unwrap();
    assert!(svg.contains("16k.wav, 16000 Hz mono → 8000 Hz mono"), "the converted clip's title");
    let e = failed(&bin().args(["report", "--clip", &nw, "--clean", &cl, "--out", &bad_out]).output().unwrap());
    assert!(e.contains("--clip needs a --model"), "{e}");
    let e = failed(&bin().args(["report", "--out", &bad_out]).output().unwrap());
    assert!(e.contains("nothing to draw"), "{e}");
    assert!(!root.join("bad").exists(), "a failed report wrote pictures");
}
