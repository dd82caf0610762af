//! The C API from C on the host: builds tests/c/test_host.c with the system C compiler against
//! the host's `libdqd.a`, runs its error-path checks, and compares its output on the demo clip
//! with the Rust pipeline's, bit for bit, on both paths.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // tests

use runtime::dsp::{Narrowband, HOP, SAMPLE_RATE};
use runtime::pipeline::{Denoise, F32Denoiser, I8Denoiser};
use runtime::Model;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The Rust pipeline hop by hop, the last hop padded with zeros (as the C test and the firmware).
fn rust_denoise(d: &mut impl Denoise<Size = Narrowband>, input: &[i16]) -> Vec<i16> {
    let mut out = Vec::new();
    for chunk in input.chunks(HOP) {
        let mut hop = [0i16; HOP];
        hop[..chunk.len()].copy_from_slice(chunk);
        let mut y = [0i16; HOP];
        d.process(&hop, &mut y).unwrap();
        out.extend_from_slice(&y);
    }
    out
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

#[test]
fn c_test_passes_and_matches_the_rust_pipeline_bit_exact() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("c_host");
    std::fs::create_dir_all(&dir).unwrap();
    let exe = build_test(&dir);
    let noisy = audio_tools::read_i16(&root.join("data/clip/noisy.wav"), SAMPLE_RATE).unwrap();
    let raw: Vec<u8> = noisy.iter().flat_map(|s| s.to_ne_bytes()).collect();
    std::fs::write(dir.join("in.raw"), raw).unwrap();
    let blob_path = root.join("models/conv8k.dqem");
    let run = Command::new(&exe)
        .arg(&blob_path)
        .args([dir.join("in.raw"), dir.join("f32.raw"), dir.join("int.raw")])
        .output()
        .unwrap();
    let console = format!("{}{}", String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
    assert!(run.status.success(), "test_host failed:\n{console}");

    let blob = std::fs::read(&blob_path).unwrap();
    let model = Model::parse(&blob).unwrap();
    let (mut arena, mut state) = (vec![0.0f32; model.f32_arena_len()], vec![0.0f32; model.f32_state_len()]);
    let want_f32 = rust_denoise(&mut F32Denoiser::<i16>::new(model, &mut arena, &mut state).unwrap(), &noisy);
    let (mut arena, mut state) = (vec![0i8; model.i8_arena_len()], vec![0i8; model.i8_state_len()]);
    let want_int = rust_denoise(&mut I8Denoiser::new(model, &mut arena, &mut state).unwrap(), &noisy);
    for (name, want) in [("f32", want_f32), ("int", want_int)] {
        let got = read_raw(&dir.join(format!("{name}.raw")));
        assert_eq!(got.len(), want.len(), "{name}: sample count");
        let differing = got.iter().zip(&want).filter(|(a, b)| a != b).count();
        assert_eq!(differing, 0, "{name} path: {differing} of {} samples differ from the Rust pipeline", got.len());
        assert!(got.iter().any(|&s| s != 0), "{name} path: silent output");
    }
}
