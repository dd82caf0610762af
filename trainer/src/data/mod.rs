//! Corpus: clean speech and noise files, split by file ([`corpus`], pinned by [`manifest`] for
//! the default directories, at 8 kHz from WAV or 16 kHz from [`g722`]), and noisy mixtures at
//! the corpus's rate.

pub mod corpus;
pub mod g722;
pub mod manifest;
mod summary;

pub use corpus::{Corpus, DataSel, SourceSummary, SplitMode, ALL_KINDS, WIDEBAND_KINDS};

use crate::noise::{self, NoiseType};
use anyhow::{bail, Context, Result};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::path::{Path, PathBuf};

/// Default clean speech directory (Debian `asterisk-core-sounds-{en,es,it}-{wav,g722}`).
pub const DEFAULT_SPEECH: &str = "/usr/share/asterisk/sounds";
/// Default noise directory (Debian `asterisk-moh-opsound-{wav,g722}`).
pub const DEFAULT_NOISE: &str = "/usr/share/asterisk/moh";
/// SNRs of the test set, in dB.
pub const TEST_SNRS: [f32; 4] = [-5.0, 0.0, 5.0, 10.0];

/// The split by file (80% train, 10% validation, 10% test, by a hash of the path relative to the
/// corpus root) and its hash, shared with the demo clip's generator.
pub use audio_tools::split::{fnv1a, split_of, Split};

/// All files under `dir` (given with `flag`) whose extension is one of `exts`, recursively,
/// sorted, as (relative path, path).
pub fn list_files(dir: &Path, flag: &str, exts: &[&str]) -> Result<Vec<(String, PathBuf)>> {
    if dir.is_file() {
        bail!("{flag} {} is a file, not a directory (give the directory that holds the audio files)", dir.display());
    }
    if !dir.is_dir() {
        bail!("{flag}: directory {} does not exist (give another with {flag})", dir.display());
    }
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).with_context(|| format!("cannot list {}", d.display()))? {
            let p = e?.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| exts.iter().any(|e| x.eq_ignore_ascii_case(e))) {
                let rel = p.strip_prefix(dir).unwrap_or(&p).to_string_lossy().replace('\\', "/");
                out.push((rel, p));
            }
        }
    }
    out.sort();
    if out.is_empty() {
        bail!("no .{} files under {}", exts.join(" or ."), dir.display());
    }
    Ok(out)
}

/// One clean/noisy pair.
#[derive(Clone, Debug)]
pub struct Mixture {
    pub clean: Vec<f32>,
    pub noisy: Vec<f32>,
    pub snr_db: f32,
    /// What kind of noise was mixed in (the evaluation reports each kind apart).
    pub noise: NoiseType,
}

/// Concatenated utterances (random gaps of up to 0.3 s) filling `n` samples at `rate`, and the
/// indices of the utterances used.
fn speech_segment(corpus: &Corpus, n: usize, rng: &mut StdRng) -> (Vec<f32>, Vec<usize>) {
    let mut out = Vec::with_capacity(n);
    let mut used = Vec::new();
    let mut first = true;
    let max_gap = 2400 * corpus.rate as usize / 8000;
    while out.len() < n {
        let i = rng.random_range(0..corpus.speech.len().max(1));
        used.push(i);
        let utt = corpus.speech.get(i).map(Vec::as_slice).unwrap_or(&[]);
        let start = if first && utt.len() > 1 { rng.random_range(0..utt.len() / 2) } else { 0 };
        first = false;
        out.extend_from_slice(utt.get(start..).unwrap_or(&[]));
        let gap = rng.random_range(0..max_gap);
        out.extend(std::iter::repeat_n(0.0, gap));
        if utt.is_empty() {
            out.extend(std::iter::repeat_n(0.0, n));
        }
    }
    out.truncate(n);
    (out, used)
}

/// A mixture of `n` samples at `snr_db` and the corpus's rate, with one of its noise kinds
/// (babble never from the target's own utterances), scaled to a random level between −35 and
/// −15 dBFS RMS (and never above 0.99 peak).
pub fn mixture(corpus: &Corpus, n: usize, snr_db: f32, rng: &mut StdRng) -> Mixture {
    let (mut clean, mut used) = speech_segment(corpus, n, rng);
    for _ in 0..8 {
        if noise::rms(&clean) > 1e-4 {
            break;
        }
        (clean, used) = speech_segment(corpus, n, rng);
    }
    let kind = noise::pick_type(rng, &corpus.kinds);
    let sources = noise::Sources {
        rate: corpus.rate,
        tracks: &corpus.noise,
        vary_music: corpus.vary_music,
        speech: &corpus.speech,
        exclude: &used,
    };
    let nz = noise::generate(kind, &sources, n, rng);
    let ps = noise::rms(&clean).max(1e-6);
    let g_noise = ps / 10f32.powf(snr_db / 20.0);
    let mut noisy: Vec<f32> = clean.iter().zip(&nz).map(|(s, v)| s + g_noise * v).collect();
    let level_db = rng.random_range(-35.0f32..-15.0);
    let mut g = 10f32.powf(level_db / 20.0) / noise::rms(&noisy).max(1e-9);
    let peak = noisy.iter().fold(0f32, |m, v| m.max(v.abs())) * g;
    if peak > 0.99 {
        g *= 0.99 / peak;
    }
    noisy.iter_mut().for_each(|v| *v *= g);
    clean.iter_mut().for_each(|v| *v *= g);
    Mixture { clean, noisy, snr_db, noise: kind }
}

/// A mixture at a random SNR in `[snr_lo, snr_hi]` dB.
pub fn random_mixture(corpus: &Corpus, n: usize, snr_lo: f32, snr_hi: f32, rng: &mut StdRng) -> Mixture {
    let snr = rng.random_range(snr_lo..=snr_hi);
    mixture(corpus, n, snr, rng)
}

/// The fixed test set: `per_snr` mixtures of `seconds` at each of [`TEST_SNRS`], from the test
/// split, at the corpus's rate, with a fixed seed.
pub fn test_set(corpus: &Corpus, per_snr: usize, seconds: f32, seed: u64) -> Vec<Mixture> {
    let n = (seconds * corpus.rate as f32) as usize;
    let mut rng = StdRng::seed_from_u64(seed ^ 0x07e5_75e7);
    let mut out = Vec::with_capacity(per_snr * TEST_SNRS.len());
    for &snr in &TEST_SNRS {
        for _ in 0..per_snr {
            out.push(mixture(corpus, n, snr, &mut rng));
        }
    }
    out
}

/// A short fingerprint of a test set: FNV-1a 64 of the speech and noise files it draws from
/// (relative paths and content hashes, in order), the noise kinds, the mixture count, length,
/// seed and rate. Two evaluations with the same fingerprint ran on the same mixtures.
pub fn test_set_fingerprint(corpus: &Corpus, per_snr: usize, seconds: f32, seed: u64) -> String {
    let mut text = String::new();
    for (what, files) in [("speech", &corpus.speech_files), ("noise", &corpus.noise_files)] {
        text.push_str(what);
        text.push('\n');
        for (rel, hash) in files {
            text.push_str(&format!("{rel}\t{hash:016x}\n"));
        }
    }
    text.push_str(&format!(
        "kinds {:?}\nper_snr {per_snr} seconds {seconds} seed {seed} snrs {TEST_SNRS:?}\n",
        corpus.kinds
    ));
    // the rate is named when it is not 8 kHz, so that 8 kHz fingerprints stay as they are
    if corpus.rate != 8000 {
        text.push_str(&format!("rate {}\n", corpus.rate));
    }
    format!("{:016x}", fnv1a(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixture_has_requested_snr() {
        let speech: Vec<Vec<f32>> =
            (0..3).map(|k| (0..4000).map(|i| ((i * (k + 3)) as f32 * 0.05).sin() * 0.3).collect()).collect();
        let corpus = Corpus::in_memory(speech, vec![]);
        let mut rng = StdRng::seed_from_u64(9);
        for snr in [-5.0f32, 10.0] {
            let m = mixture(&corpus, 8000, snr, &mut rng);
            let nz: Vec<f32> = m.noisy.iter().zip(&m.clean).map(|(a, b)| a - b).collect();
            let got = 20.0 * (noise::rms(&m.clean) / noise::rms(&nz)).log10();
            assert!((got - snr).abs() < 0.05, "{got} vs {snr}");
            assert!(m.noisy.iter().all(|v| v.abs() <= 0.99 + 1e-6));
        }
    }

    /// The share of `x`'s power at `f` ± 20%, by correlation with a sine and cosine.
    fn tone_share(x: &[f32], rate: u32, f: f32) -> f32 {
        let power = |g: f32| {
            let (mut c, mut s) = (0f32, 0f32);
            for (i, &v) in x.iter().enumerate() {
                let a = std::f32::consts::TAU * g * i as f32 / rate as f32;
                (c, s) = (c + v * a.cos(), s + v * a.sin());
            }
            2.0 * (c * c + s * s) / (x.len() as f32).powi(2)
        };
        let band: f32 = (0..41).map(|k| power(f * (0.8 + 0.01 * k as f32))).fold(0.0, f32::max);
        band / noise::rms(x).powi(2).max(1e-12)
    }

    #[test]
    fn babble_in_a_mixture_never_speaks_the_targets_utterance() {
        // four utterances, each a steady tone of its own, each longer than a mixture: the target
        // is one of them, babble (read at 0.85–1.2×) comes from the other three
        let rate = 16_000;
        let tones = [300.0f32, 900.0, 2000.0, 4500.0];
        let speech: Vec<Vec<f32>> = tones
            .iter()
            .map(|f| {
                (0..2 * rate as usize)
                    .map(|i| 0.3 * (std::f32::consts::TAU * f * i as f32 / rate as f32).sin())
                    .collect()
            })
            .collect();
        let mut corpus = Corpus::in_memory(speech, vec![]);
        (corpus.rate, corpus.kinds) = (rate, vec![NoiseType::Babble]);
        let mut rng = StdRng::seed_from_u64(5);
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..12 {
            let m = mixture(&corpus, 4000, 0.0, &mut rng);
            let target = (0..4)
                .max_by(|&a, &b| tone_share(&m.clean, rate, tones[a]).total_cmp(&tone_share(&m.clean, rate, tones[b])));
            let target = target.unwrap();
            seen.insert(target);
            let nz: Vec<f32> = m.noisy.iter().zip(&m.clean).map(|(a, b)| a - b).collect();
            assert_eq!(m.noise, NoiseType::Babble);
            assert!(tone_share(&nz, rate, tones[target]) < 0.02, "target {target} in the babble");
        }
        assert!(seen.len() >= 3, "{seen:?}");
    }

    #[test]
    fn missing_directory_is_a_clear_error() {
        let sel = DataSel::dirs(Path::new("/nonexistent/speech"), Path::new("/nonexistent/noise"));
        let e = Corpus::load(&sel, Split::Train, None).err().unwrap();
        assert!(e.to_string().contains("/nonexistent/speech"), "{e}");
    }
}
