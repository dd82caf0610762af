//! Any WAV file [`crate::wav::decode_f32`] reads, brought to mono at a given rate: channels
//! averaged, then resampled with rubato's FFT resampler (synchronous, Blackman-Harris
//! anti-aliasing window). A file already mono at the rate passes through unchanged.

use crate::wav::{decode_f32, Decoded, WavError};
use rubato::audioadapter_buffers::direct::SequentialSliceOfVecs;
use rubato::{Fft, FixedSync, Resampler};
use std::fmt;
use std::path::Path;

/// What was done to a file to bring it to mono at the wanted rate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Conversion {
    pub from_rate: u32,
    pub channels: u16,
    pub to_rate: u32,
}

impl fmt::Display for Conversion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.channels {
            1 => "mono".to_string(),
            2 => "stereo".to_string(),
            n => format!("{n} channels"),
        };
        write!(f, "{} Hz {what} → {} Hz mono", self.from_rate, self.to_rate)?;
        if self.channels > 1 {
            write!(f, " (channels averaged)")?;
        }
        if self.from_rate != self.to_rate {
            write!(f, " (resampled)")?;
        }
        Ok(())
    }
}

/// The average of the channels of interleaved `samples`.
pub fn downmix(samples: &[f32], channels: u16) -> Vec<f32> {
    let c = usize::from(channels.max(1));
    if c == 1 {
        return samples.to_vec();
    }
    samples.chunks_exact(c).map(|f| f.iter().sum::<f32>() / c as f32).collect()
}

/// `x` at `from` Hz resampled to `to` Hz (length `⌈len·to/from⌉`, the resampler's delay
/// removed). `path` names the file in errors.
pub fn resample(path: &Path, x: &[f32], from: u32, to: u32) -> Result<Vec<f32>, WavError> {
    if from == to {
        return Ok(x.to_vec());
    }
    let err = |error: String| WavError::Resample { path: path.to_path_buf(), from, to, error };
    let mut r =
        Fft::<f64>::new(from as usize, to as usize, 1024, 1, FixedSync::Input).map_err(|e| err(e.to_string()))?;
    let input = vec![x.iter().map(|&v| f64::from(v)).collect::<Vec<f64>>()];
    let adapter = SequentialSliceOfVecs::new(&input, 1, x.len()).map_err(|e| err(e.to_string()))?;
    let out = r.process_all(&adapter, x.len(), None).map_err(|e| err(e.to_string()))?;
    Ok(out.take_data().into_iter().map(|v| v as f32).collect())
}

/// The bytes of WAV file `path` as mono samples at `rate` Hz, and what was done to get there
/// (none for a file already mono at `rate`: its samples exactly as [`crate::read_f32`] gives them).
pub fn decode_mono(path: &Path, bytes: Vec<u8>, rate: u32) -> Result<(Vec<f32>, Option<Conversion>), WavError> {
    let Decoded { rate: from, channels, samples } = decode_f32(path, bytes)?;
    if from == rate && channels == 1 {
        return Ok((samples, None));
    }
    let mono = downmix(&samples, channels);
    let out = resample(path, &mono, from, rate)?;
    Ok((out, Some(Conversion { from_rate: from, channels, to_rate: rate })))
}

/// [`decode_mono`] of the file at `path`.
pub fn read_mono(path: &Path, rate: u32) -> Result<(Vec<f32>, Option<Conversion>), WavError> {
    let bytes = std::fs::read(path).map_err(|error| WavError::Io { path: path.to_path_buf(), error })?;
    decode_mono(path, bytes, rate)
}

#[cfg(test)]
#[path = "convert_tests.rs"]
mod tests;
