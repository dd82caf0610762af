use super::*;
use rand::SeedableRng;

#[test]
fn generated_noises_are_unit_rms_and_colored() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    for k in [NoiseType::White, NoiseType::Pink, NoiseType::Brown, NoiseType::Hum, NoiseType::Recorded] {
        let x = generate(k, &Sources::generated(8000), 8000, &mut rng);
        assert!((rms(&x) - 1.0).abs() < 1e-3, "{k:?}");
        assert!(x.iter().all(|v| v.is_finite()));
    }
    // lag-1 correlation grows with redness
    let corr = |x: &[f32]| x.windows(2).map(|w| w[0] * w[1]).sum::<f32>() / x.len() as f32;
    let w = generate(NoiseType::White, &Sources::generated(8000), 8000, &mut rng);
    let p = generate(NoiseType::Pink, &Sources::generated(8000), 8000, &mut rng);
    let b = generate(NoiseType::Brown, &Sources::generated(8000), 8000, &mut rng);
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
        let want = [(8, NoiseType::Recorded), (11, NoiseType::White), (14, NoiseType::Pink), (17, NoiseType::Brown)]
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
    let track: Vec<f32> = (0..8000).map(|i| (std::f32::consts::TAU * 500.0 * i as f32 / 8000.0 + 0.1).sin()).collect();
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    let mut rates = Vec::new();
    for _ in 0..20 {
        let x = music::resampled_segment(&track, 8000, &mut rng);
        let zc = x.windows(2).filter(|w| (w[0] < 0.0) != (w[1] < 0.0)).count();
        assert!((690..=1410).contains(&zc), "{zc} zero crossings");
        rates.push(zc);
    }
    assert!(rates.iter().max().unwrap() - rates.iter().min().unwrap() > 100, "speeds vary: {rates:?}");
    let tracks = vec![track.clone(), track.iter().map(|v| v * 0.5).collect()];
    let varied = Sources { tracks: &tracks, vary_music: true, ..Sources::generated(8000) };
    let plain_src = Sources { vary_music: false, ..varied };
    let a = generate(NoiseType::Recorded, &varied, 4000, &mut rand::rngs::StdRng::seed_from_u64(9));
    let b = generate(NoiseType::Recorded, &varied, 4000, &mut rand::rngs::StdRng::seed_from_u64(9));
    let plain = generate(NoiseType::Recorded, &plain_src, 4000, &mut rand::rngs::StdRng::seed_from_u64(9));
    assert_eq!(a, b, "deterministic for a seed");
    assert_ne!(a, plain);
    assert!((rms(&a) - 1.0).abs() < 1e-3 && a.iter().all(|v| v.is_finite()));
}

/// The share of `x`'s power (Hann-windowed 256-point frames at `rate`) between `lo` and `hi` Hz.
fn band_share(x: &[f32], rate: u32, lo: f32, hi: f32) -> f64 {
    let m = 256usize;
    let bin_hz = rate as f32 / m as f32;
    let (mut inside, mut total) = (0f64, 0f64);
    for frame in x.chunks_exact(m).step_by(2) {
        for k in 1..m / 2 {
            let (mut re, mut im) = (0f64, 0f64);
            for (i, &v) in frame.iter().enumerate() {
                let w = 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / m as f64).cos();
                let a = std::f64::consts::TAU * (k * i) as f64 / m as f64;
                re += w * f64::from(v) * a.cos();
                im -= w * f64::from(v) * a.sin();
            }
            let p = re * re + im * im;
            total += p;
            if (lo..hi).contains(&(k as f32 * bin_hz)) {
                inside += p;
            }
        }
    }
    inside / total.max(1e-30)
}

/// Peak over RMS.
fn crest(x: &[f32]) -> f32 {
    x.iter().fold(0f32, |m, v| m.max(v.abs())) / rms(x).max(1e-12)
}

/// How much the level moves: the spread of 50 ms frame RMS over their mean.
fn level_spread(x: &[f32], rate: u32) -> f32 {
    let frames: Vec<f32> = x.chunks_exact(rate as usize / 20).map(rms).collect();
    let mean = frames.iter().sum::<f32>() / frames.len() as f32;
    (frames.iter().map(|f| (f - mean).powi(2)).sum::<f32>() / frames.len() as f32).sqrt() / mean
}

fn gen(kind: NoiseType, rate: u32, seconds: f32, seed: u64) -> Vec<f32> {
    let n = (seconds * rate as f32) as usize;
    generate(kind, &Sources::generated(rate), n, &mut rand::rngs::StdRng::seed_from_u64(seed))
}

const GENERATED: [NoiseType; 9] = [
    NoiseType::White,
    NoiseType::Pink,
    NoiseType::Brown,
    NoiseType::Hum,
    NoiseType::Fan,
    NoiseType::Keyboard,
    NoiseType::Dishes,
    NoiseType::Door,
    NoiseType::Traffic,
];

#[test]
fn every_generated_kind_is_unit_rms_finite_and_deterministic_at_both_rates() {
    for rate in [8000, 16_000] {
        for k in GENERATED {
            let x = gen(k, rate, 2.0, 11);
            assert_eq!(x.len(), 2 * rate as usize);
            assert!((rms(&x) - 1.0).abs() < 1e-3 && x.iter().all(|v| v.is_finite()), "{k:?} at {rate}");
            assert_eq!(x, gen(k, rate, 2.0, 11), "{k:?}: a seed gives one noise");
            assert_ne!(x, gen(k, rate, 2.0, 12), "{k:?}: another seed another");
        }
    }
}

#[test]
fn white_is_flat_and_hum_and_fan_sit_low_at_16_khz() {
    let w = gen(NoiseType::White, 16_000, 2.0, 1);
    let upper = band_share(&w, 16_000, 4000.0, 8000.0);
    assert!((0.45..0.55).contains(&upper), "white above 4 kHz: {upper:.3}");
    let h = gen(NoiseType::Hum, 16_000, 2.0, 1);
    assert!(band_share(&h, 16_000, 0.0, 2100.0) > 0.95);
    for seed in 0..4 {
        let f = gen(NoiseType::Fan, 16_000, 2.0, seed);
        let low = band_share(&f, 16_000, 0.0, 2000.0);
        assert!(low > 0.7, "fan below 2 kHz: {low:.3}");
        assert!(level_spread(&f, 16_000) < 0.35, "a fan is steady: {}", level_spread(&f, 16_000));
    }
}

#[test]
fn clicks_dishes_and_slams_are_impulsive_in_their_bands() {
    for seed in 0..4 {
        for rate in [8000, 16_000] {
            let k = gen(NoiseType::Keyboard, rate, 3.0, seed);
            let d = gen(NoiseType::Dishes, rate, 3.0, seed);
            let s = gen(NoiseType::Door, rate, 3.0, seed);
            let w = gen(NoiseType::White, rate, 3.0, seed);
            assert!(crest(&k) > 2.0 * crest(&w) && crest(&d) > 1.5 * crest(&w) && crest(&s) > 2.0 * crest(&w));
            let (hi_k, hi_d, lo_s) = (
                band_share(&k, rate, 1000.0, 8000.0),
                band_share(&d, rate, 1400.0, 8000.0),
                band_share(&s, rate, 0.0, 700.0),
            );
            assert!(hi_k > 0.6, "keyboard: mostly above 1 kHz ({hi_k:.3})");
            assert!(hi_d > 0.8, "dishes: mostly above 1.4 kHz ({hi_d:.3})");
            assert!(lo_s > 0.7, "door: mostly below 700 Hz ({lo_s:.3})");
            for x in [&k, &d, &s] {
                assert!(level_spread(x, rate) > 3.0 * level_spread(&w, rate));
            }
        }
    }
}

#[test]
fn traffic_rumbles_low_and_swells() {
    for seed in 0..4 {
        let t = gen(NoiseType::Traffic, 16_000, 4.0, seed);
        let p = gen(NoiseType::Pink, 16_000, 4.0, seed);
        assert!(band_share(&t, 16_000, 0.0, 1000.0) > 0.9, "{}", band_share(&t, 16_000, 0.0, 1000.0));
        assert!(level_spread(&t, 16_000) > 0.3 && level_spread(&t, 16_000) > 2.0 * level_spread(&p, 16_000));
    }
}

/// Three utterances, each a tone of its own frequency with syllable-like gaps.
fn voices(rate: u32) -> Vec<Vec<f32>> {
    [300.0f32, 700.0, 1900.0]
        .iter()
        .map(|f| {
            (0..rate as usize)
                .map(|i| {
                    let t = i as f32 / rate as f32;
                    let on = if (t * 4.0).fract() < 0.7 { 1.0 } else { 0.0 };
                    on * (std::f32::consts::TAU * f * t).sin()
                })
                .collect()
        })
        .collect()
}

#[test]
fn babble_overlaps_three_to_eight_talkers_and_never_uses_excluded_utterances() {
    let rate = 16_000;
    let speech = voices(rate);
    for seed in 0..20 {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let (x, talkers) = babble::babble_from(&speech, &[2], 2 * rate as usize, rate, &mut rng);
        assert!(!talkers.is_empty() && talkers.iter().flatten().all(|&i| i < 2), "{talkers:?}");
        // the excluded 1.9 kHz utterance is absent (read at 0.85–1.2×: 1.6–2.3 kHz), the others present
        assert!(band_share(&x, rate, 1500.0, 2500.0) < 0.01, "{}", band_share(&x, rate, 1500.0, 2500.0));
        assert!(band_share(&x, rate, 200.0, 900.0) > 0.95);
    }
    // talkers overlap: babble is steadier than one talker
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    let one = babble::babble_from(&speech[..1], &[], 2 * rate as usize, rate, &mut rng).0;
    assert!(
        level_spread(&babble::babble(&speech, &[], 2 * rate as usize, rate, &mut rng), rate) < level_spread(&one, rate)
    );
    // nothing left to talk: silent, and `generate` falls back to white noise
    let mut rng = rand::rngs::StdRng::seed_from_u64(4);
    assert!(babble::babble(&speech, &[0, 1, 2], 100, rate, &mut rng).iter().all(|&v| v == 0.0));
    let src = Sources { speech: &speech, exclude: &[0, 1, 2], ..Sources::generated(rate) };
    assert!((rms(&generate(NoiseType::Babble, &src, 1000, &mut rng)) - 1.0).abs() < 1e-3);
}

#[test]
fn babble_draws_three_to_eight_talkers() {
    let speech = voices(8000);
    let counts: std::collections::BTreeSet<usize> = (0..200)
        .map(|seed| {
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            let (x, talkers) = babble::babble_from(&speech, &[], 8000, 8000, &mut rng);
            assert_eq!(x.len(), 8000);
            assert!(talkers.iter().all(|t| !t.is_empty()));
            talkers.len()
        })
        .collect();
    assert_eq!(counts.into_iter().collect::<Vec<_>>(), (3..=8).collect::<Vec<_>>());
}
