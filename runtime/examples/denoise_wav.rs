//! Denoises a WAV file on the host, with the same pipeline the firmware runs.
//!
//! ```sh
//! cargo run -p diffq-runtime --features std --example denoise_wav -- MODEL.dqem IN.wav OUT.wav [--int]
//! ```
//!
//! `IN.wav`: mono 16-bit PCM at the model's rate (8 kHz, or 16 kHz for a 16 kHz model such as
//! `models/gru16k.dqem`). The f32 path runs by default, the integer path with `--int`.
//! The output is aligned with the input ([`process_signal`] removes the hop of latency) and is
//! written next to `OUT.wav` first, then renamed over it: a failed run leaves no partial file.

use diffq_runtime::dsp::{FrameSize, Narrowband, Wideband};
use diffq_runtime::dsp_fixed::FixedSize;
use diffq_runtime::pipeline::{process_signal, F32Denoiser, I8Denoiser};
use diffq_runtime::Model;
use std::error::Error;
use std::path::{Path, PathBuf};

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (int, paths): (Vec<&String>, Vec<&String>) = args.iter().partition(|a| a.as_str() == "--int");
    let [model_path, in_path, out_path] = paths.as_slice() else {
        return Err("usage: denoise_wav MODEL.dqem IN.wav OUT.wav [--int]".into());
    };
    let blob = std::fs::read(model_path).map_err(|e| format!("cannot read the model {model_path}: {e}"))?;
    let model = Model::parse(&blob).map_err(|e| format!("model {model_path}: {e}"))?;
    let rate = u32::from(model.front_end().map_err(|e| format!("model {model_path}: {e}"))?.sample_rate);
    let input = read_pcm(Path::new(in_path), rate)?;
    let output = if rate == Wideband::SAMPLE_RATE {
        denoise::<Wideband>(model, &input, !int.is_empty())?
    } else {
        denoise::<Narrowband>(model, &input, !int.is_empty())?
    };
    write_pcm_atomically(Path::new(out_path), &output, rate)?;
    let path = if int.is_empty() { "f32" } else { "integer" };
    println!("{in_path} -> {out_path}: {} samples at {rate} Hz, {path} path", output.len());
    Ok(())
}

/// `input` through the denoiser of frame size `Z` on the integer path (`int`) or the f32 path.
fn denoise<Z: FixedSize>(model: Model<'_>, input: &[i16], int: bool) -> Result<Vec<i16>, Box<dyn Error>> {
    let mut output = vec![0i16; input.len()];
    if int {
        let mut arena = vec![0i8; model.i8_arena_len()];
        let mut state = vec![0i8; model.i8_state_len()];
        let mut denoiser = I8Denoiser::<Z>::with_size(model, &mut arena, &mut state)?;
        process_signal(&mut denoiser, input, &mut output)?;
    } else {
        let mut arena = vec![0.0f32; model.f32_arena_len()];
        let mut state = vec![0.0f32; model.f32_state_len()];
        let mut denoiser = F32Denoiser::<i16, Z>::with_size(model, &mut arena, &mut state)?;
        process_signal(&mut denoiser, input, &mut output)?;
    }
    Ok(output)
}

/// The samples of a mono 16-bit WAV file at `rate` Hz.
fn read_pcm(path: &Path, rate: u32) -> Result<Vec<i16>, Box<dyn Error>> {
    let name = path.display();
    let reader = hound::WavReader::open(path).map_err(|e| format!("cannot open {name}: {e}"))?;
    let spec = reader.spec();
    let pcm16 = spec.sample_format == hound::SampleFormat::Int && spec.bits_per_sample == 16;
    if spec.channels != 1 || spec.sample_rate != rate || !pcm16 {
        return Err(format!(
            "{name}: {} channel(s), {} Hz, {} bits ({:?}); this model takes mono {rate} Hz 16-bit PCM",
            spec.channels, spec.sample_rate, spec.bits_per_sample, spec.sample_format
        )
        .into());
    }
    let samples: Result<Vec<i16>, _> = reader.into_samples::<i16>().collect();
    Ok(samples.map_err(|e| format!("{name}: {e}"))?)
}

/// Writes `samples` as a mono 16-bit WAV file at `rate` Hz to a temporary file beside `path`,
/// then renames it to `path`.
fn write_pcm_atomically(path: &Path, samples: &[i16], rate: u32) -> Result<(), Box<dyn Error>> {
    let mut tmp = PathBuf::from(path);
    tmp.as_mut_os_string().push(".partial");
    let spec =
        hound::WavSpec { channels: 1, sample_rate: rate, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
    let write = || -> Result<(), hound::Error> {
        let mut writer = hound::WavWriter::create(&tmp, spec)?;
        for s in samples {
            writer.write_sample(*s)?;
        }
        writer.finalize()
    };
    if let Err(e) = write() {
        // Best effort: the error that matters is the write's.
        let _ = std::fs::remove_file(&tmp);
        return Err(format!("cannot write {}: {e}", tmp.display()).into());
    }
    std::fs::rename(&tmp, path).map_err(|e| format!("cannot rename {} to {}: {e}", tmp.display(), path.display()))?;
    Ok(())
}
