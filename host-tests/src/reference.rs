//! The host reference: the firmware's own pipelines (`runtime::pipeline`) and stream loops
//! (`demo-core`), compiled for the host, on the blob and clip the firmware carries: the denoised
//! audio of a denoiser, each hop's class and scores of a classifier.

use crate::qemu::NumPath;
use anyhow::{anyhow, Result};
use demo_core::{run, run_classifier, score_bytes, AudioSink, DemoError, IterSource, NoCounter, ScoreBits};
use runtime::dsp::{FrameSize, Narrowband, Wideband};
use runtime::dsp_fixed::FixedSize;
use runtime::pipeline::{Classify, F32Classifier, F32Denoiser, I8Classifier, I8Denoiser};
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
    match crate::clip::blob_rate(blob)? {
        Wideband::SAMPLE_RATE => denoise_at::<Wideband>(model, audio, path),
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

/// One classified hop: the winning class and the scores' bytes (`demo_core::score_bytes`, as
/// the QEMU demo writes them to `scores.bin`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassHop {
    pub class: usize,
    pub scores: Vec<u8>,
}

/// Classifies `audio` with `blob` on the given path hop by hop, exactly as the firmware does, at
/// the frame size of the blob's front end (8 or 16 kHz).
pub fn classify(blob: &[u8], audio: &[i16], path: NumPath) -> Result<Vec<ClassHop>> {
    let model = Model::parse(blob).map_err(|e| anyhow!("model blob: {e}"))?;
    match crate::clip::blob_rate(blob)? {
        Wideband::SAMPLE_RATE => classify_at::<Wideband>(model, audio, path),
        _ => classify_at::<Narrowband>(model, audio, path),
    }
}

fn classify_at<Z: FixedSize>(model: Model<'_>, audio: &[i16], path: NumPath) -> Result<Vec<ClassHop>> {
    let m = |e: runtime::Error| anyhow!("model: {e}");
    match path {
        NumPath::F32 => {
            let (mut arena, mut state) = (vec![0.0f32; model.f32_arena_len()], vec![0.0f32; model.f32_state_len()]);
            classify_with(&mut F32Classifier::<i16, Z>::with_size(model, &mut arena, &mut state).map_err(m)?, audio)
        }
        NumPath::I8 => {
            let (mut arena, mut state) = (vec![0i8; model.i8_arena_len()], vec![0i8; model.i8_state_len()]);
            classify_with(&mut I8Classifier::<Z>::with_size(model, &mut arena, &mut state).map_err(m)?, audio)
        }
    }
}

fn classify_with<C>(c: &mut C, audio: &[i16]) -> Result<Vec<ClassHop>>
where
    C: Classify<Sample = i16>,
    C::Score: ScoreBits,
{
    let mut scores = vec![C::Score::default(); c.n_classes()];
    let mut hops = Vec::new();
    run_classifier(c, &mut IterSource(audio.iter().copied()), &mut NoCounter, &mut scores, |h| {
        hops.push(ClassHop { class: h.class, scores: h.scores.iter().flat_map(|s| score_bytes(*s)).collect() });
        Ok(())
    })
    .map_err(|e| anyhow!("{e}"))?;
    Ok(hops)
}
