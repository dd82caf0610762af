//! Corpus: clean speech and noise files, split by file, and noisy mixtures.

use crate::audio::read_wav;
use crate::noise::{self, NoiseType};
use anyhow::{bail, Context, Result};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::path::{Path, PathBuf};

/// Default clean speech directory (Debian `asterisk-core-sounds-{en,es,it}-wav`).
pub const DEFAULT_SPEECH: &str = "/usr/share/asterisk/sounds";
/// Default noise directory (Debian `asterisk-moh-opsound-wav`).
pub const DEFAULT_NOISE: &str = "/usr/share/asterisk/moh";
/// SNRs of the test set, in dB.
pub const TEST_SNRS: [f32; 4] = [-5.0, 0.0, 5.0, 10.0];

/// The split by file (80% train, 10% validation, 10% test, by a hash of the path relative to the
/// corpus root) and its hash, shared with the demo clip's generator.
pub use audio_tools::split::{fnv1a, split_of, Split};

/// All `*.wav` files under `dir` (given with `flag`), recursively, sorted, as (relative path, path).
pub fn list_wavs(dir: &Path, flag: &str) -> Result<Vec<(String, PathBuf)>> {
    if dir.is_file() {
        bail!("{flag} {} is a file, not a directory (give the directory that holds the .wav files)", dir.display());
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
            } else if p.extension().is_some_and(|x| x.eq_ignore_ascii_case("wav")) {
                let rel = p.strip_prefix(dir).unwrap_or(&p).to_string_lossy().replace('\\', "/");
                out.push((rel, p));
            }
        }
    }
    out.sort();
    if out.is_empty() {
        bail!("no .wav files under {}", dir.display());
    }
    Ok(out)
}

/// Speech and noise of one split, in memory.
pub struct Corpus {
    pub speech: Vec<Vec<f32>>,
    pub noise: Vec<Vec<f32>>,
    /// Vary the recorded music (speed, tilt, a second track) when mixing: training only.
    pub vary_music: bool,
}

fn load_all(files: &[&PathBuf]) -> Result<Vec<Vec<f32>>> {
    files.iter().map(|p| read_wav(p)).collect()
}

impl Corpus {
    /// Loads the speech files of `split` (at most `max_files`, taken evenly across the sorted list)
    /// and the noise tracks: `macroform-*` for train/val, the others for test. When a noise
    /// directory has no file of a side, its files are split by hash instead.
    pub fn load(speech_dir: &Path, noise_dir: &Path, split: Split, max_files: Option<usize>) -> Result<Corpus> {
        let all = list_wavs(speech_dir, "--speech")?;
        let mut files: Vec<&PathBuf> = all.iter().filter(|(r, _)| split_of(r) == split).map(|(_, p)| p).collect();
        if let Some(m) = max_files {
            if m > 0 && files.len() > m {
                let stride = files.len() as f64 / m as f64;
                files = (0..m).filter_map(|i| files.get((i as f64 * stride) as usize).copied()).collect();
            }
        }
        if files.is_empty() {
            bail!("no speech file of the {split:?} split under {}", speech_dir.display());
        }
        let mut speech = load_all(&files)?;
        speech.retain(|s| noise::rms(s) > 1e-4);
        if speech.is_empty() {
            bail!("every speech file of the {split:?} split under {} is silent", speech_dir.display());
        }
        let noise_files = list_wavs(noise_dir, "--noise")?;
        let is_train_track = |r: &str| r.rsplit('/').next().unwrap_or(r).starts_with("macroform-");
        let has_both =
            noise_files.iter().any(|(r, _)| is_train_track(r)) && noise_files.iter().any(|(r, _)| !is_train_track(r));
        let chosen: Vec<&PathBuf> = noise_files
            .iter()
            .filter(|(r, _)| {
                let train_side = if has_both { is_train_track(r) } else { split_of(r) != Split::Test };
                train_side == (split != Split::Test)
            })
            .map(|(_, p)| p)
            .collect();
        let noise = load_all(&chosen)?;
        Ok(Corpus { speech, noise, vary_music: false })
    }
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

/// Concatenated utterances (random gaps) filling `n` samples.
fn speech_segment(corpus: &Corpus, n: usize, rng: &mut StdRng) -> Vec<f32> {
    let mut out = Vec::with_capacity(n);
    let mut first = true;
    while out.len() < n {
        let i = rng.random_range(0..corpus.speech.len().max(1));
        let utt = corpus.speech.get(i).map(Vec::as_slice).unwrap_or(&[]);
        let start = if first && utt.len() > 1 { rng.random_range(0..utt.len() / 2) } else { 0 };
        first = false;
        out.extend_from_slice(utt.get(start..).unwrap_or(&[]));
        let gap = rng.random_range(0..2400);
        out.extend(std::iter::repeat_n(0.0, gap));
        if utt.is_empty() {
            out.extend(std::iter::repeat_n(0.0, n));
        }
    }
    out.truncate(n);
    out
}

/// A mixture of `n` samples at `snr_db`, scaled to a random level between −35 and −15 dBFS RMS
/// (and never above 0.99 peak).
pub fn mixture(corpus: &Corpus, n: usize, snr_db: f32, rng: &mut StdRng) -> Mixture {
    let mut clean = speech_segment(corpus, n, rng);
    for _ in 0..8 {
        if noise::rms(&clean) > 1e-4 {
            break;
        }
        clean = speech_segment(corpus, n, rng);
    }
    let kind = noise::pick_type(rng);
    let kind = if kind == NoiseType::Recorded && corpus.noise.is_empty() { NoiseType::Pink } else { kind };
    let nz = noise::generate(kind, &corpus.noise, n, corpus.vary_music, rng);
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
/// split, with a fixed seed.
pub fn test_set(corpus: &Corpus, per_snr: usize, seconds: f32, seed: u64) -> Vec<Mixture> {
    let n = (seconds * crate::audio::SAMPLE_RATE as f32) as usize;
    let mut rng = StdRng::seed_from_u64(seed ^ 0x07e5_75e7);
    let mut out = Vec::with_capacity(per_snr * TEST_SNRS.len());
    for &snr in &TEST_SNRS {
        for _ in 0..per_snr {
            out.push(mixture(corpus, n, snr, &mut rng));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixture_has_requested_snr() {
        let speech: Vec<Vec<f32>> =
            (0..3).map(|k| (0..4000).map(|i| ((i * (k + 3)) as f32 * 0.05).sin() * 0.3).collect()).collect();
        let corpus = Corpus { speech, noise: vec![], vary_music: false };
        let mut rng = StdRng::seed_from_u64(9);
        for snr in [-5.0f32, 10.0] {
            let m = mixture(&corpus, 8000, snr, &mut rng);
            let nz: Vec<f32> = m.noisy.iter().zip(&m.clean).map(|(a, b)| a - b).collect();
            let got = 20.0 * (noise::rms(&m.clean) / noise::rms(&nz)).log10();
            assert!((got - snr).abs() < 0.05, "{got} vs {snr}");
            assert!(m.noisy.iter().all(|v| v.abs() <= 0.99 + 1e-6));
        }
    }

    #[test]
    fn missing_directory_is_a_clear_error() {
        let e = Corpus::load(Path::new("/nonexistent/speech"), Path::new("/nonexistent/noise"), Split::Train, None)
            .err()
            .unwrap();
        assert!(e.to_string().contains("/nonexistent/speech"), "{e}");
    }
}
