//! Noise sources: music-on-hold segments and generated white, pink, brown noise and mains hum.

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

/// Kinds of noise mixed into the speech.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum NoiseType {
    /// Segments of the noise directory's tracks (music on hold by default).
    Recorded,
    /// Gaussian white noise.
    White,
    /// 1/f noise.
    Pink,
    /// 1/f² noise.
    Brown,
    /// Mains hum (50/60 Hz and harmonics).
    Hum,
}

fn normal<R: Rng>(rng: &mut R) -> f32 {
    StandardNormal.sample(rng)
}

/// Scales `x` to unit RMS; returns false when it is (nearly) silent.
pub fn normalize_rms(x: &mut [f32]) -> bool {
    let r = rms(x);
    if r < 1e-6 {
        return false;
    }
    x.iter_mut().for_each(|v| *v /= r);
    true
}

/// Root mean square (0 for an empty slice).
pub fn rms(x: &[f32]) -> f32 {
    if x.is_empty() {
        return 0.0;
    }
    let e: f64 = x.iter().map(|v| f64::from(*v) * f64::from(*v)).sum();
    (e / x.len() as f64).sqrt() as f32
}

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

/// Mains hum: 50 or 60 Hz (±1%) with harmonics up to ~2 kHz, decaying randomly, plus a faint
/// white floor.
pub fn hum<R: Rng>(n: usize, rng: &mut R) -> Vec<f32> {
    let f0 = if rng.random::<bool>() { 50.0 } else { 60.0 } * (1.0 + (rng.random::<f32>() - 0.5) * 0.02);
    let n_harm = (2000.0 / f0) as usize;
    let harmonics: Vec<(f32, f32, f32)> = (1..=n_harm)
        .map(|h| {
            let odd = if h % 2 == 1 { 1.0 } else { 0.5 };
            let amp = odd * rng.random_range(0.1f32..1.0) / (h as f32).powf(rng.random_range(0.5f32..1.5));
            (h as f32 * f0, amp, rng.random::<f32>() * std::f32::consts::TAU)
        })
        .collect();
    let floor = 0.01f32;
    (0..n)
        .map(|i| {
            let t = i as f32 / crate::audio::SAMPLE_RATE as f32;
            let s: f32 = harmonics.iter().map(|&(f, a, p)| a * (std::f32::consts::TAU * f * t + p).sin()).sum();
            s + floor * normal(rng)
        })
        .collect()
}

/// A segment of `n` samples from a random place of `track` (looping if it is short).
pub fn segment<R: Rng>(track: &[f32], n: usize, rng: &mut R) -> Vec<f32> {
    if track.is_empty() {
        return vec![0.0; n];
    }
    let start = rng.random_range(0..track.len());
    (0..n).map(|i| track.get((start + i) % track.len()).copied().unwrap_or(0.0)).collect()
}

/// A segment of `n` samples read at a random speed (0.7–1.4×: pitch and tempo change
/// together, linear interpolation) from a random place of `track` (looping).
pub fn resampled_segment<R: Rng>(track: &[f32], n: usize, rng: &mut R) -> Vec<f32> {
    if track.is_empty() {
        return vec![0.0; n];
    }
    let speed = rng.random_range(0.7f64.ln()..1.4f64.ln()).exp();
    let len = track.len();
    let start = rng.random_range(0..len) as f64;
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

/// `n` samples of noise of the given type with unit RMS (falls back to white noise when a
/// recorded segment is silent or no track is available). `vary_music` draws recorded noise
/// through [`varied_music`] (training only).
pub fn generate<R: Rng>(kind: NoiseType, tracks: &[Vec<f32>], n: usize, vary_music: bool, rng: &mut R) -> Vec<f32> {
    let mut x = match kind {
        NoiseType::Recorded if !tracks.is_empty() && vary_music => varied_music(tracks, n, rng),
        NoiseType::Recorded if !tracks.is_empty() => {
            let t = rng.random_range(0..tracks.len());
            segment(tracks.get(t).map(Vec::as_slice).unwrap_or(&[]), n, rng)
        }
        NoiseType::Recorded | NoiseType::White => white(n, rng),
        NoiseType::Pink => pink(n, rng),
        NoiseType::Brown => brown(n, rng),
        NoiseType::Hum => hum(n, rng),
    };
    if !normalize_rms(&mut x) {
        x = white(n, rng);
        normalize_rms(&mut x);
    }
    x
}

/// Relative weight of each kind when all are drawn: recorded music 40%, each generated kind 15%.
fn weight(kind: NoiseType) -> u32 {
    match kind {
        NoiseType::Recorded => 8,
        _ => 3,
    }
}

/// Draws a noise type among `kinds` (in [`NoiseType`] order), each with its [`weight`]: with every
/// kind, recorded music 40% and each generated kind 15%.
pub fn pick_type<R: Rng>(rng: &mut R, kinds: &[NoiseType]) -> NoiseType {
    let total: u32 = kinds.iter().map(|&k| weight(k)).sum();
    let mut r = rng.random_range(0..total.max(1));
    for &k in kinds {
        if r < weight(k) {
            return k;
        }
        r -= weight(k);
    }
    NoiseType::White
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn generated_noises_are_unit_rms_and_colored() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        for k in [NoiseType::White, NoiseType::Pink, NoiseType::Brown, NoiseType::Hum, NoiseType::Recorded] {
            let x = generate(k, &[], 8000, false, &mut rng);
            assert!((rms(&x) - 1.0).abs() < 1e-3, "{k:?}");
            assert!(x.iter().all(|v| v.is_finite()));
        }
        // lag-1 correlation grows with redness
        let corr = |x: &[f32]| x.windows(2).map(|w| w[0] * w[1]).sum::<f32>() / x.len() as f32;
        let w = generate(NoiseType::White, &[], 8000, false, &mut rng);
        let p = generate(NoiseType::Pink, &[], 8000, false, &mut rng);
        let b = generate(NoiseType::Brown, &[], 8000, false, &mut rng);
        assert!(corr(&w).abs() < 0.1 && corr(&p) > corr(&w) && corr(&b) > 0.9);
    }

    #[test]
    fn pick_type_draws_only_the_given_kinds_at_their_weights() {
        let all = crate::data::ALL_KINDS;
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let mut n = [0usize; 5];
        for _ in 0..20_000 {
            n[pick_type(&mut rng, &all) as usize] += 1;
        }
        assert!((7600..8400).contains(&n[0]) && n[1..].iter().all(|&c| (2700..3300).contains(&c)), "{n:?}");
        // the draw with every kind is `random_range(0..20)` cut at 8, 11, 14, 17
        for seed in 0..50 {
            let a = pick_type(&mut rand::rngs::StdRng::seed_from_u64(seed), &all);
            let v = rand::rngs::StdRng::seed_from_u64(seed).random_range(0..20u32);
            let want =
                [(8, NoiseType::Recorded), (11, NoiseType::White), (14, NoiseType::Pink), (17, NoiseType::Brown)]
                    .iter()
                    .find(|(end, _)| v < *end)
                    .map_or(NoiseType::Hum, |&(_, k)| k);
            assert_eq!(a, want);
        }
        let some = [NoiseType::White, NoiseType::Hum];
        assert!((0..500).all(|_| some.contains(&pick_type(&mut rng, &some))));
    }

    #[test]
    fn varied_music_changes_pitch_within_bounds_and_keeps_unit_rms() {
        // 500 Hz sine: 1000 zero crossings per second; read at 0.7–1.4× it has 700–1400.
        let track: Vec<f32> =
            (0..8000).map(|i| (std::f32::consts::TAU * 500.0 * i as f32 / 8000.0 + 0.1).sin()).collect();
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        let mut rates = Vec::new();
        for _ in 0..20 {
            let x = resampled_segment(&track, 8000, &mut rng);
            let zc = x.windows(2).filter(|w| (w[0] < 0.0) != (w[1] < 0.0)).count();
            assert!((690..=1410).contains(&zc), "{zc} zero crossings");
            rates.push(zc);
        }
        assert!(rates.iter().max().unwrap() - rates.iter().min().unwrap() > 100, "speeds vary: {rates:?}");
        let tracks = vec![track.clone(), track.iter().map(|v| v * 0.5).collect()];
        let a = generate(NoiseType::Recorded, &tracks, 4000, true, &mut rand::rngs::StdRng::seed_from_u64(9));
        let b = generate(NoiseType::Recorded, &tracks, 4000, true, &mut rand::rngs::StdRng::seed_from_u64(9));
        let plain = generate(NoiseType::Recorded, &tracks, 4000, false, &mut rand::rngs::StdRng::seed_from_u64(9));
        assert_eq!(a, b, "deterministic for a seed");
        assert_ne!(a, plain);
        assert!((rms(&a) - 1.0).abs() < 1e-3 && a.iter().all(|v| v.is_finite()));
    }
}
