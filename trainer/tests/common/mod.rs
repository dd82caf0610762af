//! A small synthetic corpus (so the tests need no system packages): voiced "speech" with
//! syllable-rate envelopes and noise tracks named like the music-on-hold files.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use trainer::data::{split_of, Split};

pub struct Corpus {
    pub root: PathBuf,
    pub speech: PathBuf,
    pub noise: PathBuf,
}

fn voiced(seed: u32, n: usize) -> Vec<f32> {
    let f0 = 110.0 + (seed % 7) as f32 * 20.0;
    let rate = 3.0 + (seed % 5) as f32 * 0.5;
    (0..n)
        .map(|i| {
            let t = i as f32 / 8000.0;
            let env = (std::f32::consts::PI * rate * t).sin().abs().powf(1.5);
            let mut s = 0.0;
            for h in 1..20 {
                let f = f0 * h as f32 * (1.0 + 0.02 * (t * 2.0).sin());
                if f > 3800.0 {
                    break;
                }
                let formant =
                    (-((f - 700.0) / 300.0).powi(2)).exp() + 0.6 * (-((f - 1800.0) / 400.0).powi(2)).exp() + 0.05;
                s += formant * (std::f32::consts::TAU * f * t + h as f32).sin() / h as f32;
            }
            0.3 * env * s
        })
        .collect()
}

fn lcg_noise(seed: u64, n: usize, color: f32) -> Vec<f32> {
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let mut y = 0f32;
    (0..n)
        .map(|_| {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let w = ((x >> 33) as f32 / (1u64 << 31) as f32) - 0.5;
            y = color * y + w;
            0.1 * y
        })
        .collect()
}

/// Writes the corpus under a fresh temporary directory.
pub fn make(tag: &str) -> Corpus {
    let root = std::env::temp_dir().join(format!("trainer-test-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let speech = root.join("speech");
    let noise = root.join("noise");
    std::fs::create_dir_all(speech.join("en")).unwrap();
    std::fs::create_dir_all(&noise).unwrap();
    let mut counts = [0usize; 3];
    let mut k = 0u32;
    while counts.iter().any(|&c| c < 4) {
        let rel = format!("en/utt-{k}.wav");
        let idx = match split_of(&rel) {
            Split::Train => 0,
            Split::Val => 1,
            Split::Test => 2,
        };
        if counts[idx] < 8 {
            trainer::audio::write_wav(&speech.join(&rel), &voiced(k, 8000 + (k as usize % 5) * 1600)).unwrap();
            counts[idx] += 1;
        }
        k += 1;
    }
    trainer::audio::write_wav(&noise.join("macroform-synth.wav"), &lcg_noise(1, 40000, 0.9)).unwrap();
    trainer::audio::write_wav(&noise.join("other-synth.wav"), &lcg_noise(2, 40000, 0.5)).unwrap();
    Corpus { root, speech, noise }
}

impl Drop for Corpus {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

pub fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// `trainer train ARGS` in this process (on the CPU), through the command line's parser.
pub fn train(args: &[&str]) -> trainer::train::TrainSummary {
    use clap::Parser;
    use trainer::cli::{Cli, Cmd};
    let mut v = vec!["trainer", "train"];
    v.extend_from_slice(args);
    match Cli::try_parse_from(v).unwrap().cmd {
        Cmd::Train(a) => trainer::commands::train(*a, candle_core::Device::Cpu).unwrap(),
        _ => unreachable!(),
    }
}

/// Export options of the tests: two one-second calibration mixtures, no size target or PTQ.
pub fn export_opts(with_int: bool) -> trainer::export::ExportOptions {
    trainer::export::ExportOptions {
        ptq_bits: None,
        target_bytes: None,
        with_int,
        calib_mixtures: 2,
        calib_seconds: 1.0,
        data: None,
        allow_below_min_bits: false,
    }
}
