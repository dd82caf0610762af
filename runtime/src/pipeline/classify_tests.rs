//! The classifiers against the model stepped by hand on the same front end (bit for bit, both
//! paths, both frame sizes, log-mel and log-power features), and every error.

use super::*;
#[cfg(feature = "wideband")]
use crate::dsp::Wideband;
use crate::dsp::{self, Analyzer, Array, Bins, Complex32, FilterBank, FrameSize, Hop, Narrowband};
use crate::dsp_fixed::{FixedFrontEnd, FixedSize};
use crate::format::{Act, Features, FrontEnd, Layout, Output};
use crate::kernels::{argmax_f32, argmax_i8};
use crate::writer::{GraphCalibration, GraphWriter, TensorId};
use crate::{pcm, Error, Model, StateF32, StateI8};
use std::vec;
use std::vec::Vec;

/// Classes of the test models.
const CLASSES: usize = 4;
/// Hidden units of the test models.
const HIDDEN: usize = 16;

/// A packed `rows × cols` weight of 4-bit xorshift levels (seed `seed`) over ±`w`.
fn weight(g: &mut GraphWriter, rows: usize, cols: usize, w: f32, seed: u64) -> TensorId {
    let mut r = seed | 1;
    let levels: Vec<u16> = (0..rows * cols)
        .map(|_| {
            r ^= r << 13;
            r ^= r >> 7;
            r ^= r << 17;
            (r >> 60) as u16
        })
        .collect();
    g.packed_tensor_in(Layout::Rows, &levels, &vec![4; rows * cols / 16], 16, (-w, w)).unwrap()
}

/// A classifier on `fe` (class scores out): linear `n_bands → 16` (relu), a pool over the last
/// 4 frames (`avg`: average, else maximum), linear `16 → 4`, then a softmax if `softmax`.
fn classifier_blob(fe: FrontEnd, avg: bool, softmax: bool) -> Vec<u8> {
    let n_in = usize::from(fe.n_bands);
    let mut g = GraphWriter::new(FrontEnd { output: Output::Scores, ..fe });
    if fe.features == Features::LogMel {
        let fb = g.f16_tensor(&dsp::mel_filterbank(u32::from(fe.sample_rate), n_in)).unwrap();
        g.filterbank(fb);
    }
    let w1 = weight(&mut g, HIDDEN, n_in, 0.6 / (n_in as f32).sqrt(), 0x51);
    let b1 = g.f32_tensor(&(0..HIDDEN).map(|i| i as f32 * 0.1 - 0.5).collect::<Vec<_>>()).unwrap();
    let h = g.linear(g.input(), w1, Some(b1), HIDDEN, Act::Relu).unwrap();
    let p = if avg { g.avgpool(h, 4) } else { g.maxpool(h, 4) }.unwrap();
    let w2 = weight(&mut g, CLASSES, HIDDEN, 0.8, 0x52);
    let b2 = g.f32_tensor(&[0.2, -0.1, 0.0, 0.1]).unwrap();
    let y = g.linear(p, w2, Some(b2), CLASSES, Act::None).unwrap();
    let mut out_scales = vec![12.0 / 127.0, 12.0 / 127.0, 24.0 / 127.0];
    if softmax {
        g.softmax(y).unwrap();
        out_scales.push(24.0 / 127.0);
    }
    g.finish_with_int(&GraphCalibration { input_scale: 16.2 / 127.0, out_scales, pre_act_scales: vec![] }).unwrap()
}

/// The 8 kHz front end with 32 log-mel bands.
fn mel_8k() -> FrontEnd {
    FrontEnd { features: Features::LogMel, n_bands: 32, ..FrontEnd::DEFAULT }
}

#[cfg(feature = "wideband")]
/// The 16 kHz front end with log power of bins 0..256.
fn power_16k() -> FrontEnd {
    FrontEnd::WIDEBAND
}

/// Silence, then a chirp plus a pseudo-random hiss, then a quieter tone: `len` samples at `rate`.
fn signal(len: usize, rate: f32) -> Vec<i16> {
    (0..len)
        .map(|i| {
            let t = i as f32 / rate;
            let hiss = ((i * 7919 + 13) % 1021) as f32 / 1021.0 - 0.5;
            let x = match i * 3 / len {
                0 => 0.0,
                1 => 0.4 * libm::sinf(core::f32::consts::TAU * (200.0 + 900.0 * t) * t) + 0.05 * hiss,
                _ => 0.05 * libm::sinf(core::f32::consts::TAU * 1500.0 * t),
            };
            pcm::f32_to_i16(x)
        })
        .collect()
}

/// The hops of `x` (whole hops only).
fn hops_of<Z: FrameSize>(x: &[i16]) -> Vec<Hop<Z, i16>> {
    x.chunks_exact(Z::HOP)
        .map(|c| {
            let mut h = Hop::<Z, i16>::filled(0);
            h.as_mut().copy_from_slice(c);
            h
        })
        .collect()
}

/// The log-mel filterbank of `m`, if its features are log-mel.
fn bank<'a>(m: &Model<'a>) -> Option<FilterBank<'a>> {
    let fe = m.front_end().unwrap();
    fe.filterbank.map(|t| FilterBank::new(m.tensor(t).unwrap().weights, usize::from(fe.n_bands)).unwrap())
}

/// Per hop, the f32 path by hand: analysis, features, `step_f32`, argmax.
fn by_hand_f32<Z: FrameSize>(blob: &[u8], x: &[i16]) -> Vec<(usize, Vec<f32>)> {
    let m = Model::parse(blob).unwrap();
    let (fb, n_in) = (bank(&m), m.input_len());
    let (mut arena, mut state) = (vec![0.0; m.f32_arena_len()], vec![0.0; m.f32_state_len()]);
    let mut state = StateF32::new(&mut state);
    let (mut analyzer, mut spec) = (Analyzer::<Z>::default(), Bins::<Z, Complex32>::filled(Complex32::new(0.0, 0.0)));
    let mut out = Vec::new();
    for hop in hops_of::<Z>(x) {
        let mut xf = Hop::<Z, f32>::filled(0.0);
        xf.as_mut().iter_mut().zip(hop.as_ref()).for_each(|(f, s)| *f = pcm::i16_to_f32(*s));
        analyzer.push(&xf, &mut spec);
        let mut feat = vec![0.0; n_in];
        match &fb {
            None => dsp::features(spec.as_ref(), &mut feat),
            Some(fb) => dsp::band_features(spec.as_ref(), fb, &mut feat),
        }
        let mut y = vec![0.0; m.output_len()];
        m.step_f32(&mut state, &mut arena, &feat, &mut y).unwrap();
        out.push((argmax_f32(&y).unwrap(), y));
    }
    out
}

/// Per hop, the integer path by hand: `FixedFrontEnd` analysis and features, `step_i8`, argmax.
fn by_hand_i8<Z: FixedSize>(blob: &[u8], x: &[i16]) -> Vec<(usize, Vec<i8>)> {
    let m = Model::parse(blob).unwrap();
    let (fb, n_in) = (bank(&m), m.input_len());
    let (mut arena, mut state) = (vec![0; m.i8_arena_len()], vec![0; m.i8_state_len()]);
    let mut state = StateI8::new(&mut state);
    let mut front = FixedFrontEnd::<Z>::with_size(m.input_scale(), m.output_scale());
    let mut out = Vec::new();
    for hop in hops_of::<Z>(x) {
        front.analyze(&hop);
        let mut feat = vec![0; n_in];
        match &fb {
            None => front.features(&mut feat),
            Some(fb) => front.band_features(fb, &mut feat),
        }
        let mut y = vec![0; m.output_len()];
        m.step_i8(&mut state, &mut arena, &feat, &mut y).unwrap();
        out.push((argmax_i8(&y).unwrap(), y));
    }
    out
}

/// Per hop, the classifier's class and scores.
fn run<C: Classify<Sample = i16>>(c: &mut C, x: &[i16]) -> Vec<(usize, Vec<C::Score>)> {
    hops_of::<C::Size>(x)
        .iter()
        .map(|hop| {
            let mut y = vec![C::Score::default(); c.n_classes()];
            (c.classify(hop, &mut y).unwrap(), y)
        })
        .collect()
}

/// Both classifiers of frame size `Z` on `blob` against the model stepped by hand: every hop's
/// class and scores bit for bit; the scores change over the signal; `reset` starts over.
fn matches_by_hand<Z: FixedSize>(blob: &[u8], rate: f32) {
    let x = signal(Z::HOP * 60, rate);
    let m = Model::parse(blob).unwrap();
    let (mut a, mut s) = (vec![0.0; m.f32_arena_len()], vec![0.0; m.f32_state_len()]);
    let mut c = F32Classifier::<i16, Z>::with_size(m, &mut a, &mut s).unwrap();
    let got = run(&mut c, &x);
    let want = by_hand_f32::<Z>(blob, &x);
    let bits = |v: &[(usize, Vec<f32>)]| {
        v.iter().map(|(k, y)| (*k, y.iter().map(|s| s.to_bits()).collect())).collect::<Vec<(usize, Vec<u32>)>>()
    };
    assert_eq!(bits(&got), bits(&want), "f32 path");
    assert!(got.iter().any(|(_, y)| *y != got[0].1), "f32 scores never change");
    c.reset();
    assert_eq!(bits(&run(&mut c, &x)), bits(&want), "f32 path after reset");

    let (mut a, mut s) = (vec![0; m.i8_arena_len()], vec![0; m.i8_state_len()]);
    let mut c = I8Classifier::<Z>::with_size(m, &mut a, &mut s).unwrap();
    let got = run(&mut c, &x);
    assert_eq!(got, by_hand_i8::<Z>(blob, &x), "integer path");
    assert!(got.iter().any(|(_, y)| *y != got[0].1), "integer scores never change");
    let classes: std::collections::BTreeSet<usize> = got.iter().map(|(k, _)| *k).collect();
    std::println!("{} Hz: integer classes seen {classes:?}", Z::SAMPLE_RATE);
    let mut f = vec![0.0; CLASSES];
    c.dequantize(&got[40].1, &mut f);
    for (f, q) in f.iter().zip(&got[40].1) {
        assert_eq!(*f, f32::from(*q) * m.output_scale());
    }
}

#[test]
fn log_mel_classifier_at_8khz_matches_the_model_by_hand() {
    for (avg, softmax) in [(true, true), (false, false)] {
        matches_by_hand::<Narrowband>(&classifier_blob(mel_8k(), avg, softmax), 8000.0);
    }
}

#[cfg(feature = "wideband")]
#[test]
fn log_power_classifier_at_16khz_matches_the_model_by_hand() {
    matches_by_hand::<Wideband>(&classifier_blob(power_16k(), true, true), 16000.0);
}

#[test]
fn f32_softmax_scores_are_probabilities() {
    let blob = classifier_blob(mel_8k(), true, true);
    let m = Model::parse(&blob).unwrap();
    let (mut a, mut s) = (vec![0.0; m.f32_arena_len()], vec![0.0; m.f32_state_len()]);
    let mut c = F32Classifier::<i16>::new(m, &mut a, &mut s).unwrap();
    for (k, y) in run(&mut c, &signal(Narrowband::HOP * 30, 8000.0)) {
        assert!((y.iter().sum::<f32>() - 1.0).abs() < 1e-5 && y.iter().all(|p| *p >= 0.0), "{y:?}");
        assert!(y.iter().all(|p| *p <= y[k]));
    }
}

#[test]
fn classifiers_and_denoisers_refuse_each_others_blobs() {
    let scores = classifier_blob(mel_8k(), true, true);
    let m = Model::parse(&scores).unwrap();
    assert_eq!(check_denoiser(&m), Err(Error::ClassifierBlob));
    assert_eq!(check_classifier(&m), Ok(()));
    let (mut a, mut s) = (vec![0.0; 4096], vec![0.0; 4096]);
    assert_eq!(F32Denoiser::<i16>::new(m, &mut a, &mut s).err(), Some(Error::ClassifierBlob));
    let (mut ai, mut si) = (vec![0; 4096], vec![0; 4096]);
    assert_eq!(I8Denoiser::new(m, &mut ai, &mut si).err(), Some(Error::ClassifierBlob));
    assert!(std::format!("{}", Error::ClassifierBlob).contains("class scores"));

    let mut g = GraphWriter::new(FrontEnd { output: Output::BandGains, ..mel_8k() });
    let fb = g.f16_tensor(&dsp::mel_filterbank(8000, 32)).unwrap();
    g.filterbank(fb);
    let w = weight(&mut g, 32, 32, 0.1, 7);
    g.linear(g.input(), w, None, 32, Act::Sigmoid).unwrap();
    let denoiser = g.finish().unwrap();
    let m = Model::parse(&denoiser).unwrap();
    assert_eq!(check_denoiser(&m), Ok(()));
    assert_eq!(check_classifier(&m), Err(Error::NotAClassifier));
    assert_eq!(F32Classifier::<i16>::new(m, &mut a, &mut s).err(), Some(Error::NotAClassifier));
    assert_eq!(I8Classifier::new(m, &mut ai, &mut si).err(), Some(Error::NotAClassifier));
    assert!(std::format!("{}", Error::NotAClassifier).contains("not class scores"));
}

#[cfg(feature = "wideband")]
#[test]
fn wrong_sizes_buffers_and_paths_are_typed_errors() {
    let wide = classifier_blob(power_16k(), true, true);
    let m = Model::parse(&wide).unwrap();
    let (mut a, mut s) = (vec![0.0; 8192], vec![0.0; 8192]);
    assert_eq!(
        F32Classifier::<i16>::new(m, &mut a, &mut s).err(),
        Some(Error::FrameMismatch { blob: 512, pipeline: 256 })
    );
    assert_eq!(check_classifier_for::<Wideband>(&m), Ok(()));

    let blob = classifier_blob(mel_8k(), true, true);
    let m = Model::parse(&blob).unwrap();
    let mut small = vec![0.0; m.f32_arena_len() - 1];
    let e = F32Classifier::<i16>::new(m, &mut small, &mut s).err();
    assert_eq!(e, Some(Error::ArenaTooSmall { needed: m.f32_arena_len() as u32, got: m.f32_arena_len() as u32 - 1 }));
    let mut f32_only = GraphWriter::new(FrontEnd { output: Output::Scores, ..power_16k() });
    let w = weight(&mut f32_only, CLASSES, 256, 0.1, 3);
    f32_only.linear(f32_only.input(), w, None, CLASSES, Act::None).unwrap();
    let f32_only = f32_only.finish().unwrap();
    let (mut ai, mut si) = (vec![0; 8192], vec![0; 8192]);
    let e = I8Classifier::<Wideband>::with_size(Model::parse(&f32_only).unwrap(), &mut ai, &mut si).err();
    assert_eq!(e, Some(Error::NoIntegerPath));

    // A scores buffer of the wrong length is refused before the hop touches any state.
    let x = signal(Narrowband::HOP * 20, 8000.0);
    let mut c = I8Classifier::new(m, &mut ai, &mut si).unwrap();
    let first = hops_of::<Narrowband>(&x)[0];
    assert_eq!(c.classify(&first, &mut [0i8; CLASSES + 1]), Err(Error::BadIoLength { expected: 4, got: 5 }));
    assert_eq!(run(&mut c, &x), by_hand_i8::<Narrowband>(&blob, &x));
}
