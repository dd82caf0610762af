//! Host tests of the integer front end against the f32 front end (`dsp`) and exact references.
//! Run with `--nocapture` to see the accuracy figures.

use super::fft::{self, Cpx};
use super::tables::FixedSize;
use super::*;
use crate::dsp::{self, Complex32, Narrowband, BINS, FRAME, HOP, N_FEATURES};
use std::string::String;
use std::vec::Vec;
use std::{format, println};

/// Complex points of the 8 kHz front end's half-length FFT.
const N: usize = FRAME / 2;

/// Deterministic xorshift noise in [−1, 1).
pub(super) struct Rng(pub u64);
impl Rng {
    pub(super) fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}

/// Speech-like test audio, i16: a voiced source (f0 110–220 Hz with vibrato, 30 harmonics with
/// two formant bumps) under a 4 Hz syllable envelope with pauses, plus white noise.
pub(super) fn speech_like(len: usize, peak: f64, noise: f64, seed: u64) -> Vec<i16> {
    let mut rng = Rng(seed | 1);
    let mut phase = 0.0f64;
    let mut x: Vec<f64> = (0..len)
        .map(|i| {
            let t = i as f64 / 8000.0;
            let f0 = 110.0
                + 60.0 * (1.0 + (2.0 * core::f64::consts::PI * 0.7 * t).sin())
                + 5.0 * (2.0 * core::f64::consts::PI * 5.5 * t).sin();
            phase += 2.0 * core::f64::consts::PI * f0 / 8000.0;
            let syl = (2.0 * core::f64::consts::PI * 4.0 * t).sin();
            let env = if syl > 0.0 { syl * syl } else { 0.0 };
            let mut v = 0.0;
            for h in 1..=30 {
                let f = f0 * h as f64;
                if f >= 3900.0 {
                    break;
                }
                let formant =
                    1.0 / (1.0 + ((f - 700.0) / 200.0).powi(2)) + 0.5 / (1.0 + ((f - 1800.0) / 300.0).powi(2));
                v += (0.05 + formant) / h as f64 * (phase * h as f64).sin();
            }
            env * v + noise * rng.next()
        })
        .collect();
    let m = x.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-12);
    x.iter_mut().for_each(|v| *v *= peak / m);
    x.iter().map(|v| (v * 32767.0).round().clamp(-32768.0, 32767.0) as i16).collect()
}

pub(super) fn white(len: usize, peak: f64, seed: u64) -> Vec<i16> {
    let mut rng = Rng(seed | 1);
    (0..len).map(|_| (rng.next() * peak * 32767.0).round() as i16).collect()
}

fn hops(x: &[i16]) -> impl Iterator<Item = &[i16; HOP]> {
    x.chunks_exact(HOP).map(|h| h.try_into().unwrap())
}

/// The fixed front end's current spectrum (bins 0..=128) in units of the samples/32768.
fn spectrum_f64(fe: &FixedFrontEnd) -> Vec<(f64, f64)> {
    let k = (2.0f64).powi(-(22 + fe.exp));
    let mut v: Vec<(f64, f64)> = fe.spec.iter().map(|c| (c.re as f64 * k, c.im as f64 * k)).collect();
    let nyq = v[0].1;
    v[0].1 = 0.0;
    v.push((nyq, 0.0));
    v
}

/// Exact DFT (f64) of `frame` windowed with `win`, bins 0..=128.
fn dft(frame: &[f64], win: impl Fn(usize) -> f64) -> Vec<(f64, f64)> {
    (0..=FRAME / 2)
        .map(|k| {
            frame.iter().enumerate().fold((0.0, 0.0), |(re, im), (n, x)| {
                let a = -2.0 * core::f64::consts::PI * (k * n % FRAME) as f64 / FRAME as f64;
                (re + x * win(n) * a.cos(), im + x * win(n) * a.sin())
            })
        })
        .collect()
}

pub(super) fn snr_db(reference: &[(f64, f64)], got: &[(f64, f64)]) -> f64 {
    let (mut s, mut e) = (0.0, 0.0);
    for (r, g) in reference.iter().zip(got) {
        s += r.0 * r.0 + r.1 * r.1;
        e += (r.0 - g.0).powi(2) + (r.1 - g.1).powi(2);
    }
    10.0 * (s / e.max(1e-300)).log10()
}

pub(super) fn q31_window(n: usize) -> f64 {
    Narrowband::window_q31()[n / 2][n % 2] as f64 / 2147483648.0
}

/// The FFT's twiddles as read from `Z`'s window, `W^k` for k in 0..N (a half turn: the quarter
/// and the quarter a quarter turn on), against the angles in f64 and value for value against
/// `tables::twiddle`'s rounding of them.
pub(super) fn check_twiddles<Z: FixedSize>() {
    use super::tables::{quarter_on, quarter_twiddles, twiddle};
    let quarter: Vec<_> = quarter_twiddles::<Z>().collect();
    assert_eq!(quarter.len(), Z::FRAME / 4);
    for (k, t) in quarter.iter().copied().chain(quarter.iter().copied().map(quarter_on)).enumerate() {
        let a = 2.0 * core::f64::consts::PI * k as f64 / Z::FRAME as f64;
        assert!((f64::from(t.c) / 2147483648.0 - a.cos()).abs() < 1e-9, "cos {k}");
        assert!((f64::from(t.s) / 2147483648.0 - a.sin()).abs() < 1e-9, "sin {k}");
        let r = twiddle(k, Z::FRAME);
        assert_eq!((t.c, t.s), (r.c, r.s), "twiddle {k}: the window's samples round as the angle's");
    }
}

#[test]
fn complex_ffts_are_scaled_dfts() {
    let mut rng = Rng(7);
    let z: Vec<Cpx> = (0..N).map(|_| Cpx { re: (rng.next() * 4e8) as i32, im: (rng.next() * 4e8) as i32 }).collect();
    let reference: Vec<(f64, f64)> = (0..N)
        .map(|k| {
            z.iter().enumerate().fold((0.0, 0.0), |(re, im), (n, c)| {
                let a = -2.0 * core::f64::consts::PI * (k * n % N) as f64 / N as f64;
                let (x, y) = (c.re as f64, c.im as f64);
                (re + (x * a.cos() - y * a.sin()) / N as f64, im + (x * a.sin() + y * a.cos()) / N as f64)
            })
        })
        .collect();
    let mut dit = [Cpx::default(); N];
    for (n, c) in z.iter().enumerate() {
        dit[Narrowband::bitrev()[n] as usize] = *c;
    }
    fft::dit::<Narrowband>(&mut dit);
    let mut dif: [Cpx; N] = z.clone().try_into().unwrap();
    fft::dif::<Narrowband>(&mut dif);
    let got_dit: Vec<(f64, f64)> = dit.iter().map(|c| (c.re as f64, c.im as f64)).collect();
    let got_dif: Vec<(f64, f64)> =
        (0..N).map(|k| dif[Narrowband::bitrev()[k] as usize]).map(|c| (c.re as f64, c.im as f64)).collect();
    let (a, b) = (snr_db(&reference, &got_dit), snr_db(&reference, &got_dif));
    println!("128-point complex FFT vs f64 DFT/128: DIT {a:.1} dB, DIF {b:.1} dB");
    assert!(a > 120.0 && b > 120.0);
}

/// Real 256-point FFT of the analysis (windowing, block exponent, split) against the f64 DFT of
/// the same Q31-windowed samples (the FFT's own error) and against `dsp::Analyzer` (f32,
/// f32 FFT and window: what the features are compared with).
#[test]
fn real_fft_matches_float_reference() {
    for (name, level) in
        [("speech 0 dBFS", 1.0), ("speech -20 dBFS", 0.1), ("speech -50 dBFS", 0.00316), ("noise -6 dBFS", 0.5)]
    {
        let x = if name.starts_with("noise") {
            white(HOP * 8, level, 3)
        } else {
            speech_like(HOP * 8, level, level * 0.01, 11)
        };
        let mut fe = FixedFrontEnd::new(0.12, 1.0 / 127.0);
        let mut an = dsp::Analyzer::new();
        let mut feats = [0i8; N_FEATURES];
        let mut spec = [Complex32::new(0.0, 0.0); BINS];
        let (mut worst_exact, mut worst_f32) = (f64::INFINITY, f64::INFINITY);
        for (i, h) in hops(&x).enumerate() {
            fe.analyze(h);
            fe.features(&mut feats);
            let hf: [f32; HOP] = core::array::from_fn(|j| h[j] as f32 / 32768.0);
            an.push(&hf, &mut spec);
            if i == 0 {
                continue;
            }
            let frame: Vec<f64> = x[(i - 1) * HOP..(i + 1) * HOP].iter().map(|v| *v as f64 / 32768.0).collect();
            let got = spectrum_f64(&fe);
            let f32_ref: Vec<(f64, f64)> = spec.iter().map(|c| (c.re as f64, c.im as f64)).collect();
            worst_exact = worst_exact.min(snr_db(&dft(&frame, q31_window), &got));
            worst_f32 = worst_f32.min(snr_db(&f32_ref, &got));
        }
        println!("real FFT, {name}: SNR vs f64 DFT (same Q31 window) ≥ {worst_exact:.1} dB, vs dsp::Analyzer (f32) ≥ {worst_f32:.1} dB");
        assert!(worst_exact > 100.0, "{name}");
        assert!(worst_f32 > 110.0, "{name}");
    }
}

/// Feature error in int8 LSBs against the f32 path: `dsp::Analyzer` on the same samples/32768,
/// `dsp::features`, then `clamp(round(x / input_scale), ±127)`.
fn feature_errors(x: &[i16], input_scale: f32) -> (i32, f64, usize) {
    let mut fe = FixedFrontEnd::new(input_scale, 1.0 / 127.0);
    let mut an = dsp::Analyzer::new();
    let (mut q, mut spec, mut f) = ([0i8; N_FEATURES], [Complex32::new(0.0, 0.0); BINS], [0.0f32; N_FEATURES]);
    let (mut max, mut sum, mut n) = (0i32, 0i64, 0usize);
    for h in hops(x) {
        fe.analyze(h);
        fe.features(&mut q);
        let hf: [f32; HOP] = core::array::from_fn(|j| h[j] as f32 / 32768.0);
        an.push(&hf, &mut spec);
        dsp::features(&spec, &mut f);
        for (a, b) in q.iter().zip(f.iter()) {
            let r = crate::quant::round(b / input_scale).clamp(-127.0, 127.0) as i32;
            let d = (i32::from(*a) - r).abs();
            max = max.max(d);
            sum += i64::from(d);
            n += 1;
        }
    }
    (max, sum as f64 / n as f64, n)
}

#[test]
fn features_match_f32_path() {
    let len = HOP * 250; // 4 s
    let cases: Vec<(String, Vec<i16>)> = std::vec![
        ("speech 0 dBFS + noise -40 dB".into(), speech_like(len, 1.0, 0.01, 1)),
        ("speech -26 dBFS + noise -30 dB".into(), speech_like(len, 0.05, 0.0016, 2)),
        ("speech -50 dBFS, no noise".into(), speech_like(len, 0.00316, 0.0, 3)),
        ("white noise -10 dBFS".into(), white(len, 0.3, 4)),
        ("white noise, 1 LSB".into(), white(len, 1.0 / 32767.0, 5)),
        (
            "full-scale square 250 Hz".into(),
            (0..len).map(|i| if (i / 16) % 2 == 0 { i16::MAX } else { i16::MIN }).collect()
        ),
    ];
    for scale in [0.12f32, 0.05, 0.2] {
        for (name, x) in &cases {
            let (max, mean, n) = feature_errors(x, scale);
            println!("features, input_scale {scale}, {name}: max |Δq| = {max} LSB, mean {mean:.4} LSB over {n}");
            assert!(max <= 1, "{name} @ {scale}: {max}");
            assert!(mean < 0.02, "{name} @ {scale}: {mean}");
        }
    }
}

/// Runs `x` through analysis, a constant mask and synthesis; returns the output.
fn run_fixed(x: &[i16], mask: &[i8; BINS], output_scale: f32) -> Vec<i16> {
    let mut fe = FixedFrontEnd::new(0.12, output_scale);
    let (mut q, mut out) = ([0i8; N_FEATURES], Vec::with_capacity(x.len()));
    for h in hops(x) {
        fe.analyze(h);
        fe.features(&mut q);
        let mut o = [0i16; HOP];
        fe.apply_mask(mask);
        fe.synthesize(&mut o);
        out.extend_from_slice(&o);
    }
    out
}

/// SNR of `y` against `reference(i − HOP)` (the output is one hop late).
pub(super) fn snr_delayed(y: &[i16], reference: impl Fn(usize) -> f64) -> f64 {
    let (mut s, mut e) = (0.0, 0.0);
    for (i, v) in y.iter().enumerate().skip(HOP) {
        let r = reference(i - HOP);
        s += r * r;
        e += (r - *v as f64).powi(2);
    }
    10.0 * (s / e.max(1e-300)).log10()
}

#[test]
fn unity_mask_reconstructs_input_one_hop_late() {
    for (name, x) in [
        ("speech 0 dBFS", speech_like(HOP * 100, 1.0, 0.01, 8)),
        ("speech -40 dBFS", speech_like(HOP * 100, 0.01, 0.0003, 9)),
        ("noise -3 dBFS", white(HOP * 100, 0.7, 10)),
    ] {
        let y = run_fixed(&x, &[127; BINS], 1.0 / 127.0);
        let snr = snr_delayed(&y, |i| x[i] as f64);
        let max = (HOP..y.len()).map(|i| (y[i] as i32 - x[i - HOP] as i32).abs()).max().unwrap();
        println!("unity mask, {name}: SNR {snr:.1} dB, max error {max} LSB");
        assert!(snr > 40.0, "{name}: {snr}");
    }
}

/// A non-trivial mask against the f32 path with gains `q · output_scale`.
#[test]
fn masked_synthesis_matches_f32_path() {
    let x = speech_like(HOP * 100, 0.5, 0.05, 12);
    let mask: [i8; BINS] = core::array::from_fn(|k| ((k * 37) % 128) as i8);
    let scale = 1.0 / 127.0;
    let y = run_fixed(&x, &mask, scale);
    let (mut an, mut sy) = (dsp::Analyzer::new(), dsp::Synthesizer::new());
    let gains: [f32; BINS] = core::array::from_fn(|k| mask[k] as f32 * scale);
    let mut spec = [Complex32::new(0.0, 0.0); BINS];
    let mut yf = Vec::new();
    for h in hops(&x) {
        let hf: [f32; HOP] = core::array::from_fn(|j| h[j] as f32 / 32768.0);
        an.push(&hf, &mut spec);
        dsp::apply_mask(&mut spec, &gains);
        let mut o = [0.0f32; HOP];
        sy.push(&spec, &mut o);
        yf.extend(o.iter().map(|v| *v as f64 * 32768.0));
    }
    let snr = snr_delayed(&y, |i| yf[i + HOP]);
    println!("masked synthesis vs f32 path: SNR {snr:.1} dB");
    assert!(snr > 60.0, "{snr}");
}

#[test]
fn silence_and_extremes_do_not_overflow() {
    let mut fe = FixedFrontEnd::new(0.12, 1.0 / 127.0);
    let (mut q, mut out) = ([0i8; N_FEATURES], [1i16; HOP]);
    // Silence: the floor, ln(1e-7)/0.12 = −134 → −127, and silent output.
    for _ in 0..3 {
        fe.analyze(&[0; HOP]);
        fe.features(&mut q);
        assert!(q.iter().all(|v| *v == -127), "{q:?}");
        fe.apply_mask(&[127; BINS]);
        fe.synthesize(&mut out);
        assert!(out.iter().all(|v| *v == 0));
    }
    // Full scale, every extreme pattern, every extreme mask (and gains over 1) and scale.
    let patterns: [fn(usize) -> i16; 5] = [
        |_| i16::MIN,
        |_| i16::MAX,
        |i| if i % 2 == 0 { i16::MIN } else { i16::MAX },
        |i| if (i / 3) % 2 == 0 { i16::MIN } else { i16::MAX },
        |i| if i % 128 == 0 { i16::MIN } else { 0 },
    ];
    let masks: [[i8; BINS]; 4] =
        [[127; BINS], [-128; BINS], [0; BINS], core::array::from_fn(|k| if k % 2 == 0 { 127 } else { -128 })];
    for scale_out in [1.0 / 127.0, 1.0, 100.0, -1.0, f32::NAN, 0.0] {
        for scale_in in [0.12, 1e-30, 1e30, f32::NAN, -1.0, f32::MIN_POSITIVE] {
            let mut fe = FixedFrontEnd::new(scale_in, scale_out);
            for p in patterns {
                for m in &masks {
                    let h: [i16; HOP] = core::array::from_fn(p);
                    fe.analyze(&h);
                    fe.features(&mut q);
                    fe.apply_mask(m);
                    fe.synthesize(&mut out);
                }
            }
        }
    }
    // Random full-scale bursts, random masks, random scales: overflow checks are on in tests.
    let mut rng = Rng(4242);
    let mut fe = FixedFrontEnd::new(0.12, 1.0 / 127.0);
    for i in 0..3000 {
        if i % 500 == 0 {
            fe = FixedFrontEnd::new((rng.next().abs() * 2.0) as f32, (rng.next() * 0.05) as f32);
        }
        let shift = (rng.next().abs() * 16.0) as u32;
        let h: [i16; HOP] = core::array::from_fn(|_| ((rng.next() * 32768.0) as i32 >> shift) as i16);
        let m: [i8; BINS] = core::array::from_fn(|_| (rng.next() * 128.0) as i8);
        fe.analyze(&h);
        fe.features(&mut q);
        fe.apply_mask(&m);
        fe.synthesize(&mut out);
    }
    // Full-scale DC with unity mask comes back (saturated at most by one LSB of rounding).
    let x = std::vec![i16::MIN; HOP * 6];
    let y = run_fixed(&x, &[127; BINS], 1.0 / 127.0);
    assert!(y[2 * HOP..].iter().all(|v| (*v as i32 + 32768).abs() <= 2), "{:?}", &y[2 * HOP..2 * HOP + 8]);
    let f = format!("{}", core::mem::size_of::<FixedFrontEnd>());
    println!("size_of::<FixedFrontEnd>() = {f} bytes");
}

/// The stages called out of order (synthesis without a mask, twice, a mask after synthesis)
/// give wrong audio but never overflow (overflow checks are on in tests).
#[test]
fn stages_out_of_order_do_not_overflow() {
    let loud: [i16; HOP] = core::array::from_fn(|i| if i % 3 == 0 { i16::MIN } else { i16::MAX });
    let (mut q, mut out) = ([0i8; N_FEATURES], [0i16; HOP]);
    for scale_out in [1.0 / 127.0, 100.0] {
        let mut fe = FixedFrontEnd::new(0.12, scale_out);
        fe.analyze(&[0; HOP]);
        fe.apply_mask(&[1; BINS]); // silence: the largest normalisation shift
        fe.analyze(&loud);
        fe.synthesize(&mut out);
        fe.synthesize(&mut out);
        fe.apply_mask(&[127; BINS]);
        fe.apply_mask(&[127; BINS]);
        fe.synthesize(&mut out);
        fe.features(&mut q);
        fe.analyze(&loud);
        fe.features(&mut q);
        fe.features(&mut q);
        fe.synthesize(&mut out);
    }
}
