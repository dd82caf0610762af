//! The 16 kHz front end under QEMU: a format v5 model with random weights and a 16 kHz front end
//! (512-sample frames, hop 256, log power in, a gain per bin out), written by the runtime's
//! `GraphWriter`, in qemu-demo built with its `wideband` feature on the Cortex-M4, f32 and
//! integer path, against the host runtime on a synthetic 16 kHz clip: bit-exact on both; and the
//! shipped 16 kHz model on the 16 kHz demo clip on every target.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // tests

use host_tests::report::{host_agreement, AGREEMENT_HEADER, AGREEMENT_TARGETS};
use host_tests::{metrics, qemu, reference, repo_root};
use runtime::format::{Act, FrontEnd, Layout};
use runtime::writer::{GraphCalibration, GraphWriter};
use std::time::Duration;

/// Log power of bins 0..256 in, 257 gains out: linear 256→64 (ReLU), linear 64→257 (sigmoid),
/// 4-bit weights with xorshift levels.
fn wide_blob() -> Vec<u8> {
    let fe = FrontEnd::WIDEBAND;
    let mut g = GraphWriter::new(fe);
    let mut r = 0x16_16_16u64;
    let mut levels = |n: usize| -> Vec<u16> {
        (0..n)
            .map(|_| {
                r ^= r << 13;
                r ^= r >> 7;
                r ^= r << 17;
                (r >> 60) as u16
            })
            .collect()
    };
    let w1 = g.packed_tensor_in(Layout::Rows, &levels(256 * 64), &vec![4; 256 * 64 / 16], 16, (-0.02, 0.02)).unwrap();
    let b1 = g.f32_tensor(&vec![0.1; 64]).unwrap();
    let h = g.linear(g.input(), w1, Some(b1), 64, Act::Relu).unwrap();
    let w2 = g.packed_tensor_in(Layout::Rows, &levels(64 * 257), &vec![4; 64 * 257 / 16], 16, (-0.05, 0.05)).unwrap();
    let b2 = g.f32_tensor(&vec![0.5; 257]).unwrap();
    g.linear(h, w2, Some(b2), 257, Act::Sigmoid).unwrap();
    let calib = GraphCalibration {
        input_scale: 16.2 / 127.0,
        out_scales: vec![4.0 / 127.0, 1.0 / 127.0],
        pre_act_scales: vec![4.0 / 127.0, 6.0 / 127.0],
    };
    g.finish_with_int(&calib).unwrap()
}

/// One second at 16 kHz: a chirp to 7 kHz plus a pseudo-random hiss.
fn wide_clip() -> Vec<i16> {
    (0..16000)
        .map(|i| {
            let t = i as f32 / 16000.0;
            let hiss = ((i * 7919 + 13) % 1021) as f32 / 1021.0 - 0.5;
            let x = 0.4 * (std::f32::consts::TAU * (100.0 + 3500.0 * t) * t).sin() + 0.1 * hiss;
            (x * 32767.0) as i16
        })
        .collect()
}

#[test]
fn wideband_model_matches_the_host_on_m4() {
    let work = repo_root().join("target/qemu-tests/wideband");
    std::fs::create_dir_all(&work).unwrap();
    let (blob_path, clip_path) = (work.join("wide.dqem"), work.join("wide.wav"));
    let (blob, clip) = (wide_blob(), wide_clip());
    std::fs::write(&blob_path, &blob).unwrap();
    audio_tools::write_i16(&clip_path, 16000, &clip).unwrap();
    for target in ["m4", "m4-int"] {
        let t = qemu::target(target).unwrap();
        let elf = qemu::build(&t, &blob_path, &clip_path).unwrap_or_else(|e| panic!("{target}: {e:#}"));
        let out = qemu::run(&t, &elf, &work.join(target), Duration::from_secs(180))
            .unwrap_or_else(|e| panic!("{target}: {e:#}"));
        let host = reference::denoise(&blob, &clip, t.path).unwrap();
        assert_eq!(out.samples.len(), host.len(), "{target}: samples out");
        assert!(host.iter().any(|v| *v != 0), "{target}: the host reference is silent");
        let diff =
            out.samples.iter().zip(&host).map(|(a, b)| (i32::from(*a) - i32::from(*b)).unsigned_abs()).max().unwrap();
        eprintln!("16 kHz model on {target}: {} samples, max difference from the host {diff} LSB", host.len());
        assert_eq!(diff, 0, "{target}: the {:?} path must be bit-exact", t.path);
    }
}

/// The shipped 16 kHz model (`models/gru16k.dqem`, trained by its recipes) on the 16 kHz demo
/// clip: on the M4 (f32 and integer path) and RV32 it agrees with the host (bit-exact on the
/// integer paths) within each target's RAM, and the host's output improves the clip's SI-SDR by
/// at least 1.5 dB.
#[test]
fn the_shipped_16k_model_denoises_the_16k_clip_on_every_target() {
    let blob_path = repo_root().join(host_tests::DEFAULT_MODEL);
    let rows = host_agreement("gru16k", &blob_path, &AGREEMENT_TARGETS).unwrap_or_else(|e| panic!("{e:#}"));
    eprintln!("{AGREEMENT_HEADER}\n{}", rows.join("\n"));
    let blob = std::fs::read(&blob_path).unwrap();
    let (noisy, clean) = host_tests::clip::clip_at(16000);
    let (noisy, clean) = (audio_tools::read_i16(&noisy, 16000).unwrap(), audio_tools::read_i16(&clean, 16000).unwrap());
    let out = reference::denoise(&blob, &noisy, qemu::target("m4-int").unwrap().path).unwrap();
    let out = metrics::aligned(&out, 16000);
    let n = out.len().min(clean.len());
    let (before, after) =
        (metrics::pcm_si_sdr(&clean[..n], &noisy[..n]).unwrap(), metrics::pcm_si_sdr(&clean[..n], &out[..n]).unwrap());
    eprintln!("models/gru16k.dqem on the 16 kHz clip (host, integer path): {before:.2} → {after:.2} dB");
    assert!(after >= before + 1.5, "{before:.2} → {after:.2} dB");
}

/// The shipped 16 kHz model through the C API (`capi/examples/m4` with `libdqd.a`) on the 16 kHz
/// demo clip, both paths: it agrees with the host (bit-exact on the integer path, within the f32
/// tolerance on the f32 path) within the M4's RAM.
#[test]
fn the_shipped_16k_model_runs_through_the_c_api_on_m4() {
    let blob_path = repo_root().join("models/gru16k.dqem");
    let rows = host_agreement("gru16k", &blob_path, &["m4-c", "m4-c-int"]).unwrap_or_else(|e| panic!("{e:#}"));
    eprintln!("{AGREEMENT_HEADER}\n{}", rows.join("\n"));
}
