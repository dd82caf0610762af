//! The pipelines at 16 kHz ([`Wideband`]): version 5 blobs written by `GraphWriter` with a
//! 16 kHz front end (512-sample frames, log-power or log-mel features, bin or band gains) run
//! on the f32 and the integer path; a pipeline built for one frame size rejects the other's
//! blobs with [`Error::FrameMismatch`].

use super::*;
use crate::dsp::{self, FrameSize, Narrowband, Wideband};
use crate::format::{Act, Features, FrontEnd, Layout, Output};
use crate::writer::{GraphCalibration, GraphWriter};
use crate::{pcm, Error, Model};
use std::vec;
use std::vec::Vec;

/// The 16 kHz front-end record: log power of bins 0..256, a gain per bin (257).
const WIDE: FrontEnd = FrontEnd::WIDEBAND;

/// A one-layer model on `fe`: linear `n_in → n_out` with a fused sigmoid, 8-bit weights of
/// magnitude `w` with pseudo-random signs (`seed`), bias `bias`; a log-mel front end gets
/// `dsp::mel_filterbank` as f16.
fn blob(fe: FrontEnd, w: f32, bias: f32, seed: u64) -> Vec<u8> {
    let (n_in, n_out) =
        (usize::from(fe.n_bands), usize::from(if fe.output == Output::BinGains { fe.bins() } else { fe.n_bands }));
    let mut g = GraphWriter::new(fe);
    if fe.needs_filterbank() {
        let fb = g.f16_tensor(&dsp::mel_filterbank(u32::from(fe.sample_rate), n_in)).unwrap();
        g.filterbank(fb);
    }
    let mut r = seed | 1;
    let levels: Vec<u16> = (0..n_in * n_out)
        .map(|_| {
            r ^= r << 13;
            r ^= r >> 7;
            r ^= r << 17;
            (r >> 56) as u16
        })
        .collect();
    let bt = g.f32_tensor(&vec![bias; n_out]).unwrap();
    let pk = g.packed_tensor_in(Layout::Rows, &levels, &vec![8; n_in * n_out / 8], 8, (-w, w)).unwrap();
    g.linear(g.input(), pk, Some(bt), n_out, Act::Sigmoid).unwrap();
    let pre = (bias.abs() + w * n_in as f32 * 16.2) / 127.0;
    let calib =
        GraphCalibration { input_scale: 16.2 / 127.0, out_scales: vec![1.0 / 127.0], pre_act_scales: vec![pre] };
    g.finish_with_int(&calib).unwrap()
}

/// Two seconds at 16 kHz: a chirp up to 6 kHz plus a pseudo-random hiss, as PCM.
fn signal(len: usize) -> Vec<i16> {
    (0..len)
        .map(|i| {
            let t = i as f32 / 16000.0;
            let hiss = ((i * 7919 + 13) % 1021) as f32 / 1021.0 - 0.5;
            pcm::f32_to_i16(0.4 * libm::sinf(core::f32::consts::TAU * (200.0 + 1500.0 * t) * t) + 0.05 * hiss)
        })
        .collect()
}

/// `x` through the 16 kHz f32 and integer pipelines, aligned with the input.
fn run_both(b: &[u8], x: &[i16]) -> (Vec<i16>, Vec<i16>) {
    let m = Model::parse(b).unwrap();
    let (mut arena, mut state) = (vec![0.0; m.f32_arena_len()], vec![0.0; m.f32_state_len()]);
    let mut den = F32Denoiser::<i16, Wideband>::with_size(m, &mut arena, &mut state).unwrap();
    let mut yf = vec![0i16; x.len()];
    process_signal(&mut den, x, &mut yf).unwrap();
    let (mut arena, mut state) = (vec![0; m.i8_arena_len()], vec![0; m.i8_state_len()]);
    let mut den = I8Denoiser::<Wideband>::with_size(m, &mut arena, &mut state).unwrap();
    let mut yi = vec![0i16; x.len()];
    process_signal(&mut den, x, &mut yi).unwrap();
    (yf, yi)
}

fn worst(x: &[i16], y: &[i16], gain: f32) -> f32 {
    x.iter().zip(y).map(|(a, b)| (f32::from(*a) * gain - f32::from(*b)).abs()).fold(0.0, f32::max)
}

/// Constant gains (sigmoid of a large bias: 1; of 0: ½) give the input back, scaled, on both
/// paths, for bin gains on log power and band gains on log-mel bands.
#[test]
fn wideband_blobs_run_on_both_paths() {
    let x = signal(Wideband::HOP * 30 + 77);
    let peak = x.iter().map(|v| f32::from(v.unsigned_abs())).fold(0.0, f32::max);
    let mel = FrontEnd { features: Features::LogMel, n_bands: 32, output: Output::BandGains, filterbank: None, ..WIDE };
    for (name, fe) in [("log power, bin gains", WIDE), ("log-mel, band gains", mel)] {
        for (bias, gain) in [(20.0f32, 1.0f32), (0.0, 0.5)] {
            let (yf, yi) = run_both(&blob(fe, 1e-6, bias, 1), &x);
            let (ef, ei) = (worst(&x, &yf, gain), worst(&x, &yi, gain));
            std::println!("16 kHz {name}, gains {gain}: max error f32 {ef} LSB, integer {ei} LSB");
            // f16 filterbank weights: a bin's weights sum to 1 ± 2^−10.
            assert!(ef <= 2.0 + peak * 2e-3, "{name}, f32 path, gain {gain}: {ef} LSB");
            assert!(ei <= 4.0 + peak * 1e-2, "{name}, integer path, gain {gain}: {ei} LSB");
        }
    }
}

/// A model with random weights: the two paths give the same audio within the integer path's
/// quantisation (SNR between them stated), and the gains are not constant.
#[test]
fn random_weight_wideband_model_agrees_across_paths() {
    let x = signal(Wideband::HOP * 40);
    let (yf, yi) = run_both(&blob(WIDE, 0.01, 0.3, 7), &x);
    let (mut s, mut e) = (0.0f64, 0.0f64);
    for (a, b) in yf.iter().zip(&yi) {
        s += f64::from(*a).powi(2);
        e += (f64::from(*a) - f64::from(*b)).powi(2);
    }
    let snr = 10.0 * (s / e.max(1e-9)).log10();
    let ratio = (s / x.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>()).sqrt();
    std::println!("16 kHz random-weight model: integer vs f32 SNR {snr:.1} dB, output/input RMS {ratio:.3}");
    assert!(snr > 20.0, "{snr}");
    assert!(ratio > 0.05 && ratio < 0.95, "the random gains attenuate: {ratio}");
}

/// A pipeline checks the blob's frames against its own size, by name.
#[test]
fn frame_size_mismatch_is_an_error() {
    let wide = blob(WIDE, 1e-6, 0.0, 1);
    let m = Model::parse(&wide).unwrap();
    let mismatch = Error::FrameMismatch { blob: 512, pipeline: 256 };
    assert_eq!(check_denoiser(&m), Err(mismatch));
    assert_eq!(check_denoiser_for::<Wideband>(&m), Ok(()));
    let (mut a, mut s) = (vec![0.0; m.f32_arena_len()], vec![0.0; m.f32_state_len()]);
    assert!(matches!(F32Denoiser::<i16>::new(m, &mut a, &mut s), Err(e) if e == mismatch));
    let (mut a, mut s) = (vec![0; m.i8_arena_len()], vec![0; m.i8_state_len()]);
    assert!(matches!(I8Denoiser::new(m, &mut a, &mut s), Err(e) if e == mismatch));
    let narrow = blob(FrontEnd::DEFAULT, 1e-6, 0.0, 1);
    let m = Model::parse(&narrow).unwrap();
    assert_eq!(check_denoiser_for::<Narrowband>(&m), Ok(()));
    assert_eq!(check_denoiser_for::<Wideband>(&m), Err(Error::FrameMismatch { blob: 256, pipeline: 512 }));
    let text = std::format!("{}", Error::FrameMismatch { blob: 512, pipeline: 256 });
    assert!(text.contains("512-sample frames") && text.contains("256-sample frames"), "{text}");
}
