//! Recorded noise (music on hold by default): plain segments of a track, or, for training with
//! few tracks, segments varied in speed, tilt and with a second track.

use super::normalize_rms;
use rand::Rng;

/// A segment of `n` samples from a random place of `track` (looping if it is short).
pub fn segment<R: Rng>(track: &[f32], n: usize, rng: &mut R) -> Vec<f32> {
    if track.is_empty() {
        return vec![0.0; n];
    }
    let start = rng.random_range(0..track.len());
    (0..n).map(|i| track.get((start + i) % track.len()).copied().unwrap_or(0.0)).collect()
}

/// `n` samples of `track` read from position `start` at `speed` (linear interpolation, looping).
pub fn read_at(track: &[f32], start: f64, speed: f64, n: usize) -> Vec<f32> {
    let len = track.len();
    if len == 0 {
        return vec![0.0; n];
    }
    (0..n)
        .map(|i| {
            let pos = start + i as f64 * speed;
            let (k, frac) = (pos.floor() as usize, (pos - pos.floor()) as f32);
            let a = track.get(k % len).copied().unwrap_or(0.0);
            let b = track.get((k + 1) % len).copied().unwrap_or(0.0);
            a + frac * (b - a)
        })
        .collect()
}

/// A segment of `n` samples read at a random speed (0.7–1.4×: pitch and tempo change
/// together, linear interpolation) from a random place of `track` (looping).
pub fn resampled_segment<R: Rng>(track: &[f32], n: usize, rng: &mut R) -> Vec<f32> {
    if track.is_empty() {
        return vec![0.0; n];
    }
    let speed = rng.random_range(0.7f64.ln()..1.4f64.ln()).exp();
    let start = rng.random_range(0..track.len()) as f64;
    read_at(track, start, speed, n)
}

/// Music for training with only a few tracks: a resampled segment, a random spectral tilt
/// (`y[i] = x[i] + a·x[i−1]`, `a` in [−0.8, 0.8]) and, half of the time, a second track's
/// resampled segment 0–10 dB below, so that the model meets more than three tracks' timbres.
pub fn varied_music<R: Rng>(tracks: &[Vec<f32>], n: usize, rng: &mut R) -> Vec<f32> {
    let pick = |rng: &mut R| {
        let t = rng.random_range(0..tracks.len().max(1));
        let mut x = resampled_segment(tracks.get(t).map(Vec::as_slice).unwrap_or(&[]), n, rng);
        normalize_rms(&mut x);
        x
    };
    let mut x = pick(rng);
    if rng.random::<bool>() {
        let g = 10f32.powf(-rng.random_range(0.0f32..10.0) / 20.0);
        let y = pick(rng);
        x.iter_mut().zip(&y).for_each(|(a, b)| *a += g * b);
    }
    let a = rng.random_range(-0.8f32..0.8);
    let mut prev = 0.0f32;
    for v in x.iter_mut() {
        let cur = *v;
        *v = cur + a * prev;
        prev = cur;
    }
    x
}
