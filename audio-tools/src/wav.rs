//! WAV files through `hound`: mono at a required sample rate read into f32 or i16 samples, any
//! rate and channel count decoded into f32 ([`decode_f32`], for [`crate::convert`]), 16-bit PCM
//! written atomically. Every error names the file.

use crate::pcm::{f32_to_i16, i16_to_f32};
use hound::{SampleFormat, WavReader, WavSpec, WavWriter};
use std::io::Cursor;
use std::path::{Path, PathBuf};

/// What went wrong with which WAV file.
#[derive(Debug, thiserror::Error)]
pub enum WavError {
    #[error("cannot read {}: {error}", path.display())]
    Io { path: PathBuf, error: std::io::Error },
    #[error("{}: empty file", path.display())]
    Empty { path: PathBuf },
    #[error("{}: truncated WAV header", path.display())]
    TruncatedHeader { path: PathBuf },
    #[error("{}: not a WAV file this reader understands: {error}", path.display())]
    NotWav { path: PathBuf, error: hound::Error },
    #[error("{}: {channels} channels, expected mono", path.display())]
    NotMono { path: PathBuf, channels: u16 },
    #[error("{}: sample rate {found} Hz, expected {expected} Hz", path.display())]
    SampleRate { path: PathBuf, found: u32, expected: u32 },
    #[error("{}: unsupported sample format ({bits}-bit {format:?})", path.display())]
    Unsupported { path: PathBuf, bits: u16, format: SampleFormat },
    #[error("{}: no audio samples", path.display())]
    NoSamples { path: PathBuf },
    #[error("{}: unfinished: the header announces no samples but {held} bytes of audio follow (a write that stopped before its header was completed)", path.display())]
    Unfinished { path: PathBuf, held: usize },
    #[error("{}: truncated: the header announces {announced} samples, the file holds {found}", path.display())]
    Truncated { path: PathBuf, announced: u32, found: u32 },
    #[error("{}: corrupt audio data at sample {index}: {error}", path.display())]
    Corrupt { path: PathBuf, index: u32, error: hound::Error },
    #[error("{}: a chunk of odd length {len} at byte {at} precedes the audio data: not supported (readers disagree on its pad byte)", path.display())]
    OddChunk { path: PathBuf, at: usize, len: usize },
    #[error("{}: non-finite sample at index {index}", path.display())]
    NonFinite { path: PathBuf, index: usize },
    #[error("{}: cannot resample {from} Hz to {to} Hz: {error}", path.display())]
    Resample { path: PathBuf, from: u32, to: u32, error: String },
    #[error("cannot write {}: {error}", path.display())]
    Write { path: PathBuf, error: std::io::Error },
    #[error("cannot write {}: {error}", path.display())]
    Encode { path: PathBuf, error: hound::Error },
}

type Reader = WavReader<Cursor<Vec<u8>>>;

/// Reads `path` and checks that it is a non-empty mono WAV at `rate` Hz. The file is read whole
/// first, so every error hound reports afterwards while reading is a short file, not an I/O fault.
fn open(path: &Path, rate: u32) -> Result<Reader, WavError> {
    let bytes = std::fs::read(path).map_err(|error| WavError::Io { path: path.to_path_buf(), error })?;
    let reader = open_bytes(path, bytes)?;
    let spec = reader.spec();
    if spec.channels != 1 {
        return Err(WavError::NotMono { path: path.to_path_buf(), channels: spec.channels });
    }
    if spec.sample_rate != rate {
        return Err(WavError::SampleRate { path: path.to_path_buf(), found: spec.sample_rate, expected: rate });
    }
    Ok(reader)
}

/// A reader over the bytes of the WAV file `path` (named in errors), of any rate and channel
/// count, that holds at least one sample.
fn open_bytes(path: &Path, bytes: Vec<u8>) -> Result<Reader, WavError> {
    let p = || path.to_path_buf();
    if bytes.is_empty() {
        return Err(WavError::Empty { path: p() });
    }
    match scan_chunks(&bytes) {
        Chunks::OddBeforeData(at, len) => return Err(WavError::OddChunk { path: p(), at, len }),
        Chunks::Data { announced: 0, held } if held > 0 => return Err(WavError::Unfinished { path: p(), held }),
        _ => {}
    }
    let reader = WavReader::new(Cursor::new(bytes)).map_err(|error| match error {
        hound::Error::IoError(_) => WavError::TruncatedHeader { path: p() },
        error => WavError::NotWav { path: p(), error },
    })?;
    if reader.spec().channels == 0 || reader.len() == 0 {
        return Err(WavError::NoSamples { path: p() });
    }
    Ok(reader)
}

/// What the chunk scan finds before the audio: a chunk of odd length, or the "data" chunk.
enum Chunks {
    /// A chunk of odd length (offset, length) before the "data" chunk. RIFF pads it with a byte
    /// that hound does not skip, so hound would read the data from the wrong offset; the
    /// firmware's reader refuses these files too, and so the chip and the desk never hear
    /// different samples.
    OddBeforeData(usize, usize),
    /// The "data" chunk: its announced length and the bytes the file holds after its header.
    Data { announced: usize, held: usize },
    /// Neither (not RIFF/WAVE, or cut short before the data: hound says what is wrong).
    Other,
}

fn scan_chunks(b: &[u8]) -> Chunks {
    if b.get(0..4) != Some(b"RIFF") || b.get(8..12) != Some(b"WAVE") {
        return Chunks::Other;
    }
    let mut at = 12usize;
    while let (Some(id), Some(len)) = (b.get(at..at + 4), b.get(at + 4..at + 8)) {
        let len = len.try_into().map_or(0, u32::from_le_bytes) as usize;
        if id == b"data" {
            return Chunks::Data { announced: len, held: b.len().saturating_sub(at + 8) };
        }
        let Some(end) = at.checked_add(8).and_then(|e| e.checked_add(len)).filter(|&e| e <= b.len()) else {
            return Chunks::Other; // past the end: hound reports it
        };
        if len % 2 == 1 {
            return Chunks::OddBeforeData(at, len);
        }
        at = end;
    }
    Chunks::Other
}

/// All samples as `S`; a file shorter than its header announces is [`WavError::Truncated`].
fn samples<S: hound::Sample>(reader: Reader, path: &Path) -> Result<Vec<S>, WavError> {
    let announced = reader.len();
    let mut out = Vec::with_capacity(announced as usize);
    for s in reader.into_samples::<S>() {
        match s {
            Ok(v) => out.push(v),
            Err(hound::Error::IoError(_)) => {
                return Err(WavError::Truncated { path: path.to_path_buf(), announced, found: out.len() as u32 });
            }
            Err(error) => return Err(WavError::Corrupt { path: path.to_path_buf(), index: out.len() as u32, error }),
        }
    }
    Ok(out)
}

/// Reads a mono WAV at `rate` Hz as f32 samples: integer PCM of 8 to 32 bits as `v / 2^(bits−1)`
/// (16-bit through [`i16_to_f32`]), 32-bit float as is (every sample must be finite).
pub fn read_f32(path: &Path, rate: u32) -> Result<Vec<f32>, WavError> {
    samples_f32(open(path, rate)?, path)
}

/// A WAV file's audio at its own rate and channel count, samples as by [`read_f32`].
#[derive(Clone, Debug, PartialEq)]
pub struct Decoded {
    pub rate: u32,
    pub channels: u16,
    /// Frames, channels interleaved.
    pub samples: Vec<f32>,
}

/// Decodes the bytes of the WAV file `path` (named in errors) whatever its rate and channel
/// count: any format [`read_f32`] reads.
pub fn decode_f32(path: &Path, bytes: Vec<u8>) -> Result<Decoded, WavError> {
    let reader = open_bytes(path, bytes)?;
    let spec = reader.spec();
    Ok(Decoded { rate: spec.sample_rate, channels: spec.channels, samples: samples_f32(reader, path)? })
}

fn samples_f32(reader: Reader, path: &Path) -> Result<Vec<f32>, WavError> {
    let spec = reader.spec();
    match (spec.sample_format, spec.bits_per_sample) {
        (SampleFormat::Float, 32) => {
            let x = samples::<f32>(reader, path)?;
            match x.iter().position(|v| !v.is_finite()) {
                Some(index) => Err(WavError::NonFinite { path: path.to_path_buf(), index }),
                None => Ok(x),
            }
        }
        (SampleFormat::Int, 16) => Ok(samples::<i16>(reader, path)?.into_iter().map(i16_to_f32).collect()),
        (SampleFormat::Int, bits @ 8..=32) => {
            let full = (1u64 << (bits - 1)) as f32;
            Ok(samples::<i32>(reader, path)?.into_iter().map(|v| v as f32 / full).collect())
        }
        (format, bits) => Err(WavError::Unsupported { path: path.to_path_buf(), bits, format }),
    }
}

/// Reads a mono WAV at `rate` Hz as i16 samples: 16-bit PCM exactly, any other format read as by
/// [`read_f32`] and converted with [`f32_to_i16`].
pub fn read_i16(path: &Path, rate: u32) -> Result<Vec<i16>, WavError> {
    let reader = open(path, rate)?;
    let spec = reader.spec();
    if (spec.sample_format, spec.bits_per_sample) == (SampleFormat::Int, 16) {
        return samples::<i16>(reader, path);
    }
    drop(reader);
    Ok(read_f32(path, rate)?.into_iter().map(f32_to_i16).collect())
}

/// Writes f32 samples as 16-bit mono PCM at `rate` Hz (each through [`f32_to_i16`]); see [`write_i16`].
pub fn write_f32(path: &Path, rate: u32, samples: &[f32]) -> Result<(), WavError> {
    let pcm: Vec<i16> = samples.iter().copied().map(f32_to_i16).collect();
    write_i16(path, rate, &pcm)
}

/// Writes 16-bit mono PCM at `rate` Hz through [`crate::file::write_atomic`]: a reader never
/// sees a partial file, and a failed write leaves any previous file in place.
pub fn write_i16(path: &Path, rate: u32, samples: &[i16]) -> Result<(), WavError> {
    let spec = WavSpec { channels: 1, sample_rate: rate, bits_per_sample: 16, sample_format: SampleFormat::Int };
    let encode = |error| WavError::Encode { path: path.to_path_buf(), error };
    let mut bytes = Cursor::new(Vec::with_capacity(44 + 2 * samples.len()));
    let mut w = WavWriter::new(&mut bytes, spec).map_err(encode)?;
    for &s in samples {
        w.write_sample(s).map_err(encode)?;
    }
    w.finalize().map_err(encode)?;
    crate::file::write_atomic(path, bytes.get_ref()).map_err(|e| WavError::Write { path: e.path, error: e.error })
}

#[cfg(test)]
#[path = "wav_tests.rs"]
mod tests;
