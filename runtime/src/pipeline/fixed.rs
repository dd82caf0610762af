//! The integer path: [`FixedFrontEnd`] and [`Model::step_i8`], for cores without an FPU. No
//! floating point runs here (the front end's two scales become integers in `new`), and the
//! host computes the same bits as every chip.

use super::check::{check_buffers, io, Spectral};
use super::features::i8_features;
use super::stages::Stages;
use crate::dsp::{Array, Bins, Hop, Narrowband};
use crate::dsp_fixed::{FixedFrontEnd, FixedSize};
use crate::{Error, LayerHook, Model, StateI8};
use core::mem::MaybeUninit;

/// The integer denoiser on i16 PCM: [`FixedFrontEnd`] analysis and int8 features,
/// [`Model::step_i8`], its int8 mask, integer synthesis; frames of size `Z` (8 kHz by default).
pub struct I8Denoiser<'a, Z: FixedSize = Narrowband> {
    model: Model<'a>,
    spectral: Spectral<'a>,
    front: FixedFrontEnd<Z>,
    state: StateI8<'a>,
    arena: &'a mut [i8],
    feat: Hop<Z, i8>,
    gains: Bins<Z, i8>,
}

impl<'a> I8Denoiser<'a> {
    /// The 8 kHz denoiser ([`Narrowband`]); any size: [`with_size`](I8Denoiser::with_size).
    pub fn new(model: Model<'a>, arena: &'a mut [i8], state: &'a mut [i8]) -> Result<Self, Error> {
        Self::with_size(model, arena, state)
    }
}

impl<'a, Z: FixedSize> I8Denoiser<'a, Z> {
    /// `model` must be a denoiser of frame size `Z` ([`check_denoiser_for`](super::check_denoiser_for))
    /// with integer constants ([`Error::NoIntegerPath`] otherwise); `arena` and `state` hold at
    /// least [`Model::i8_arena_len`] and [`Model::i8_state_len`] elements.
    pub fn with_size(model: Model<'a>, arena: &'a mut [i8], state: &'a mut [i8]) -> Result<Self, Error> {
        let spectral = Self::check(&model, arena, state)?;
        Ok(Self::build(model, spectral, arena, state))
    }

    /// [`with_size`](Self::with_size), built in `slot` instead of returned: the front end's
    /// buffers (a few KiB) are written where the denoiser stays, not built on the stack and moved
    /// there (for a denoiser in a static or in memory a C caller gives). On error `slot` is
    /// untouched.
    pub fn init_in<'s>(
        slot: &'s mut MaybeUninit<Self>,
        model: Model<'a>,
        arena: &'a mut [i8],
        state: &'a mut [i8],
    ) -> Result<&'s mut Self, Error> {
        let spectral = Self::check(&model, arena, state)?;
        Ok(slot.write(Self::build(model, spectral, arena, state)))
    }

    /// What both constructors check: the model's features, its front end, its integer
    /// constants, the buffers' lengths.
    fn check(model: &Model<'a>, arena: &[i8], state: &[i8]) -> Result<Spectral<'a>, Error> {
        model.check_features(crate::Precision::Int)?;
        let spectral = Spectral::of::<Z>(model)?;
        if !model.has_int() {
            return Err(Error::NoIntegerPath);
        }
        check_buffers(arena.len(), model.i8_arena_len(), state.len(), model.i8_state_len())?;
        Ok(spectral)
    }

    /// The denoiser at the start of a stream (inlined, so that it is built where it is written).
    #[inline(always)]
    fn build(model: Model<'a>, spectral: Spectral<'a>, arena: &'a mut [i8], state: &'a mut [i8]) -> Self {
        let front = FixedFrontEnd::with_size(model.input_scale(), model.output_scale());
        let (feat, gains) = (Array::filled(0), Array::filled(0));
        I8Denoiser { model, spectral, front, state: StateI8::new(state), arena, feat, gains }
    }

    /// Forgets the past: the next hop starts a stream.
    pub fn reset(&mut self) {
        self.front.reset();
        self.state.reset();
    }

    /// The model the denoiser runs.
    pub fn model(&self) -> &Model<'a> {
        &self.model
    }
}

impl<Z: FixedSize> Stages for I8Denoiser<'_, Z> {
    type Sample = i16;
    type Size = Z;

    fn analysis(&mut self, input: &Hop<Z, i16>) {
        self.front.analyze(input);
    }

    fn features(&mut self) {
        i8_features(self.spectral.features.as_ref(), &self.front, self.feat.as_mut());
    }

    fn step(&mut self) -> Result<(), Error> {
        let (input, output) = io(&self.model, self.feat.as_ref(), self.gains.as_mut());
        self.model.step_i8(&mut self.state, self.arena, input, output)
    }

    fn step_with<H: LayerHook>(&mut self, hook: &mut H) -> Result<(), Error> {
        let (input, output) = io(&self.model, self.feat.as_ref(), self.gains.as_mut());
        self.model.step_i8_with(&mut self.state, self.arena, input, output, hook)
    }

    fn mask(&mut self) {
        match &self.spectral.gains {
            None => self.front.apply_mask(self.gains.as_ref()),
            #[cfg(feature = "bands")]
            Some(fb) => self.front.apply_band_mask(fb, self.gains.as_ref().get(..fb.n_bands()).unwrap_or(&[])),
            // No pipeline holds a filterbank without feature `bands` (`check::filterbank`).
            #[cfg(not(feature = "bands"))]
            Some(_) => {}
        }
    }

    fn synthesis(&mut self, output: &mut Hop<Z, i16>) {
        self.front.synthesize(output);
    }
}
