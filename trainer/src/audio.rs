//! The trainer's WAV files: mono at a model's sample rate (8 kHz unless said), samples as f32 in [-1, 1)
//! (`audio_tools`: any rate and channel count, 8 to 32-bit PCM or 32-bit float in, brought to
//! mono at the rate by `audio_tools::convert`; 16-bit PCM out, written atomically).

use anyhow::Result;
pub use audio_tools::convert::Conversion;
pub use runtime::dsp::SAMPLE_RATE;
use std::path::Path;

/// Reads a WAV file as mono `SAMPLE_RATE` samples, with the conversion that took (none for a
/// file already mono at the rate).
pub fn read_wav(path: &Path) -> Result<(Vec<f32>, Option<Conversion>)> {
    read_wav_at(path, SAMPLE_RATE)
}

/// Reads a WAV file as mono samples at `rate`, with the conversion that took.
pub fn read_wav_at(path: &Path, rate: u32) -> Result<(Vec<f32>, Option<Conversion>)> {
    Ok(audio_tools::convert::read_mono(path, rate)?)
}

/// Writes 16-bit mono `SAMPLE_RATE` PCM (`runtime::pcm::f32_to_i16`: rounded, saturating).
pub fn write_wav(path: &Path, samples: &[f32]) -> Result<()> {
    write_wav_at(path, SAMPLE_RATE, samples)
}

/// Writes 16-bit mono PCM at `rate`.
pub fn write_wav_at(path: &Path, rate: u32, samples: &[f32]) -> Result<()> {
    Ok(audio_tools::write_f32(path, rate, samples)?)
}
