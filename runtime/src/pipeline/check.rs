//! What a pipeline checks before it runs: the model's shape and the caller's buffers.

use crate::dsp::{BINS, N_FEATURES};
use crate::format::FrontEnd;
use crate::{Error, Model, Part};

/// Whether `model` is a denoiser for this front end: the front end it names is the one this
/// pipeline implements ([`FrontEnd::DEFAULT`]: 8 kHz; [`Error::Unsupported`] of
/// [`Part::FrontEnd`] otherwise), [`N_FEATURES`] log-power features in, [`BINS`] gains out
/// ([`Error::NotADenoiser`] otherwise).
pub fn check_denoiser(model: &Model<'_>) -> Result<(), Error> {
    if model.front_end()? != FrontEnd::DEFAULT {
        return Err(Error::Unsupported(Part::FrontEnd));
    }
    if model.input_len() != N_FEATURES || model.output_len() != BINS {
        return Err(Error::NotADenoiser { inputs: len32(model.input_len()), outputs: len32(model.output_len()) });
    }
    Ok(())
}

/// The caller's arena and state buffers against what the model needs (lengths in elements).
pub(super) fn check_buffers(arena: usize, arena_needed: usize, state: usize, state_needed: usize) -> Result<(), Error> {
    if arena < arena_needed {
        return Err(Error::ArenaTooSmall { needed: len32(arena_needed), got: len32(arena) });
    }
    if state < state_needed {
        return Err(Error::StateTooSmall { needed: len32(state_needed), got: len32(state) });
    }
    Ok(())
}

fn len32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
