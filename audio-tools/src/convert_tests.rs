use super::*;
use crate::wav::write_f32;
use hound::{SampleFormat, WavSpec, WavWriter};

fn tone(freq: f32, rate: u32, secs: f32, amp: f32) -> Vec<f32> {
    let n = (secs * rate as f32) as usize;
    (0..n).map(|i| amp * (std::f32::consts::TAU * freq * i as f32 / rate as f32).sin()).collect()
}

fn rms(x: &[f32]) -> f32 {
    (x.iter().map(|v| v * v).sum::<f32>() / x.len().max(1) as f32).sqrt()
}

/// Amplitude of the component of `x` (at `rate` Hz) at `freq` (a single-bin DFT, exact for a
/// whole number of periods).
fn level_at(x: &[f32], rate: u32, freq: f32) -> f32 {
    let (mut re, mut im) = (0f64, 0f64);
    for (i, &v) in x.iter().enumerate() {
        let ph = std::f64::consts::TAU * f64::from(freq) * i as f64 / f64::from(rate);
        re += f64::from(v) * ph.cos();
        im += f64::from(v) * ph.sin();
    }
    (2.0 * (re * re + im * im).sqrt() / x.len() as f64) as f32
}

/// The middle of `x` (the ends, where the resampler's filter meets the file's edges, left out).
fn middle(x: &[f32]) -> &[f32] {
    &x[x.len() / 8..x.len() * 7 / 8]
}

fn write(path: &Path, channels: u16, rate: u32, bits: u16, format: SampleFormat, frames: &[Vec<f32>]) {
    let spec = WavSpec { channels, sample_rate: rate, bits_per_sample: bits, sample_format: format };
    let mut w = WavWriter::create(path, spec).unwrap();
    for f in frames {
        for &v in f {
            match (format, bits) {
                (SampleFormat::Float, _) => w.write_sample(v).unwrap(),
                (_, 16) => w.write_sample((v * 32767.0) as i16).unwrap(),
                (_, b) => w.write_sample((v * ((1i64 << (b - 1)) - 1) as f32) as i32).unwrap(),
            }
        }
    }
    w.finalize().unwrap();
}

#[test]
fn a_16khz_sine_keeps_its_frequency_and_level_at_8khz() {
    let x = tone(1000.0, 16000, 2.0, 0.5);
    let y = resample(Path::new("t.wav"), &x, 16000, 8000).unwrap();
    assert_eq!(y.len(), 16000);
    let m = middle(&y);
    let at = level_at(m, 8000, 1000.0);
    assert!((at - 0.5).abs() < 0.005, "1 kHz level {at}");
    // the sine is in phase with a sine of the same frequency at 8 kHz (no delay left in)
    let want = tone(1000.0, 8000, 2.0, 0.5);
    let err = rms(&middle(&y).iter().zip(middle(&want)).map(|(a, b)| a - b).collect::<Vec<_>>());
    assert!(err < 0.005, "difference from the ideal 8 kHz sine: rms {err}");
}

#[test]
fn a_tone_above_4khz_does_not_alias_into_the_8khz_band() {
    // 6 kHz at 16 kHz would alias to 2 kHz if decimated without a filter; the resampler must
    // attenuate it by at least 60 dB.
    let x = tone(6000.0, 16000, 2.0, 0.5);
    let y = resample(Path::new("t.wav"), &x, 16000, 8000).unwrap();
    let alias = level_at(middle(&y), 8000, 2000.0);
    let total = rms(middle(&y)) * std::f32::consts::SQRT_2;
    assert!(alias < 0.5e-3 && total < 0.5e-3, "alias at 2 kHz {alias}, total {total} (input 0.5)");
}

#[test]
fn odd_rates_convert_to_the_expected_length() {
    let x = tone(440.0, 44100, 1.0, 0.3);
    let y = resample(Path::new("t.wav"), &x, 44100, 8000).unwrap();
    assert_eq!(y.len(), 8000);
    assert!((level_at(middle(&y), 8000, 440.0) - 0.3).abs() < 0.01);
}

#[test]
fn stereo_24_bit_and_float_files_become_mono_at_the_rate() {
    let dir = tempfile::tempdir().unwrap();
    let l = tone(500.0, 16000, 1.0, 0.4);
    let r: Vec<f32> = l.iter().map(|v| -v * 0.5).collect(); // average: 0.25 × the left channel
    let frames: Vec<Vec<f32>> = l.iter().zip(&r).map(|(a, b)| vec![*a, *b]).collect();
    for (bits, format) in
        [(16, SampleFormat::Int), (24, SampleFormat::Int), (32, SampleFormat::Int), (32, SampleFormat::Float)]
    {
        let p = dir.path().join(format!("s{bits}{format:?}.wav"));
        write(&p, 2, 16000, bits, format, &frames);
        let (y, conv) = read_mono(&p, 8000).unwrap();
        assert_eq!(conv, Some(Conversion { from_rate: 16000, channels: 2, to_rate: 8000 }));
        assert_eq!(y.len(), 8000);
        let lv = level_at(middle(&y), 8000, 500.0);
        assert!((lv - 0.1).abs() < 0.002, "{bits}-bit {format:?}: level {lv}");
    }
    let c = Conversion { from_rate: 16000, channels: 2, to_rate: 8000 };
    assert_eq!(c.to_string(), "16000 Hz stereo → 8000 Hz mono (channels averaged) (resampled)");
}

#[test]
fn a_mono_file_at_the_rate_passes_through_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("m.wav");
    write_f32(&p, 8000, &tone(300.0, 8000, 0.5, 0.2)).unwrap();
    let (y, conv) = read_mono(&p, 8000).unwrap();
    assert_eq!(conv, None);
    assert_eq!(y, crate::read_f32(&p, 8000).unwrap());
    // mono at another rate: resampled only
    write_f32(&p, 16000, &tone(300.0, 16000, 0.5, 0.2)).unwrap();
    let (y, conv) = read_mono(&p, 8000).unwrap();
    assert_eq!((y.len(), conv.map(|c| c.to_string())), (4000, Some("16000 Hz mono → 8000 Hz mono (resampled)".into())));
}

#[test]
fn downmix_averages_frames() {
    assert_eq!(downmix(&[1.0, 0.0, 0.5, 0.5, -1.0, 1.0], 2), [0.5, 0.5, 0.0]);
    let m = downmix(&[0.3, 0.6, 0.9, 0.0, 0.0, 0.3], 3);
    assert!(m.len() == 2 && (m[0] - 0.6).abs() < 1e-6 && (m[1] - 0.1).abs() < 1e-6, "{m:?}");
}
