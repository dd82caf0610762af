//! Non-stationary generated noise: events over a faint room tone (keyboard clicks, clinking
//! dishes, door slams) and road traffic whose level swells with each passing vehicle.

use super::stationary::{brown, lowpass, pink};
use super::{normal, normalize_rms};
use rand::Rng;
use std::f32::consts::TAU;

/// Onsets (in samples) of events at `per_second` on average (exponential gaps) within `n`
/// samples at `rate`, starting at a random place of the first gap.
fn onsets<R: Rng>(n: usize, rate: u32, per_second: f32, rng: &mut R) -> Vec<usize> {
    let mean_gap = rate as f32 / per_second.max(1e-3);
    let mut t = rng.random::<f32>() * mean_gap;
    let mut out = Vec::new();
    while (t as usize) < n {
        out.push(t as usize);
        t += -mean_gap * (1.0 - rng.random::<f32>()).ln();
    }
    out
}

/// Adds `event` to `out` from sample `at` on (what falls past the end is dropped).
fn add_at(out: &mut [f32], at: usize, event: &[f32], gain: f32) {
    if let Some(tail) = out.get_mut(at..) {
        tail.iter_mut().zip(event).for_each(|(o, e)| *o += gain * e);
    }
}

/// A decaying sine: `f` Hz, time constant `tau` s, lasting 5 `tau`, at `rate`.
fn ring(f: f32, tau: f32, rate: u32, phase: f32) -> Vec<f32> {
    let fs = rate as f32;
    let len = (5.0 * tau * fs) as usize + 1;
    (0..len).map(|k| (-(k as f32) / (tau * fs)).exp() * (TAU * f * k as f32 / fs + phase).sin()).collect()
}

/// White noise decaying with time constant `tau` s, lasting 5 `tau`, at `rate`.
fn burst<R: Rng>(tau: f32, rate: u32, rng: &mut R) -> Vec<f32> {
    let fs = rate as f32;
    let len = (5.0 * tau * fs) as usize + 1;
    (0..len).map(|k| (-(k as f32) / (tau * fs)).exp() * normal(rng)).collect()
}

/// `events` plus a room tone (pink noise) 40–50 dB below their RMS.
fn over_room_tone<R: Rng>(mut events: Vec<f32>, rng: &mut R) -> Vec<f32> {
    let mut room = pink(events.len(), rng);
    normalize_rms(&mut room);
    let g = super::rms(&events) * 10f32.powf(-rng.random_range(40f32..50.0) / 20.0);
    events.iter_mut().zip(&room).for_each(|(e, r)| *e += g * r);
    events
}

/// Typing at `rate`: 3–9 keystrokes per second, each a press and, 40–120 ms later, a release
/// click: a noise burst decaying in 1–3 ms with a key resonance (1.5–5 kHz, below 0.45·rate,
/// 2–6 ms), high-passed at 500 Hz, levels ±6 dB apart.
pub fn keyboard<R: Rng>(n: usize, rate: u32, rng: &mut R) -> Vec<f32> {
    let fs = rate as f32;
    let per_second = rng.random_range(3f32..9.0);
    let mut out = vec![0f32; n];
    for at in onsets(n, rate, per_second, rng) {
        let release = at + (rng.random_range(0.04f32..0.12) * fs) as usize;
        for (t, level) in [(at, 1.0f32), (release, rng.random_range(0.3f32..0.8))] {
            let mut click = burst(rng.random_range(0.001f32..0.003), rate, rng);
            let f = rng.random_range(1500f32..5000.0f32.min(0.45 * fs));
            let res = ring(f, rng.random_range(0.002f32..0.006), rate, rng.random::<f32>() * TAU);
            add_at(&mut click, 0, &res, rng.random_range(0.3f32..1.0));
            let g = level * 10f32.powf(rng.random_range(-6f32..6.0) / 20.0);
            add_at(&mut out, t, &click, g);
        }
    }
    let low = lowpass(&out, 500.0, rate);
    over_room_tone(out.iter().zip(&low).map(|(x, l)| x - l).collect(), rng)
}

/// Dishes and cutlery at `rate`: 0.5–3 clinks per second, each 2–4 inharmonic partials
/// (1.5–7 kHz, below 0.45·rate) ringing for 20–250 ms after a 1 ms noise attack, levels ±8 dB
/// apart.
pub fn dishes<R: Rng>(n: usize, rate: u32, rng: &mut R) -> Vec<f32> {
    let top = 7000f32.min(0.45 * rate as f32);
    let per_second = rng.random_range(0.5f32..3.0);
    let mut out = vec![0f32; n];
    for at in onsets(n, rate, per_second, rng) {
        let g = 10f32.powf(rng.random_range(-8f32..8.0) / 20.0);
        let mut hit = burst(0.001, rate, rng);
        hit.iter_mut().for_each(|v| *v *= 0.3);
        for _ in 0..rng.random_range(2..=4) {
            let partial =
                ring(rng.random_range(1500f32..top), rng.random_range(0.02f32..0.25), rate, rng.random::<f32>() * TAU);
            if hit.len() < partial.len() {
                hit.resize(partial.len(), 0.0);
            }
            add_at(&mut hit, 0, &partial, rng.random_range(0.3f32..1.0));
        }
        add_at(&mut out, at, &hit, g);
    }
    let low = lowpass(&out, 800.0, rate);
    over_room_tone(out.iter().zip(&low).map(|(x, l)| x - l).collect(), rng)
}

/// Door slams at `rate`: the first within the first 1.5 s, then 0.2–0.6 per second; each a low
/// thump (40–120 Hz ringing 60–200 ms), a noise burst low-passed twice at 100–400 Hz (30–150 ms)
/// and,
/// 80–250 ms later, a weaker rattle (noise high-passed at 1 kHz, 10–30 ms).
pub fn door<R: Rng>(n: usize, rate: u32, rng: &mut R) -> Vec<f32> {
    let fs = rate as f32;
    let first = (rng.random::<f32>() * 1.5 * fs) as usize % n.max(1);
    let per_second = rng.random_range(0.2f32..0.6);
    let later = onsets(n.saturating_sub(first), rate, per_second, rng);
    let mut out = vec![0f32; n];
    for at in std::iter::once(first).chain(later.into_iter().map(|t| first + t)) {
        let g = 10f32.powf(rng.random_range(-6f32..0.0) / 20.0);
        let thump = ring(rng.random_range(40f32..120.0), rng.random_range(0.06f32..0.2), rate, 0.0);
        let body = burst(rng.random_range(0.03f32..0.15), rate, rng);
        let fc = rng.random_range(100f32..400.0);
        let mut body = lowpass(&lowpass(&body, fc, rate), fc, rate);
        normalize_rms(&mut body);
        let mut slam = thump;
        if slam.len() < body.len() {
            slam.resize(body.len(), 0.0);
        }
        add_at(&mut slam, 0, &body, rng.random_range(0.5f32..1.5));
        add_at(&mut out, at, &slam, g);
        let rattle = burst(rng.random_range(0.01f32..0.03), rate, rng);
        let low = lowpass(&rattle, 1000.0, rate);
        let rattle: Vec<f32> = rattle.iter().zip(&low).map(|(x, l)| x - l).collect();
        let delay = (rng.random_range(0.08f32..0.25) * fs) as usize;
        add_at(&mut out, at + delay, &rattle, g * rng.random_range(0.05f32..0.2));
    }
    over_room_tone(out, rng)
}

/// Road traffic at `rate`: a rumble (brown and pink noise low-passed at 150–600 Hz) whose level
/// swells 6–20 dB as vehicles pass (one in the middle, then 0.2–1 per second; Gaussian swells of
/// 0.3–1.5 s), with engine firing modulation (20–60 Hz, depth 0.2–0.7) on the swells.
pub fn traffic<R: Rng>(n: usize, rate: u32, rng: &mut R) -> Vec<f32> {
    let fs = rate as f32;
    let mut rumble: Vec<f32> = {
        let (b, p) = (brown(n, rng), pink(n, rng));
        let mix: Vec<f32> = b.iter().zip(&p).map(|(b, p)| 0.05 * b + p).collect();
        lowpass(&mix, rng.random_range(150f32..600.0), rate)
    };
    normalize_rms(&mut rumble);
    let mut passes = vec![(n as f32 / 2.0, rng.random_range(6f32..20.0), rng.random_range(0.3f32..1.5))];
    for at in onsets(n, rate, rng.random_range(0.2f32..1.0), rng) {
        passes.push((at as f32, rng.random_range(6f32..20.0), rng.random_range(0.3f32..1.5)));
    }
    let (engine, depth, phase) =
        (rng.random_range(20f32..60.0), rng.random_range(0.2f32..0.7), rng.random::<f32>() * TAU);
    (0..n)
        .map(|i| {
            let swell: f32 = passes
                .iter()
                .map(|&(c, db, w)| (10f32.powf(db / 20.0) - 1.0) * (-((i as f32 - c) / (w * fs)).powi(2)).exp())
                .sum();
            let firing = 1.0 + depth * (TAU * engine * i as f32 / fs + phase).sin();
            rumble.get(i).copied().unwrap_or(0.0) * (1.0 + swell * firing)
        })
        .collect()
}
