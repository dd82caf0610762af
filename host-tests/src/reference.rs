//! The host reference: the firmware's own pipeline (`runtime::pipeline`) and stream loop
//! (`demo-core`), compiled for the host, on the blob and clip the firmware carries.

use crate::qemu::NumPath;
use anyhow::{anyhow, Result};
use demo_core::{run, AudioSink, DemoError, IterSource, NoCounter};
use runtime::dsp::{Narrowband, Wideband};
use runtime::dsp_fixed::FixedSize;
use runtime::pipeline::{F32Denoiser, I8Denoiser};
use runtime::Model;

struct VecSink(Vec<i16>);

impl AudioSink for VecSink {
    fn write_hop(&mut self, hop: &[i16]) -> Result<(), DemoError> {
        self.0.extend_from_slice(hop);
        Ok(())
    }
}

/// Denoises `audio` with `blob` on the given path, exactly as the firmware does, at the frame
/// size of the blob's front end (8 or 16 kHz).
pub fn denoise(blob: &[u8], audio: &[i16], path: NumPath) -> Result<Vec<i16>> {
    let model = Model::parse(blob).map_err(|e| anyhow!("model blob: {e}"))?;
    match model.front_end().map_err(|e| anyhow!("model blob: {e}"))?.sample_rate {
        16000 => denoise_at::<Wideband>(model, audio, path),
        _ => denoise_at::<Narrowband>(model, audio, path),
    }
}

fn denoise_at<Z: FixedSize>(model: Model<'_>, audio: &[i16], path: NumPath) -> Result<Vec<i16>> {
    let mut sink = VecSink(Vec::with_capacity(audio.len() + Z::HOP));
    let mut src = IterSource(audio.iter().copied());
    let err = |e: DemoError| anyhow!("{e}");
    match path {
        NumPath::F32 => {
            let (mut arena, mut state) = (vec![0.0f32; model.f32_arena_len()], vec![0.0f32; model.f32_state_len()]);
            let mut d =
                F32Denoiser::<i16, Z>::with_size(model, &mut arena, &mut state).map_err(|e| anyhow!("model: {e}"))?;
            run(&mut d, &mut src, &mut sink, &mut NoCounter, |_, _| {}).map_err(err)?;
        }
        NumPath::I8 => {
            let (mut arena, mut state) = (vec![0i8; model.i8_arena_len()], vec![0i8; model.i8_state_len()]);
            let mut d = I8Denoiser::<Z>::with_size(model, &mut arena, &mut state).map_err(|e| anyhow!("model: {e}"))?;
            run(&mut d, &mut src, &mut sink, &mut NoCounter, |_, _| {}).map_err(err)?;
        }
    }
    Ok(sink.0)
}
