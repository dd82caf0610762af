//! The integer path: [`FixedFrontEnd`] and [`Model::step_i8`], for cores without an FPU. No
//! floating point runs here (the front end's two scales become integers in `new`), and the
//! host computes the same bits as every chip.

use super::check::{check_buffers, io, Spectral};
use super::stages::Stages;
use crate::dsp::{BINS, HOP, N_FEATURES};
use crate::dsp_fixed::FixedFrontEnd;
use crate::{Error, LayerHook, Model, StateI8};

/// The integer denoiser on i16 PCM: [`FixedFrontEnd`] analysis and int8 features,
/// [`Model::step_i8`], its int8 mask, integer synthesis.
pub struct I8Denoiser<'a> {
    model: Model<'a>,
    spectral: Spectral<'a>,
    front: FixedFrontEnd,
    state: StateI8<'a>,
    arena: &'a mut [i8],
    feat: [i8; N_FEATURES],
    gains: [i8; BINS],
}

impl<'a> I8Denoiser<'a> {
    /// `model` must be a denoiser ([`check_denoiser`](super::check_denoiser)) with integer constants
    /// ([`Error::NoIntegerPath`] otherwise); `arena` and `state` hold at least
    /// [`Model::i8_arena_len`] and [`Model::i8_state_len`] elements.
    pub fn new(model: Model<'a>, arena: &'a mut [i8], state: &'a mut [i8]) -> Result<Self, Error> {
        let spectral = Spectral::of(&model)?;
        if !model.has_int() {
            return Err(Error::NoIntegerPath);
        }
        check_buffers(arena.len(), model.i8_arena_len(), state.len(), model.i8_state_len())?;
        let front = FixedFrontEnd::new(model.input_scale(), model.output_scale());
        let (feat, gains) = ([0; N_FEATURES], [0; BINS]);
        Ok(I8Denoiser { model, spectral, front, state: StateI8::new(state), arena, feat, gains })
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

impl Stages for I8Denoiser<'_> {
    type Sample = i16;

    fn analysis(&mut self, input: &[i16; HOP]) {
        self.front.analyze(input);
    }

    fn features(&mut self) {
        match &self.spectral.features {
            None => self.front.features(&mut self.feat),
            Some(fb) => self.front.band_features(fb, &mut self.feat),
        }
    }

    fn step(&mut self) -> Result<(), Error> {
        let (input, output) = io(&self.model, &self.feat, &mut self.gains);
        self.model.step_i8(&mut self.state, self.arena, input, output)
    }

    fn step_with<H: LayerHook>(&mut self, hook: &mut H) -> Result<(), Error> {
        let (input, output) = io(&self.model, &self.feat, &mut self.gains);
        self.model.step_i8_with(&mut self.state, self.arena, input, output, hook)
    }

    fn mask(&mut self) {
        match &self.spectral.gains {
            None => self.front.apply_mask(&self.gains),
            Some(fb) => self.front.apply_band_mask(fb, self.gains.get(..fb.n_bands()).unwrap_or(&[])),
        }
    }

    fn synthesis(&mut self, output: &mut [i16; HOP]) {
        self.front.synthesize(output);
    }
}
