//! One hop in, one hop out, integers only (cores without an FPU): `runtime::dsp_fixed` front
//! end + `Model::step_i8`. Bit-exact across machines, so the host reference must match exactly.

use crate::denoise::{check_shape, Denoise};
use crate::DemoError;
use runtime::dsp::{BINS, HOP, N_FEATURES};
use runtime::dsp_fixed::FixedFrontEnd;
use runtime::{Model, StateI8};

pub struct I8Denoiser<'a> {
    model: Model<'a>,
    front: FixedFrontEnd,
    state: StateI8<'a>,
    arena: &'a mut [i8],
    feat: [i8; N_FEATURES],
    mask: [i8; BINS],
}

impl<'a> I8Denoiser<'a> {
    /// `arena` ≥ `model.i8_arena_len()`, `state` ≥ `model.i8_state_len()`.
    pub fn new(model: Model<'a>, arena: &'a mut [i8], state: &'a mut [i8]) -> Result<Self, DemoError> {
        check_shape(&model)?;
        if !model.has_int() {
            return Err(DemoError::NoIntegerPath);
        }
        if arena.len() < model.i8_arena_len() {
            return Err(
                runtime::Error::ArenaTooSmall { needed: model.i8_arena_len() as u32, got: arena.len() as u32 }.into()
            );
        }
        if state.len() < model.i8_state_len() {
            return Err(
                runtime::Error::StateTooSmall { needed: model.i8_state_len() as u32, got: state.len() as u32 }.into()
            );
        }
        // The only floating point of the integer path: two constants, once, at start-up.
        let front = FixedFrontEnd::new(model.input_scale(), model.output_scale());
        Ok(I8Denoiser { model, front, state: StateI8::new(state), arena, feat: [0; N_FEATURES], mask: [0; BINS] })
    }
}

impl Denoise for I8Denoiser<'_> {
    fn process(&mut self, input: &[i16; HOP], output: &mut [i16; HOP]) -> Result<(), DemoError> {
        self.front.analyze(input);
        self.front.features(&mut self.feat);
        self.model.step_i8(&mut self.state, self.arena, &self.feat, &mut self.mask)?;
        self.front.apply_mask(&self.mask);
        self.front.synthesize(output);
        Ok(())
    }
}
