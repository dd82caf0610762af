//! The committed demo clips: a test-split English prompt from the Asterisk core sounds mixed with
//! a music-on-hold track that the trainer never trains on (not `macroform-*`), at 5 dB SNR; at
//! 8 kHz from the WAV packages (`data/clip/`) and at 16 kHz from the same prompt and track in
//! the G.722 packages (`data/clip-16k/`). Deterministic: same package files in, same bytes out.

use anyhow::{bail, Context, Result};
use audio_tools::{read_i16, split_of, write_i16, Split};
use runtime::dsp::SAMPLE_RATE;
use std::path::{Path, PathBuf};

pub const SPEECH_DIR: &str = "/usr/share/asterisk/sounds";
pub const NOISE_FILE: &str = "/usr/share/asterisk/moh/reno_project-system.wav";
/// Offset into the noise track (skips its fade-in).
pub const NOISE_OFFSET_S: f32 = 20.0;
pub const SNR_DB: f64 = 5.0;
pub const MIN_S: f32 = 3.0;
pub const MAX_S: f32 = 4.0;

/// The demo clip's directory (relative to the repository) at `rate`.
pub fn clip_dir(rate: u32) -> &'static str {
    if rate == audio_tools::g722::RATE {
        "data/clip-16k"
    } else {
        "data/clip"
    }
}

/// The demo clip (noisy, clean) at the rate of the blob `blob`'s front end.
pub fn clip_for(blob: &[u8]) -> Result<(PathBuf, PathBuf)> {
    Ok(clip_at(blob_rate(blob)?))
}

/// The demo clip (noisy, clean) at `rate`.
pub fn clip_at(rate: u32) -> (PathBuf, PathBuf) {
    let dir = crate::repo_root().join(clip_dir(rate));
    (dir.join("noisy.wav"), dir.join("clean.wav"))
}

/// The sample rate of a blob's front end.
pub fn blob_rate(blob: &[u8]) -> Result<u32> {
    let m = runtime::Model::parse(blob).map_err(|e| anyhow::anyhow!("invalid model blob: {e}"))?;
    let fe = m.front_end().map_err(|e| anyhow::anyhow!("invalid model blob: {e}"))?;
    Ok(u32::from(fe.sample_rate))
}

/// The 16-bit samples of a package file at `rate`: the WAV at 8 kHz, the `.g722` file beside
/// it at 16 kHz.
fn read_at(wav: &Path, rate: u32) -> Result<Vec<i16>> {
    if rate != audio_tools::g722::RATE {
        return Ok(read_i16(wav, rate)?);
    }
    let g = wav.with_extension(audio_tools::g722::EXT);
    let bytes = std::fs::read(&g).with_context(|| format!("cannot read {} (the -g722 sound packages)", g.display()))?;
    Ok(audio_tools::g722::decode_i16(&g, &bytes)?)
}

/// The chosen speech file: the first (sorted) English prompt of 3 to 4 s in the trainer's test
/// split (`audio_tools::split_of` of the path relative to the speech root).
pub fn pick_speech(root: &Path) -> Result<(String, Vec<i16>)> {
    let mut english: Vec<PathBuf> = Vec::new();
    for d in std::fs::read_dir(root)
        .with_context(|| format!("cannot list {} (apt-get install asterisk-core-sounds-en-wav)", root.display()))?
    {
        let d = d?.path();
        if d.file_name().is_some_and(|n| n.to_string_lossy().starts_with("en")) && d.is_dir() {
            for f in std::fs::read_dir(&d)? {
                let p = f?.path();
                if p.extension().is_some_and(|e| e == "wav") {
                    english.push(p);
                }
            }
        }
    }
    english.sort();
    for p in english {
        let rel = p.strip_prefix(root).unwrap_or(&p).to_string_lossy().replace('\\', "/");
        if split_of(&rel) != Split::Test {
            continue;
        }
        let Ok(s) = read_i16(&p, SAMPLE_RATE) else { continue };
        let secs = s.len() as f32 / SAMPLE_RATE as f32;
        if (MIN_S..=MAX_S).contains(&secs) {
            return Ok((rel, s));
        }
    }
    bail!("no English test-split prompt of {MIN_S}-{MAX_S} s under {}", root.display())
}

fn power(x: &[f64]) -> f64 {
    x.iter().map(|v| v * v).sum::<f64>() / x.len().max(1) as f64
}

/// Writes `clean.wav`, `noisy.wav` and `ATTRIBUTION` at `rate` (8000 or 16000) into `dir`;
/// returns a one-line summary.
pub fn make_clip(dir: &Path, rate: u32) -> Result<String> {
    let (rel, speech) = pick_speech(Path::new(SPEECH_DIR))?;
    let speech = if rate == SAMPLE_RATE { speech } else { read_at(&Path::new(SPEECH_DIR).join(&rel), rate)? };
    let noise = read_at(Path::new(NOISE_FILE), rate).context("apt-get install asterisk-moh-opsound-wav")?;
    let off = (NOISE_OFFSET_S * rate as f32) as usize;
    let noise = noise.get(off..off + speech.len()).context("noise track shorter than expected")?;
    let s: Vec<f64> = speech.iter().map(|&v| f64::from(v)).collect();
    let n: Vec<f64> = noise.iter().map(|&v| f64::from(v)).collect();
    let g = (power(&s) / (power(&n).max(1e-9) * 10f64.powf(SNR_DB / 10.0))).sqrt();
    let mix: Vec<f64> = s.iter().zip(&n).map(|(a, b)| a + g * b).collect();
    // One gain on both signals so the mixture peaks at 90% of full scale.
    let peak = mix.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    let k = 0.9 * 32767.0 / peak;
    let q = |x: &[f64]| -> Vec<i16> { x.iter().map(|v| (v * k).round().clamp(-32768.0, 32767.0) as i16).collect() };
    let (clean, noisy) = (q(&s), q(&mix));
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    write_i16(&dir.join("clean.wav"), rate, &clean)?;
    write_i16(&dir.join("noisy.wav"), rate, &noisy)?;
    let kind = if rate == SAMPLE_RATE { "wav" } else { "g722" };
    let named = |p: &Path| p.with_extension(kind).to_string_lossy().replace('\\', "/");
    let (rel, noise_name) =
        (named(Path::new(&rel)), named(Path::new(NOISE_FILE).file_name().unwrap_or_default().as_ref()));
    let attribution = format!(
        "Demo clip for diffq-embedded ({}/, {rate} Hz), generated by\n\
         `cargo xtask make-clip --rate {rate}` (host-tests/src/clip.rs).\n\n\
         clean.wav: {rel} from the Asterisk core sounds (Debian package asterisk-core-sounds-en-{kind}),\n\
         Copyright 2003-2010 Allison Smith (voice of Asterisk, recorded for Digium, Inc.), scaled.\n\
         noisy.wav: clean.wav + {noise_name} (Asterisk music on hold, Debian package\n\
         asterisk-moh-opsound-{kind}, Copyright 2008 Reno Project, distributed by Digium, Inc. with\n\
         Asterisk) from {NOISE_OFFSET_S} s, mixed at {SNR_DB} dB SNR, scaled to 90% full scale.\n\n\
         Both sources are licensed under the Creative Commons Attribution-ShareAlike 3.0 license\n\
         (CC-BY-SA-3.0),\n\
         https://creativecommons.org/licenses/by-sa/3.0/ . These derived clips are under the same license.\n",
        clip_dir(rate)
    );
    audio_tools::file::write_atomic(&dir.join("ATTRIBUTION"), attribution.as_bytes())?;
    Ok(format!("{rel} + {noise_name} at {SNR_DB} dB, {:.2} s at {rate} Hz", speech.len() as f32 / rate as f32))
}
