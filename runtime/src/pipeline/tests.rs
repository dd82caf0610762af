//! The pipelines against their parts, end to end through a unity-gain model, and every error.

use super::*;
use crate::dsp::{self, Analyzer, Complex32, Synthesizer, BINS, HOP, N_FEATURES};
use crate::dsp_fixed::FixedFrontEnd;
use crate::writer::{BlobWriter, IntCalibration};
use crate::{pcm, Error, Model, StateF32, StateI8};
use std::vec;
use std::vec::Vec;

/// A denoiser-shaped blob: a causal conv `inputs→outputs`, kernel 2 (2-bit weights in ±`w`,
/// groups of 16, bias `bias`), then a sigmoid; integer constants unless `f32_only`.
fn blob(inputs: usize, outputs: usize, w: f32, bias: f32, f32_only: bool) -> Vec<u8> {
    let mut bw = BlobWriter::new(inputs);
    let n = inputs * outputs * 2;
    let levels: Vec<u16> = (0..n).map(|i| ((i * 7 + i / 5) % 4) as u16).collect();
    let weight = bw.packed_tensor(&levels, &vec![2; n / 16], 16, -w, w).unwrap();
    let b = bw.f32_tensor(&vec![bias; outputs]).unwrap();
    bw.conv1d(weight, Some(b), inputs, outputs, 2, 1).unwrap();
    bw.sigmoid().unwrap();
    if f32_only {
        return bw.finish().unwrap();
    }
    let pre = (bias.abs() + w * 2.0 * inputs as f32 * 16.0) / 127.0;
    bw.finish_with_int(&IntCalibration { input_scale: 16.2 / 127.0, out_scales: vec![pre, 1.0 / 127.0] }).unwrap()
}

/// A few seconds of a chirp plus a pseudo-random hiss, as PCM.
fn signal(len: usize) -> Vec<i16> {
    (0..len)
        .map(|i| {
            let t = i as f32 / 8000.0;
            let hiss = ((i * 7919 + 13) % 1021) as f32 / 1021.0 - 0.5;
            pcm::f32_to_i16(0.4 * libm::sinf(core::f32::consts::TAU * (200.0 + 400.0 * t) * t) + 0.05 * hiss)
        })
        .collect()
}

fn hops(x: &[i16]) -> impl Iterator<Item = &[i16; HOP]> {
    x.chunks_exact(HOP).map(|h| h.try_into().unwrap())
}

#[test]
fn f32_pipeline_is_its_parts_in_order_on_pcm_and_on_f32() {
    let b = blob(N_FEATURES, BINS, 0.05, 0.5, true);
    let m = Model::parse(&b).unwrap();
    let (mut a1, mut s1) = (vec![0.0; m.f32_arena_len()], vec![0.0; m.f32_state_len()]);
    let (mut a2, mut s2) = (vec![0.0; m.f32_arena_len()], vec![0.0; m.f32_state_len()]);
    let (mut a3, mut s3) = (vec![0.0; m.f32_arena_len()], vec![0.0; m.f32_state_len()]);
    let mut pcm_den = F32Denoiser::<i16>::new(m, &mut a1, &mut s1).unwrap();
    let mut f32_den = F32Denoiser::<f32>::new(m, &mut a2, &mut s2).unwrap();
    // The parts, by hand.
    let (mut an, mut syn, mut st) = (Analyzer::new(), Synthesizer::new(), StateF32::new(&mut s3));
    let (mut spec, mut feat, mut gains) = ([Complex32::new(0.0, 0.0); BINS], [0.0; N_FEATURES], [0.0; BINS]);
    let mut changed = 0;
    for h in hops(&signal(HOP * 40)) {
        let x: [f32; HOP] = core::array::from_fn(|i| pcm::i16_to_f32(h[i]));
        an.push(&x, &mut spec);
        dsp::features(&spec, &mut feat);
        m.step_f32(&mut st, &mut a3, &feat, &mut gains).unwrap();
        dsp::apply_mask(&mut spec, &gains);
        let mut y = [0.0f32; HOP];
        syn.push(&spec, &mut y);

        let (mut out_pcm, mut out_f32) = ([0i16; HOP], [0.0f32; HOP]);
        pcm_den.process(h, &mut out_pcm).unwrap();
        f32_den.hop(&x, &mut out_f32).unwrap();
        assert_eq!(out_f32, y);
        assert_eq!(out_pcm, y.map(pcm::f32_to_i16));
        changed += y.iter().zip(&x).filter(|(a, b)| a != b).count();
    }
    assert!(changed > HOP * 30, "the model must change the signal: {changed}");
}

#[test]
fn integer_pipeline_is_its_parts_in_order() {
    let b = blob(N_FEATURES, BINS, 0.05, 0.5, false);
    let m = Model::parse(&b).unwrap();
    let (mut a1, mut s1) = (vec![0; m.i8_arena_len()], vec![0; m.i8_state_len()]);
    let (mut a2, mut s2) = (vec![0; m.i8_arena_len()], vec![0; m.i8_state_len()]);
    let mut den = I8Denoiser::new(m, &mut a1, &mut s1).unwrap();
    let mut fe = FixedFrontEnd::new(m.input_scale(), m.output_scale());
    let mut st = StateI8::new(&mut s2);
    let (mut feat, mut gains) = ([0i8; N_FEATURES], [0i8; BINS]);
    for h in hops(&signal(HOP * 40)) {
        fe.analyze(h);
        fe.features(&mut feat);
        m.step_i8(&mut st, &mut a2, &feat, &mut gains).unwrap();
        fe.apply_mask(&gains);
        let mut y = [0i16; HOP];
        fe.synthesize(&mut y);
        let mut out = [0i16; HOP];
        den.process(h, &mut out).unwrap();
        assert_eq!(out, y);
    }
}

/// A model whose every gain is 1 (zero-ish weights, bias 20 before the sigmoid): both paths
/// give back their input, aligned by `process_signal`.
#[test]
fn unity_gain_model_returns_the_input_aligned() {
    let b = blob(N_FEATURES, BINS, 1e-6, 20.0, false);
    let m = Model::parse(&b).unwrap();
    let x = signal(HOP * 30 + 77);
    let (mut arena, mut state) = (vec![0.0; m.f32_arena_len()], vec![0.0; m.f32_state_len()]);
    let mut den = F32Denoiser::<i16>::new(m, &mut arena, &mut state).unwrap();
    let mut y = vec![0i16; x.len()];
    process_signal(&mut den, &x, &mut y).unwrap();
    let worst = x.iter().zip(&y).map(|(a, b)| (i32::from(*a) - i32::from(*b)).abs()).max().unwrap();
    std::println!("unity gain, f32 path: max error {worst} LSB");
    assert!(worst <= 1, "f32 path: {worst} LSB");

    let (mut arena, mut state) = (vec![0; m.i8_arena_len()], vec![0; m.i8_state_len()]);
    let mut den = I8Denoiser::new(m, &mut arena, &mut state).unwrap();
    let mut z = vec![0i16; x.len()];
    process_signal(&mut den, &x, &mut z).unwrap();
    let worst = x.iter().zip(&z).map(|(a, b)| (i32::from(*a) - i32::from(*b)).abs()).max().unwrap();
    std::println!("unity gain, integer path: max error {worst} LSB");
    assert!(worst <= 2, "integer path: {worst} LSB");
    // Streaming: the same samples, one hop late.
    den.reset();
    let mut out = [0i16; HOP];
    let mut streamed = Vec::new();
    for h in hops(&x) {
        den.process(h, &mut out).unwrap();
        streamed.extend_from_slice(&out);
    }
    assert_eq!(&streamed[HOP..], &z[..streamed.len() - HOP]);
    assert_eq!(signal_hops(x.len()), 32);
    assert_eq!(signal_hops(0), 1);
}

#[test]
fn reset_starts_a_new_stream() {
    let b = blob(N_FEATURES, BINS, 0.05, 0.5, false);
    let m = Model::parse(&b).unwrap();
    let x = signal(HOP * 12);
    let (mut arena, mut state) = (vec![0.0; m.f32_arena_len()], vec![0.0; m.f32_state_len()]);
    let mut den = F32Denoiser::<i16>::new(m, &mut arena, &mut state).unwrap();
    let (mut first, mut again) = (vec![0i16; x.len()], vec![0i16; x.len()]);
    process_signal(&mut den, &x, &mut first).unwrap();
    process_signal(&mut den, &x, &mut again).unwrap();
    assert_ne!(first, again, "without a reset the second run sees the first one's past");
    den.reset();
    process_signal(&mut den, &x, &mut again).unwrap();
    assert_eq!(first, again);
}

#[test]
fn built_in_place_is_the_denoiser_with_size_builds() {
    use crate::dsp::Narrowband;
    use core::mem::MaybeUninit;
    let b = blob(N_FEATURES, BINS, 0.05, 0.5, false);
    let m = Model::parse(&b).unwrap();
    let x = signal(HOP * 12);
    let (mut y1, mut y2) = (vec![0i16; x.len()], vec![0i16; x.len()]);
    let (mut a1, mut s1) = (vec![0.0; m.f32_arena_len()], vec![0.0; m.f32_state_len()]);
    let (mut a2, mut s2) = (vec![0.0; m.f32_arena_len()], vec![0.0; m.f32_state_len()]);
    let mut slot = MaybeUninit::uninit();
    let in_place = F32Denoiser::<i16, Narrowband>::init_in(&mut slot, m, &mut a1, &mut s1).unwrap();
    process_signal(in_place, &x, &mut y1).unwrap();
    process_signal(&mut F32Denoiser::<i16, Narrowband>::with_size(m, &mut a2, &mut s2).unwrap(), &x, &mut y2).unwrap();
    assert!(y1.iter().any(|v| *v != 0));
    assert_eq!(y1, y2, "f32 path");

    let (mut a1, mut s1) = (vec![0; m.i8_arena_len()], vec![0; m.i8_state_len()]);
    let (mut a2, mut s2) = (vec![0; m.i8_arena_len()], vec![0; m.i8_state_len()]);
    let mut slot = MaybeUninit::uninit();
    let in_place = I8Denoiser::<Narrowband>::init_in(&mut slot, m, &mut a1, &mut s1).unwrap();
    process_signal(in_place, &x, &mut y1).unwrap();
    process_signal(&mut I8Denoiser::<Narrowband>::with_size(m, &mut a2, &mut s2).unwrap(), &x, &mut y2).unwrap();
    assert!(y1.iter().any(|v| *v != 0));
    assert_eq!(y1, y2, "integer path");

    let f32_only = blob(N_FEATURES, BINS, 0.05, 0.5, true);
    let f32_only = Model::parse(&f32_only).unwrap();
    let mut slot = MaybeUninit::uninit();
    let e = I8Denoiser::<Narrowband>::init_in(&mut slot, f32_only, &mut a1, &mut s1).err();
    assert_eq!(e, Some(Error::NoIntegerPath));
    let (mut a, mut s) = (vec![0.0; m.f32_arena_len() - 1], vec![0.0; m.f32_state_len()]);
    let mut slot = MaybeUninit::uninit();
    let e = F32Denoiser::<i16, Narrowband>::init_in(&mut slot, m, &mut a, &mut s).err();
    assert_eq!(e, F32Denoiser::<i16, Narrowband>::with_size(m, &mut a, &mut s).err());
    assert!(matches!(e, Some(Error::ArenaTooSmall { .. })));
}

#[test]
fn wrong_models_and_buffers_are_typed_errors() {
    let narrow = blob(64, BINS, 0.05, 0.5, false);
    let m = Model::parse(&narrow).unwrap();
    let e = Error::NotADenoiser { inputs: 64, outputs: BINS as u32 };
    assert_eq!(check_denoiser(&m), Err(e));
    let (mut a, mut s) = (vec![0.0; 4096], vec![0.0; 4096]);
    assert_eq!(F32Denoiser::<f32>::new(m, &mut a, &mut s).err(), Some(e));
    let (mut a, mut s) = (vec![0; 4096], vec![0; 4096]);
    assert_eq!(I8Denoiser::new(m, &mut a, &mut s).err(), Some(e));

    let f32_only = blob(N_FEATURES, BINS, 0.05, 0.5, true);
    let m = Model::parse(&f32_only).unwrap();
    assert_eq!(I8Denoiser::new(m, &mut a, &mut s).err(), Some(Error::NoIntegerPath));

    let b = blob(N_FEATURES, BINS, 0.05, 0.5, false);
    let m = Model::parse(&b).unwrap();
    let (na, ns) = (m.f32_arena_len(), m.f32_state_len());
    let (mut a, mut s) = (vec![0.0; na - 1], vec![0.0; ns]);
    let e = F32Denoiser::<i16>::new(m, &mut a, &mut s).err();
    assert_eq!(e, Some(Error::ArenaTooSmall { needed: na as u32, got: na as u32 - 1 }));
    let (mut a, mut s) = (vec![0; m.i8_arena_len()], vec![0; m.i8_state_len() - 1]);
    let e = I8Denoiser::new(m, &mut a, &mut s).err();
    assert_eq!(e, Some(Error::StateTooSmall { needed: m.i8_state_len() as u32, got: m.i8_state_len() as u32 - 1 }));

    let mut s = vec![0; m.i8_state_len()];
    let mut den = I8Denoiser::new(m, &mut a, &mut s).unwrap();
    let e = process_signal(&mut den, &[0i16; 10], &mut [0i16; 9]);
    assert_eq!(e, Err(Error::BadIoLength { expected: 10, got: 9 }));
    assert!(std::format!("{}", Error::NotADenoiser { inputs: 64, outputs: 129 }).contains("128 features to 129 gains"));
}

/// A version 5 model on `n` log-mel bands giving `n` band gains: a linear layer (weights ±`w`, bias
/// `bias`) with a fused sigmoid; the filterbank is `dsp::mel_filterbank` as f16.
fn band_blob(n: usize, w: f32, bias: f32) -> Vec<u8> {
    use crate::format::{Act, Features, FrontEnd, Output};
    use crate::writer::{GraphCalibration, GraphWriter};
    let fe = FrontEnd { features: Features::LogMel, n_bands: n as u16, output: Output::BandGains, ..FrontEnd::DEFAULT };
    let mut g = GraphWriter::new(fe);
    let fb = g.f16_tensor(&dsp::mel_filterbank(8000, n)).unwrap();
    g.filterbank(fb);
    let weights: Vec<f32> = (0..n * n).map(|i| if i % 3 == 0 { w } else { -w }).collect();
    let bt = g.f32_tensor(&vec![bias; n]).unwrap();
    let levels: Vec<u16> = weights.iter().map(|&v| if v > 0.0 { 255 } else { 0 }).collect();
    let pk = g.packed_tensor_in(crate::format::Layout::Rows, &levels, &vec![8; n * n / 8], 8, (-w, w)).unwrap();
    g.linear(g.input(), pk, Some(bt), n, Act::Sigmoid).unwrap();
    let pre = (bias.abs() + w * n as f32 * 16.2) / 127.0;
    let calib =
        GraphCalibration { input_scale: 16.2 / 127.0, out_scales: vec![1.0 / 127.0], pre_act_scales: vec![pre] };
    g.finish_with_int(&calib).unwrap()
}

/// Log-mel features in, band gains out (FORMAT.md, "Front end"): unit band gains give the input
/// back on both paths, gains of one half halve it, within the f16 rounding of the filterbank's
/// weights (its bins' weights sum to 1 ± 2^−10).
#[test]
fn band_models_run_through_the_filterbank() {
    let x = signal(HOP * 30 + 77);
    let peak = x.iter().map(|v| f32::from(v.unsigned_abs())).fold(0.0, f32::max);
    for (bias, gain) in [(20.0f32, 1.0f32), (0.0, 0.5)] {
        let b = band_blob(24, 1e-6, bias);
        let m = Model::parse(&b).unwrap();
        let (mut arena, mut state) = (vec![0.0; m.f32_arena_len()], vec![0.0; m.f32_state_len()]);
        let mut den = F32Denoiser::<i16>::new(m, &mut arena, &mut state).unwrap();
        let mut y = vec![0i16; x.len()];
        process_signal(&mut den, &x, &mut y).unwrap();
        let worst = x.iter().zip(&y).map(|(a, b)| (f32::from(*a) * gain - f32::from(*b)).abs()).fold(0.0, f32::max);
        std::println!("band gains {gain}, f32 path: max error {worst} LSB");
        assert!(worst <= 2.0 + peak * 2e-3, "f32 path, gain {gain}: {worst} LSB");
        let (mut arena, mut state) = (vec![0; m.i8_arena_len()], vec![0; m.i8_state_len()]);
        let mut den = I8Denoiser::new(m, &mut arena, &mut state).unwrap();
        process_signal(&mut den, &x, &mut y).unwrap();
        let worst = x.iter().zip(&y).map(|(a, b)| (f32::from(*a) * gain - f32::from(*b)).abs()).fold(0.0, f32::max);
        std::println!("band gains {gain}, integer path: max error {worst} LSB");
        assert!(worst <= 4.0 + peak * 1e-2, "integer path, gain {gain}: {worst} LSB");
    }
}
