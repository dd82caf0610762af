//! The f32 path: [`crate::dsp`] STFT and [`Model::step_f32`], for cores with an FPU.

use super::check::{check_buffers, io, Spectral};
use super::features::f32_features;
use super::sample::SampleFormat;
use super::stages::Stages;
use crate::dsp::{self, Analyzer, Array, Bins, Complex32, FrameSize, Hop, Narrowband, Synthesizer};
use crate::{Error, LayerHook, Model, StateF32};
use core::marker::PhantomData;
use core::mem::MaybeUninit;

/// The f32 denoiser: window, FFT, log-power features, [`Model::step_f32`], mask, inverse FFT,
/// overlap-add. `S` is the sample type at its ends: `i16` (PCM, the firmware's) or `f32`; `Z`
/// the frame size (8 kHz by default).
pub struct F32Denoiser<'a, S: SampleFormat = i16, Z: FrameSize = Narrowband> {
    model: Model<'a>,
    spectral: Spectral<'a>,
    analyzer: Analyzer<Z>,
    synth: Synthesizer<Z>,
    state: StateF32<'a>,
    arena: &'a mut [f32],
    spec: Bins<Z, Complex32>,
    feat: Hop<Z, f32>,
    gains: Bins<Z, f32>,
    samples: PhantomData<S>,
}

impl<'a, S: SampleFormat> F32Denoiser<'a, S> {
    /// The 8 kHz denoiser ([`Narrowband`]); any size: [`with_size`](F32Denoiser::with_size).
    pub fn new(model: Model<'a>, arena: &'a mut [f32], state: &'a mut [f32]) -> Result<Self, Error> {
        Self::with_size(model, arena, state)
    }
}

impl<'a, S: SampleFormat, Z: FrameSize> F32Denoiser<'a, S, Z> {
    /// `model` must be a denoiser of frame size `Z` ([`check_denoiser_for`](super::check_denoiser_for));
    /// `arena` and `state` hold at least [`Model::f32_arena_len`] and [`Model::f32_state_len`]
    /// elements.
    pub fn with_size(model: Model<'a>, arena: &'a mut [f32], state: &'a mut [f32]) -> Result<Self, Error> {
        let spectral = Self::check(&model, arena, state)?;
        Ok(Self::build(model, spectral, arena, state))
    }

    /// [`with_size`](Self::with_size), built in `slot` instead of returned: the frame buffers
    /// (a few KiB) are written where the denoiser stays, not built on the stack and moved there
    /// (for a denoiser in a static or in memory a C caller gives). On error `slot` is untouched.
    pub fn init_in<'s>(
        slot: &'s mut MaybeUninit<Self>,
        model: Model<'a>,
        arena: &'a mut [f32],
        state: &'a mut [f32],
    ) -> Result<&'s mut Self, Error> {
        let spectral = Self::check(&model, arena, state)?;
        Ok(slot.write(Self::build(model, spectral, arena, state)))
    }

    /// What both constructors check: the model's features, its front end, the buffers' lengths.
    fn check(model: &Model<'a>, arena: &[f32], state: &[f32]) -> Result<Spectral<'a>, Error> {
        model.check_features(crate::Precision::F32)?;
        let spectral = Spectral::of::<Z>(model)?;
        check_buffers(arena.len(), model.f32_arena_len(), state.len(), model.f32_state_len())?;
        Ok(spectral)
    }

    /// The denoiser at the start of a stream (inlined, so that it is built where it is written).
    #[inline(always)]
    fn build(model: Model<'a>, spectral: Spectral<'a>, arena: &'a mut [f32], state: &'a mut [f32]) -> Self {
        F32Denoiser {
            model,
            spectral,
            analyzer: Analyzer::default(),
            synth: Synthesizer::default(),
            state: StateF32::new(state),
            arena,
            spec: Array::filled(Complex32::new(0.0, 0.0)),
            feat: Array::filled(0.0),
            gains: Array::filled(0.0),
            samples: PhantomData,
        }
    }

    /// Forgets the past: the next hop starts a stream.
    pub fn reset(&mut self) {
        self.analyzer = Analyzer::default();
        self.synth = Synthesizer::default();
        self.state.reset();
    }

    /// The model the denoiser runs.
    pub fn model(&self) -> &Model<'a> {
        &self.model
    }
}

impl<S: SampleFormat, Z: FrameSize> Stages for F32Denoiser<'_, S, Z> {
    type Sample = S;
    type Size = Z;

    fn analysis(&mut self, input: &Hop<Z, S>) {
        let (analyzer, spec) = (&mut self.analyzer, &mut self.spec);
        S::read_f32::<Z, _>(input, |x| analyzer.push(x, spec));
    }

    fn features(&mut self) {
        f32_features(self.spectral.features.as_ref(), self.spec.as_ref(), self.feat.as_mut());
    }

    fn step(&mut self) -> Result<(), Error> {
        let (input, output) = io(&self.model, self.feat.as_ref(), self.gains.as_mut());
        self.model.step_f32(&mut self.state, self.arena, input, output)
    }

    fn step_with<H: LayerHook>(&mut self, hook: &mut H) -> Result<(), Error> {
        let (input, output) = io(&self.model, self.feat.as_ref(), self.gains.as_mut());
        self.model.step_f32_with(&mut self.state, self.arena, input, output, hook)
    }

    fn mask(&mut self) {
        // No pipeline holds a filterbank without feature `bands` (`check::filterbank`).
        #[cfg(feature = "bands")]
        if let Some(fb) = &self.spectral.gains {
            // The band gains wait in `feat` (free after the step) while `gains` becomes per bin.
            let (n, feat) = (fb.n_bands(), self.feat.as_mut());
            feat.iter_mut().zip(self.gains.as_ref()).take(n).for_each(|(f, g)| *f = *g);
            dsp::band_gains(fb, feat.get(..n).unwrap_or(&[]), self.gains.as_mut());
        }
        dsp::apply_mask(self.spec.as_mut(), self.gains.as_ref());
    }

    fn synthesis(&mut self, output: &mut Hop<Z, S>) {
        let (synth, spec) = (&mut self.synth, &self.spec);
        S::write_f32::<Z>(output, |y| synth.push(spec, y));
    }
}
