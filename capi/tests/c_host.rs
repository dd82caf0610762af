//! The C API from C on the host: builds tests/c/test_host.c with the system C compiler against
//! the host's `libdqd.a`, runs its error-path checks, and compares its output on the demo clip
//! with the Rust pipeline's, bit for bit, on both paths, for the 8 kHz model on the 8 kHz clip
//! and the 16 kHz model on the 16 kHz clip.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // tests

use runtime::dsp::{Array, FrameSize, Narrowband, Wideband};
use runtime::dsp_fixed::FixedSize;
use runtime::pipeline::{Denoise, F32Denoiser, I8Denoiser};
use runtime::Model;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The shipped 8 kHz model.
const NARROWBAND_BLOB: &str = "models/conv8k.dqem";

/// The Rust pipeline hop by hop, the last hop padded with zeros (as the C test and the firmware).
fn rust_denoise<D: Denoise>(d: &mut D, input: &[i16]) -> Vec<i16> {
    let mut out = Vec::new();
    for chunk in input.chunks(D::Size::HOP) {
        let mut hop = runtime::dsp::Hop::<D::Size, i16>::filled(0);
        hop.as_mut()[..chunk.len()].copy_from_slice(chunk);
        let mut y = runtime::dsp::Hop::<D::Size, i16>::filled(0);
        d.process(&hop, &mut y).unwrap();
        out.extend_from_slice(y.as_ref());
    }
    out
}

/// The Rust pipelines' output for `noisy` with the blob `blob` at frame size `Z`: (f32, int).
fn rust_reference<Z: FixedSize>(blob: &[u8], noisy: &[i16]) -> (Vec<i16>, Vec<i16>) {
    let model = Model::parse(blob).unwrap();
    let (mut arena, mut state) = (vec![0.0f32; model.f32_arena_len()], vec![0.0f32; model.f32_state_len()]);
    let f32 = rust_denoise(&mut F32Denoiser::<i16, Z>::with_size(model, &mut arena, &mut state).unwrap(), noisy);
    let (mut arena, mut state) = (vec![0i8; model.i8_arena_len()], vec![0i8; model.i8_state_len()]);
    let int = rust_denoise(&mut I8Denoiser::<Z>::with_size(model, &mut arena, &mut state).unwrap(), noisy);
    (f32, int)
}

/// `libdqd.a` of this build's profile, beside `deps/` where this test runs from. `cargo test`
/// compiles the staticlib but leaves it under `deps/` with a hash in its name; `cargo build` of the
/// library (quick: nothing left to compile) puts it there under its own name.
fn staticlib() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo.args(["build", "-q", "-p", "diffq-denoise-c", "--lib"]);
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        cargo.arg("--release");
    }
    let target_dir = profile_dir.parent().unwrap();
    let status = cargo.env("CARGO_TARGET_DIR", target_dir).status().expect("cargo");
    assert!(status.success(), "cargo build -p diffq-denoise-c failed");
    let lib = profile_dir.join("libdqd.a");
    assert!(lib.exists(), "{} missing after cargo build", lib.display());
    lib
}

fn build_test(dir: &Path) -> PathBuf {
    let capi = Path::new(env!("CARGO_MANIFEST_DIR"));
    let exe = dir.join("test_host");
    let out = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()))
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-O1", "-I"])
        .arg(capi.join("include"))
        .arg(capi.join("tests/c/test_host.c"))
        .arg(staticlib())
        // What rustc lists for a std staticlib on Linux (`--print native-static-libs`).
        .args(["-lgcc_s", "-lutil", "-lrt", "-lpthread", "-lm", "-ldl", "-lc", "-o"])
        .arg(&exe)
        .output()
        .expect("cannot run the C compiler (cc)");
    assert!(out.status.success(), "test_host.c does not build:\n{}", String::from_utf8_lossy(&out.stderr));
    exe
}

fn read_raw(path: &Path) -> Vec<i16> {
    std::fs::read(path).unwrap().chunks_exact(2).map(|c| i16::from_ne_bytes([c[0], c[1]])).collect()
}

/// Runs the C test on `blob` (relative to the repository) with the clip in `clip_dir` at the
/// frame size `Z`, and compares both paths with the Rust pipelines.
fn c_matches_rust<Z: FixedSize>(exe: &Path, blob: &str, clip_dir: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("c_host").join(Z::SAMPLE_RATE.to_string());
    std::fs::create_dir_all(&dir).unwrap();
    let noisy = audio_tools::read_i16(&root.join(clip_dir).join("noisy.wav"), Z::SAMPLE_RATE).unwrap();
    let raw: Vec<u8> = noisy.iter().flat_map(|s| s.to_ne_bytes()).collect();
    std::fs::write(dir.join("in.raw"), raw).unwrap();
    let blob_path = root.join(blob);
    let run = Command::new(exe)
        .arg(&blob_path)
        .args([dir.join("in.raw"), dir.join("f32.raw"), dir.join("int.raw")])
        .output()
        .unwrap();
    let console = format!("{}{}", String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
    assert!(run.status.success(), "test_host {blob} failed:\n{console}");
    let stream = format!("stream: rate={} hop={} latency={}", Z::SAMPLE_RATE, Z::HOP, Z::HOP);
    assert!(console.contains(&stream), "{blob}: expected `{stream}` from test_host:\n{console}");

    let (want_f32, want_int) = rust_reference::<Z>(&std::fs::read(&blob_path).unwrap(), &noisy);
    for (name, want) in [("f32", want_f32), ("int", want_int)] {
        let got = read_raw(&dir.join(format!("{name}.raw")));
        assert_eq!(got.len(), want.len(), "{blob} {name}: sample count");
        let differing = got.iter().zip(&want).filter(|(a, b)| a != b).count();
        assert_eq!(differing, 0, "{blob} {name} path: {differing} of {} samples differ from Rust", got.len());
        assert!(got.iter().any(|&s| s != 0), "{blob} {name} path: silent output");
    }
}

#[test]
fn c_test_passes_and_matches_the_rust_pipeline_bit_exact_at_8_and_16_khz() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("c_host");
    std::fs::create_dir_all(&dir).unwrap();
    let exe = build_test(&dir);
    c_matches_rust::<Narrowband>(&exe, NARROWBAND_BLOB, "data/clip");
    c_matches_rust::<Wideband>(&exe, "models/gru16k.dqem", "data/clip-16k");
}
