//! The trainer's WAV files: mono at the runtime's sample rate, samples as f32 in [-1, 1)
//! (`audio_tools::wav`: 8 to 32-bit PCM or 32-bit float in; 16-bit PCM out, written atomically).

use anyhow::Result;
pub use runtime::dsp::SAMPLE_RATE;
use std::path::Path;

/// Reads a mono `SAMPLE_RATE` WAV as f32 samples.
pub fn read_wav(path: &Path) -> Result<Vec<f32>> {
    Ok(audio_tools::read_f32(path, SAMPLE_RATE)?)
}

/// Writes 16-bit mono `SAMPLE_RATE` PCM (`runtime::pcm::f32_to_i16`: rounded, saturating).
pub fn write_wav(path: &Path, samples: &[f32]) -> Result<()> {
    Ok(audio_tools::write_f32(path, SAMPLE_RATE, samples)?)
}
