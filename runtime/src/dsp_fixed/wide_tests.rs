//! The 16 kHz front end ([`Wideband`]: 512-point frames, hop 256, 257 bins) on both paths:
//! its FFTs against an f64 DFT on random input, its tables, analysis → synthesis with unit
//! gains, its integer features against the f32 ones, and overflow at the extremes. Run with
//! `--nocapture` to see the figures.

use super::fft::{self, Cpx};
use super::tables::FixedSize;
use super::tests::{check_twiddles, snr_db, speech_like, white, Rng};
use super::*;
use crate::dsp::{self, Analyzer, Complex32, FrameSize, Synthesizer, Wideband};
use core::f64::consts::PI;
use std::println;
use std::vec::Vec;

type W = Wideband;
const HOP: usize = W::HOP;
const BINS: usize = W::BINS;
const FRAME: usize = W::FRAME;

/// Exact DFT (f64) of a real frame, bins 0..=FRAME/2.
fn dft(x: &[f64]) -> Vec<(f64, f64)> {
    (0..=x.len() / 2)
        .map(|k| {
            x.iter().enumerate().fold((0.0, 0.0), |(re, im), (n, v)| {
                let a = -2.0 * PI * (k * n % x.len()) as f64 / x.len() as f64;
                (re + v * a.cos(), im + v * a.sin())
            })
        })
        .collect()
}

fn max_err(reference: &[(f64, f64)], got: &[(f64, f64)]) -> f64 {
    reference.iter().zip(got).map(|(r, g)| (r.0 - g.0).hypot(r.1 - g.1)).fold(0.0, f64::max)
}

fn hops(x: &[i16]) -> impl Iterator<Item = &[i16; HOP]> {
    x.chunks_exact(HOP).map(|h| h.try_into().unwrap())
}

#[test]
fn tables_512_match_float() {
    for n in 0..FRAME {
        let (q, w) = (f64::from(W::window_q31()[n / 2][n % 2]) / 2147483648.0, dsp::window_value::<W>(n));
        assert!((q - f64::from(w)).abs() <= 1e-7, "window {n}");
        assert!((f64::from(w) - (PI * n as f64 / FRAME as f64).sin()).abs() <= 1e-7, "window {n}");
    }
    check_twiddles::<W>();
    for (i, r) in W::bitrev().iter().enumerate() {
        assert_eq!(u32::from(*r), (i as u32).reverse_bits() >> 24);
    }
}

/// The integer 256-point complex FFTs (of the 512-point real FFT) against the f64 DFT/256.
#[test]
fn fixed_complex_fft_256_matches_f64_dft() {
    const N: usize = FRAME / 2;
    let mut rng = Rng(256);
    let z: Vec<Cpx> = (0..N).map(|_| Cpx { re: (rng.next() * 4e8) as i32, im: (rng.next() * 4e8) as i32 }).collect();
    let reference: Vec<(f64, f64)> = (0..N)
        .map(|k| {
            z.iter().enumerate().fold((0.0, 0.0), |(re, im), (n, c)| {
                let a = -2.0 * PI * (k * n % N) as f64 / N as f64;
                let (x, y) = (f64::from(c.re), f64::from(c.im));
                (re + (x * a.cos() - y * a.sin()) / N as f64, im + (x * a.sin() + y * a.cos()) / N as f64)
            })
        })
        .collect();
    let mut dit = [Cpx::default(); N];
    for (n, c) in z.iter().enumerate() {
        dit[usize::from(W::bitrev()[n])] = *c;
    }
    fft::dit::<W>(&mut dit);
    let mut dif: [Cpx; N] = z.clone().try_into().unwrap();
    fft::dif::<W>(&mut dif);
    let got_dit: Vec<(f64, f64)> = dit.iter().map(|c| (f64::from(c.re), f64::from(c.im))).collect();
    let got_dif: Vec<(f64, f64)> =
        (0..N).map(|k| dif[usize::from(W::bitrev()[k])]).map(|c| (f64::from(c.re), f64::from(c.im))).collect();
    let (a, b) = (snr_db(&reference, &got_dit), snr_db(&reference, &got_dif));
    let (ea, eb) = (max_err(&reference, &got_dit), max_err(&reference, &got_dif));
    println!(
        "256-point integer FFT vs f64 DFT/256: DIT {a:.1} dB (max error {ea:.1} LSB), DIF {b:.1} dB ({eb:.1} LSB)"
    );
    assert!(a > 120.0 && b > 120.0);
    assert!(ea < 16.0 && eb < 16.0, "{ea} {eb}");
}

/// The integer analysis (Q31 window, block exponent, 512-point real FFT) against the f64 DFT of
/// the same Q31-windowed samples, on random and speech-like input.
#[test]
fn fixed_real_fft_512_matches_f64_dft() {
    let win = |n: usize| f64::from(W::window_q31()[n / 2][n % 2]) / 2147483648.0;
    for (name, x) in
        [("white -6 dBFS", white(HOP * 6, 0.5, 21)), ("speech -30 dBFS", speech_like(HOP * 6, 0.03, 3e-4, 22))]
    {
        let mut fe = FixedFrontEnd::<W>::with_size(0.12, 1.0 / 127.0);
        let mut worst = f64::INFINITY;
        for (i, h) in hops(&x).enumerate() {
            fe.analyze(h);
            if i == 0 {
                continue;
            }
            // The spectrum of the samples/32768 is spec · 2^−(30 − 9 + s).
            let k = 2f64.powi(-(21 + fe.exp));
            let mut got: Vec<(f64, f64)> = fe.spec.iter().map(|c| (f64::from(c.re) * k, f64::from(c.im) * k)).collect();
            let nyq = got[0].1;
            got[0].1 = 0.0;
            got.push((nyq, 0.0));
            let frame: Vec<f64> = x[(i - 1) * HOP..(i + 1) * HOP]
                .iter()
                .enumerate()
                .map(|(n, v)| f64::from(*v) / 32768.0 * win(n))
                .collect();
            if frame.iter().any(|v| *v != 0.0) {
                worst = worst.min(snr_db(&dft(&frame), &got));
            }
        }
        println!("integer 512-point real FFT, {name}: SNR vs f64 DFT ≥ {worst:.1} dB");
        assert!(worst > 100.0, "{name}: {worst}");
    }
}

/// Analysis → unit gains → synthesis gives the input back one hop late: f32 (error stated in
/// units of full scale) and integer (in LSB).
#[test]
fn unit_gains_reconstruct_16k_input_one_hop_late() {
    let x = speech_like(HOP * 40, 0.9, 0.02, 23);
    let (mut an, mut sy) = (Analyzer::<W>::default(), Synthesizer::<W>::default());
    let mut spec = [Complex32::new(0.0, 0.0); BINS];
    let mut yf = Vec::new();
    for h in hops(&x) {
        an.push(&core::array::from_fn(|j| f32::from(h[j]) / 32768.0), &mut spec);
        dsp::apply_mask(&mut spec, &[1.0; BINS]);
        let mut o = [0.0f32; HOP];
        sy.push(&spec, &mut o);
        yf.extend(o);
    }
    let f32_err =
        (HOP..x.len()).map(|i| (f64::from(yf[i]) - f64::from(x[i - HOP]) / 32768.0).abs()).fold(0.0, f64::max);
    let mut fe = FixedFrontEnd::<W>::with_size(0.12, 1.0 / 127.0);
    let mut yq = Vec::new();
    for h in hops(&x) {
        fe.analyze(h);
        fe.apply_mask(&[127; BINS]);
        let mut o = [0i16; HOP];
        fe.synthesize(&mut o);
        yq.extend(o);
    }
    let int_err = (HOP..x.len()).map(|i| (i32::from(yq[i]) - i32::from(x[i - HOP])).abs()).max().unwrap();
    println!("16 kHz unit gains: f32 max error {f32_err:.2e} of full scale, integer max error {int_err} LSB");
    assert!(f32_err < 2e-6, "{f32_err}");
    assert!(int_err <= 2, "{int_err}");
}

/// The integer log-power features at 16 kHz against the f32 path's, rounded to int8 steps.
#[test]
fn fixed_features_16k_follow_the_f32_path() {
    let scale = 0.12f32;
    let x = speech_like(HOP * 60, 0.5, 0.01, 24);
    let mut fe = FixedFrontEnd::<W>::with_size(scale, 1.0 / 127.0);
    let mut an = Analyzer::<W>::default();
    let (mut q, mut spec, mut f) = ([0i8; HOP], [Complex32::new(0.0, 0.0); BINS], [0.0f32; HOP]);
    let (mut max, mut off) = (0, 0usize);
    for h in hops(&x) {
        fe.analyze(h);
        fe.features(&mut q);
        an.push(&core::array::from_fn(|j| f32::from(h[j]) / 32768.0), &mut spec);
        dsp::features(&spec, &mut f);
        for (a, b) in q.iter().zip(&f) {
            let d = (i32::from(*a) - crate::quant::round(b / scale).clamp(-127.0, 127.0) as i32).abs();
            max = max.max(d);
            off += usize::from(d != 0);
        }
    }
    println!("16 kHz integer features vs f32: max {max} step(s), {off} of {} differ", q.len() * (x.len() / HOP));
    assert!(max <= 1, "{max}");
}

#[test]
fn extremes_16k_do_not_overflow() {
    let mut rng = Rng(1616);
    let mut fe = FixedFrontEnd::<W>::with_size(0.12, 1.0 / 127.0);
    let (mut q, mut out) = ([0i8; HOP], [0i16; HOP]);
    for i in 0..600 {
        if i % 100 == 0 {
            fe = FixedFrontEnd::with_size((rng.next().abs() * 2.0) as f32, (rng.next() * 0.05) as f32);
        }
        let h: [i16; HOP] = match i % 4 {
            0 => [i16::MIN; HOP],
            1 => core::array::from_fn(|j| if j % 2 == 0 { i16::MIN } else { i16::MAX }),
            _ => core::array::from_fn(|_| ((rng.next() * 32768.0) as i32 >> (i % 16)) as i16),
        };
        let m: [i8; BINS] = core::array::from_fn(|_| (rng.next() * 128.0) as i8);
        fe.analyze(&h);
        fe.features(&mut q);
        fe.apply_mask(&m);
        fe.synthesize(&mut out);
    }
    fe.reset();
    fe.analyze(&[0; HOP]);
    fe.features(&mut q);
    assert!(q.iter().all(|v| *v == -127), "silence gives the floor: {q:?}");
}
