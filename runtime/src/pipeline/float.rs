//! The f32 path: [`crate::dsp`] STFT and [`Model::step_f32`], for cores with an FPU.

use super::check::{check_buffers, io, Spectral};
use super::sample::SampleFormat;
use super::stages::Stages;
use crate::dsp::{self, Analyzer, Complex32, Synthesizer, BINS, HOP, N_FEATURES};
use crate::{Error, LayerHook, Model, StateF32};
use core::marker::PhantomData;

/// The f32 denoiser: window, FFT, log-power features, [`Model::step_f32`], mask, inverse FFT,
/// overlap-add. `S` is the sample type at its ends: `i16` (PCM, the firmware's) or `f32`.
pub struct F32Denoiser<'a, S: SampleFormat = i16> {
    model: Model<'a>,
    spectral: Spectral<'a>,
    analyzer: Analyzer,
    synth: Synthesizer,
    state: StateF32<'a>,
    arena: &'a mut [f32],
    spec: [Complex32; BINS],
    feat: [f32; N_FEATURES],
    gains: [f32; BINS],
    samples: PhantomData<S>,
}

impl<'a, S: SampleFormat> F32Denoiser<'a, S> {
    /// `model` must be a denoiser ([`check_denoiser`](super::check_denoiser)); `arena` and `state` hold at least
    /// [`Model::f32_arena_len`] and [`Model::f32_state_len`] elements.
    pub fn new(model: Model<'a>, arena: &'a mut [f32], state: &'a mut [f32]) -> Result<Self, Error> {
        let spectral = Spectral::of(&model)?;
        check_buffers(arena.len(), model.f32_arena_len(), state.len(), model.f32_state_len())?;
        Ok(F32Denoiser {
            model,
            spectral,
            analyzer: Analyzer::new(),
            synth: Synthesizer::new(),
            state: StateF32::new(state),
            arena,
            spec: [Complex32::new(0.0, 0.0); BINS],
            feat: [0.0; N_FEATURES],
            gains: [0.0; BINS],
            samples: PhantomData,
        })
    }

    /// Forgets the past: the next hop starts a stream.
    pub fn reset(&mut self) {
        self.analyzer = Analyzer::new();
        self.synth = Synthesizer::new();
        self.state.reset();
    }

    /// The model the denoiser runs.
    pub fn model(&self) -> &Model<'a> {
        &self.model
    }
}

impl<S: SampleFormat> Stages for F32Denoiser<'_, S> {
    type Sample = S;

    fn analysis(&mut self, input: &[S; HOP]) {
        let (analyzer, spec) = (&mut self.analyzer, &mut self.spec);
        S::read_f32(input, |x| analyzer.push(x, spec));
    }

    fn features(&mut self) {
        match &self.spectral.features {
            None => dsp::features(&self.spec, &mut self.feat),
            Some(fb) => dsp::band_features(&self.spec, fb, &mut self.feat),
        }
    }

    fn step(&mut self) -> Result<(), Error> {
        let (input, output) = io(&self.model, &self.feat, &mut self.gains);
        self.model.step_f32(&mut self.state, self.arena, input, output)
    }

    fn step_with<H: LayerHook>(&mut self, hook: &mut H) -> Result<(), Error> {
        let (input, output) = io(&self.model, &self.feat, &mut self.gains);
        self.model.step_f32_with(&mut self.state, self.arena, input, output, hook)
    }

    fn mask(&mut self) {
        if let Some(fb) = &self.spectral.gains {
            // The band gains wait in `feat` (free after the step) while `gains` becomes per bin.
            let n = fb.n_bands();
            self.feat.iter_mut().zip(&self.gains).take(n).for_each(|(f, g)| *f = *g);
            dsp::band_gains(fb, self.feat.get(..n).unwrap_or(&[]), &mut self.gains);
        }
        dsp::apply_mask(&mut self.spec, &self.gains);
    }

    fn synthesis(&mut self, output: &mut [S; HOP]) {
        let (synth, spec) = (&mut self.synth, &self.spec);
        S::write_f32(output, |y| synth.push(spec, y));
    }
}
