//! WAV input/output: 8 kHz mono, samples as f32 in [-1, 1] (i16 / 32768).

use anyhow::{bail, Context, Result};
use std::path::Path;

/// The only sample rate of the project.
pub const SAMPLE_RATE: u32 = 8000;

/// Reads a mono 8 kHz WAV (8/16/24/32-bit integer or 32-bit float) as f32 samples.
pub fn read_wav(path: &Path) -> Result<Vec<f32>> {
    let reader = hound::WavReader::open(path).with_context(|| format!("cannot read WAV file {}", path.display()))?;
    let spec = reader.spec();
    if spec.channels != 1 {
        bail!("{}: {} channels, expected mono", path.display(), spec.channels);
    }
    if spec.sample_rate != SAMPLE_RATE {
        bail!("{}: sample rate {} Hz, expected {SAMPLE_RATE} Hz", path.display(), spec.sample_rate);
    }
    let samples: Result<Vec<f32>, hound::Error> = match spec.sample_format {
        hound::SampleFormat::Float => reader.into_samples::<f32>().collect(),
        hound::SampleFormat::Int => {
            if spec.bits_per_sample == 0 || spec.bits_per_sample > 32 {
                bail!("{}: unsupported bit depth {}", path.display(), spec.bits_per_sample);
            }
            let full = (1u64 << (spec.bits_per_sample - 1)) as f32;
            reader.into_samples::<i32>().map(|s| s.map(|v| v as f32 / full)).collect()
        }
    };
    let samples = samples.with_context(|| format!("{}: corrupt WAV data", path.display()))?;
    if let Some(i) = samples.iter().position(|v| !v.is_finite()) {
        bail!("{}: non-finite sample at index {i}", path.display());
    }
    Ok(samples)
}

/// Writes 16-bit mono 8 kHz PCM (values clipped to [-1, 1)).
pub fn write_wav(path: &Path, samples: &[f32]) -> Result<()> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: SAMPLE_RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).with_context(|| format!("cannot create {}", path.display()))?;
    for &s in samples {
        let v = (s * 32768.0).round().clamp(-32768.0, 32767.0) as i16;
        w.write_sample(v)?;
    }
    w.finalize().with_context(|| format!("cannot finish {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_and_errors() {
        let dir = std::env::temp_dir().join(format!("trainer-audio-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("a.wav");
        let x: Vec<f32> = (0..100).map(|i| (i as f32 / 10.0).sin() * 0.5).collect();
        write_wav(&p, &x).unwrap();
        let y = read_wav(&p).unwrap();
        assert_eq!(y.len(), 100);
        assert!(x.iter().zip(&y).all(|(a, b)| (a - b).abs() < 1.0 / 30000.0));
        let bad = dir.join("bad.wav");
        std::fs::write(&bad, b"RIFF not really").unwrap();
        assert!(read_wav(&bad).unwrap_err().to_string().contains("bad.wav"));
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 8000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let st = dir.join("stereo.wav");
        let mut w = hound::WavWriter::create(&st, spec).unwrap();
        w.write_sample(0i16).unwrap();
        w.write_sample(0i16).unwrap();
        w.finalize().unwrap();
        assert!(read_wav(&st).unwrap_err().to_string().contains("mono"));
        assert!(read_wav(&dir.join("missing.wav")).is_err());
        std::fs::remove_dir_all(&dir).ok();
    }
}
