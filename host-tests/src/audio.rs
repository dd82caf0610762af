//! WAV in and out. Reading goes through the firmware's own parser, so a clip the host accepts
//! is a clip the chip accepts, and truncated or wrong-format audio fails with the same message.

use anyhow::{Context, Result};
use std::path::Path;

/// Reads an 8 kHz mono 16-bit WAV.
pub fn read_wav(path: &Path) -> Result<Vec<i16>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    parse_wav(&bytes).with_context(|| format!("bad audio file {}", path.display()))
}

/// Parses WAV bytes (see `demo_core::Clip`).
pub fn parse_wav(bytes: &[u8]) -> Result<Vec<i16>> {
    let clip = demo_core::Clip::parse(bytes).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(clip.samples().collect())
}

/// Writes an 8 kHz mono 16-bit WAV.
pub fn write_wav(path: &Path, samples: &[i16]) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let spec =
        hound::WavSpec { channels: 1, sample_rate: 8000, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
    let mut w = hound::WavWriter::create(path, spec).with_context(|| format!("cannot create {}", path.display()))?;
    for &s in samples {
        w.write_sample(s)?;
    }
    w.finalize()?;
    Ok(())
}

/// Little-endian i16 samples from a raw byte stream (what the firmware writes).
pub fn raw_i16(bytes: &[u8]) -> Result<Vec<i16>> {
    if !bytes.len().is_multiple_of(2) {
        anyhow::bail!("raw sample stream of {} bytes is not a whole number of 16-bit samples", bytes.len());
    }
    Ok(bytes
        .chunks_exact(2)
        .map(|c| i16::from_le_bytes([c.first().copied().unwrap_or(0), c.get(1).copied().unwrap_or(0)]))
        .collect())
}
