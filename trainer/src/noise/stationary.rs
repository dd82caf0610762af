//! Stationary generated noise: white, pink, brown, mains hum and fans.

use super::{normal, normalize_rms};
use rand::Rng;
use std::f32::consts::TAU;

/// Gaussian white noise.
pub fn white<R: Rng>(n: usize, rng: &mut R) -> Vec<f32> {
    (0..n).map(|_| normal(rng)).collect()
}

/// Pink (1/f) noise: Paul Kellet's filter bank on white noise.
pub fn pink<R: Rng>(n: usize, rng: &mut R) -> Vec<f32> {
    let mut b = [0f32; 7];
    (0..n)
        .map(|_| {
            let w = normal(rng);
            b[0] = 0.99886 * b[0] + w * 0.055_517_9;
            b[1] = 0.99332 * b[1] + w * 0.075_075_9;
            b[2] = 0.96900 * b[2] + w * 0.153_852;
            b[3] = 0.86650 * b[3] + w * 0.310_485_6;
            b[4] = 0.55000 * b[4] + w * 0.532_952_2;
            b[5] = -0.7616 * b[5] - w * 0.016_898;
            let y = b[0] + b[1] + b[2] + b[3] + b[4] + b[5] + b[6] + w * 0.5362;
            b[6] = w * 0.115_926;
            y
        })
        .collect()
}

/// Brown (1/f²) noise: leaky integration of white noise.
pub fn brown<R: Rng>(n: usize, rng: &mut R) -> Vec<f32> {
    let mut y = 0f32;
    (0..n)
        .map(|_| {
            y = 0.995 * y + normal(rng);
            y
        })
        .collect()
}

/// Mains hum at `rate`: 50 or 60 Hz (±1%) with harmonics up to ~2 kHz, decaying randomly, plus a
/// faint white floor.
pub fn hum<R: Rng>(n: usize, rate: u32, rng: &mut R) -> Vec<f32> {
    let f0 = if rng.random::<bool>() { 50.0 } else { 60.0 } * (1.0 + (rng.random::<f32>() - 0.5) * 0.02);
    let n_harm = (2000.0 / f0) as usize;
    let harmonics: Vec<(f32, f32, f32)> = (1..=n_harm)
        .map(|h| {
            let odd = if h % 2 == 1 { 1.0 } else { 0.5 };
            let amp = odd * rng.random_range(0.1f32..1.0) / (h as f32).powf(rng.random_range(0.5f32..1.5));
            (h as f32 * f0, amp, rng.random::<f32>() * TAU)
        })
        .collect();
    let floor = 0.01f32;
    (0..n)
        .map(|i| {
            let t = i as f32 / rate as f32;
            let s: f32 = harmonics.iter().map(|&(f, a, p)| a * (TAU * f * t + p).sin()).sum();
            s + floor * normal(rng)
        })
        .collect()
}

/// `x` through a one-pole low-pass with its corner at `fc` Hz (at `rate`).
pub fn lowpass(x: &[f32], fc: f32, rate: u32) -> Vec<f32> {
    let a = (-TAU * fc / rate as f32).exp();
    let mut y = 0f32;
    x.iter()
        .map(|&v| {
            y = a * y + (1.0 - a) * v;
            y
        })
        .collect()
}

/// A fan or ventilation unit at `rate`: airflow (pink noise low-passed at 300–2000 Hz) and the
/// blade-pass tone (40–200 Hz) with its harmonics up to 4 kHz, whose speed drifts slowly (±0.5–3%,
/// one cycle in 2–20 s); the tones 6 dB below to 6 dB above the airflow.
pub fn fan<R: Rng>(n: usize, rate: u32, rng: &mut R) -> Vec<f32> {
    let fs = rate as f32;
    let f0 = rng.random_range(40f32..200.0);
    let n_harm = (((0.45 * fs).min(4000.0) / f0) as usize).clamp(1, 40);
    let harmonics: Vec<(f32, f32)> = (1..=n_harm)
        .map(|h| {
            (rng.random_range(0.2f32..1.0) / (h as f32).powf(rng.random_range(0.8f32..1.6)), rng.random::<f32>() * TAU)
        })
        .collect();
    let (depth, drift, drift_phase) =
        (rng.random_range(0.005f32..0.03), rng.random_range(0.05f32..0.5), rng.random::<f32>() * TAU);
    let tone_gain = 10f32.powf(rng.random_range(-6f32..6.0) / 20.0);
    let fc = rng.random_range(300f32..2000.0);
    let mut air = lowpass(&pink(n, rng), fc, rate);
    normalize_rms(&mut air);
    let mut phase = 0f32;
    let mut tones: Vec<f32> = (0..n)
        .map(|i| {
            let t = i as f32 / fs;
            phase = (phase + TAU * f0 * (1.0 + depth * (TAU * drift * t + drift_phase).sin()) / fs) % TAU;
            harmonics.iter().enumerate().map(|(h, &(a, p))| a * ((h + 1) as f32 * phase + p).sin()).sum()
        })
        .collect();
    normalize_rms(&mut tones);
    air.iter().zip(&tones).map(|(a, t)| a + tone_gain * t).collect()
}
