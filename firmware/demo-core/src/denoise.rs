//! One hop in, one hop out: the f32 denoiser (cores with an FPU).

use crate::DemoError;
use runtime::dsp::{apply_mask, features, Analyzer, Complex32, Synthesizer, BINS, HOP, N_FEATURES};
use runtime::{Model, StateF32};

/// A streaming denoiser: 128 new samples in, 128 finished samples out (one hop of latency).
pub trait Denoise {
    fn process(&mut self, input: &[i16; HOP], output: &mut [i16; HOP]) -> Result<(), DemoError>;
}

/// Checks that the model fits the STFT front end: 128 log-power features in, 129 gains out.
pub fn check_shape(model: &Model<'_>) -> Result<(), DemoError> {
    if model.input_len() != N_FEATURES || model.output_len() != BINS {
        return Err(DemoError::ModelShape { input: model.input_len() as u16, output: model.output_len() as u16 });
    }
    Ok(())
}

/// `clamp(round(x · 32768))`, the same on host and chip (no FPU rounding-mode tricks).
#[inline]
pub fn to_i16(x: f32) -> i16 {
    runtime::quant::round(x * 32768.0) as i16 // `as` saturates
}

/// f32 path: window → FFT → log-power features → model → mask → inverse FFT → overlap-add.
pub struct F32Denoiser<'a> {
    model: Model<'a>,
    analyzer: Analyzer,
    synth: Synthesizer,
    state: StateF32<'a>,
    arena: &'a mut [f32],
    spec: [Complex32; BINS],
    feat: [f32; N_FEATURES],
    mask: [f32; BINS],
}

impl<'a> F32Denoiser<'a> {
    /// `arena` ≥ `model.f32_arena_len()`, `state` ≥ `model.f32_state_len()` (checked per step too).
    pub fn new(model: Model<'a>, arena: &'a mut [f32], state: &'a mut [f32]) -> Result<Self, DemoError> {
        check_shape(&model)?;
        if arena.len() < model.f32_arena_len() {
            return Err(runtime::Error::ArenaTooSmall {
                needed: model.f32_arena_len() as u32,
                got: arena.len() as u32,
            }
            .into());
        }
        if state.len() < model.f32_state_len() {
            return Err(runtime::Error::StateTooSmall {
                needed: model.f32_state_len() as u32,
                got: state.len() as u32,
            }
            .into());
        }
        Ok(F32Denoiser {
            model,
            analyzer: Analyzer::new(),
            synth: Synthesizer::new(),
            state: StateF32::new(state),
            arena,
            spec: [Complex32::new(0.0, 0.0); BINS],
            feat: [0.0; N_FEATURES],
            mask: [0.0; BINS],
        })
    }
}

impl Denoise for F32Denoiser<'_> {
    fn process(&mut self, input: &[i16; HOP], output: &mut [i16; HOP]) -> Result<(), DemoError> {
        let mut x = [0.0f32; HOP];
        for (x, s) in x.iter_mut().zip(input) {
            *x = f32::from(*s) * (1.0 / 32768.0);
        }
        self.analyzer.push(&x, &mut self.spec);
        features(&self.spec, &mut self.feat);
        self.model.step_f32(&mut self.state, self.arena, &self.feat, &mut self.mask)?;
        apply_mask(&mut self.spec, &self.mask);
        self.synth.push(&self.spec, &mut x);
        for (o, y) in output.iter_mut().zip(x.iter()) {
            *o = to_i16(*y);
        }
        Ok(())
    }
}
