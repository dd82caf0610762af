//! What a pipeline checks before it runs: the front end the model names, its shape, and the
//! caller's buffers.

use crate::dsp::{FilterBank, FrameSize};
use crate::format::{Features, FrontEnd, Output};
use crate::{Error, Model, Part};

/// How the model meets the spectrum: its features per bin (log power of bins `0..128`) or per
/// band of the blob's filterbank, and its gains per bin (129) or per band, spread over the bins
/// by the filterbank (FORMAT.md, "Front end").
#[derive(Debug, Clone, Copy)]
pub(super) struct Spectral<'a> {
    /// The filterbank of band features (`None`: per-bin log power).
    pub(super) features: Option<FilterBank<'a>>,
    /// The filterbank of band gains (`None`: a gain per bin).
    pub(super) gains: Option<FilterBank<'a>>,
}

impl<'a> Spectral<'a> {
    /// The mapping `model`'s front end names, if a pipeline of frame size `Z` implements it: the
    /// blob's frames are `Z`'s ([`Error::FrameMismatch`] otherwise), log power or log-mel
    /// features, gains per bin or per band ([`Error::ClassifierBlob`] for class scores,
    /// [`Error::NotADenoiser`] for a model whose widths do not fit).
    pub(super) fn of<Z: FrameSize>(model: &Model<'a>) -> Result<Self, Error> {
        let (fe, features) = features_of::<Z>(model)?;
        let gains = match fe.output {
            Output::BinGains => None,
            Output::BandGains => Some(filterbank::<Z>(model, &fe)?),
            Output::Scores => return Err(Error::ClassifierBlob),
        };
        let n_in = features.map_or(Z::N_FEATURES, |b| b.n_bands());
        let n_out = gains.map_or(Z::BINS, |b| b.n_bands());
        if model.input_len() != n_in || model.output_len() != n_out {
            return Err(Error::NotADenoiser { inputs: len32(model.input_len()), outputs: len32(model.output_len()) });
        }
        Ok(Spectral { features, gains })
    }
}

/// `model`'s front end, if a pipeline of frame size `Z` computes its features: the blob's frames
/// are `Z`'s ([`Error::FrameMismatch`] otherwise); with the filterbank of its log-mel features
/// (`None`: per-bin log power).
pub(super) fn features_of<'a, Z: FrameSize>(model: &Model<'a>) -> Result<(FrontEnd, Option<FilterBank<'a>>), Error> {
    let fe = model.front_end()?;
    // The record pairs each frame with its rate (8000 Hz: 256, 16000 Hz: 512).
    if usize::from(fe.frame) != Z::FRAME || u32::from(fe.sample_rate) != Z::SAMPLE_RATE {
        let pipeline = u16::try_from(Z::FRAME).unwrap_or(u16::MAX);
        return Err(Error::FrameMismatch { blob: fe.frame, pipeline });
    }
    let features = match fe.features {
        Features::LogPower => None,
        Features::LogMel => Some(filterbank::<Z>(model, &fe)?),
    };
    Ok((fe, features))
}

/// The front end's filterbank tensor, `fe.n_bands` rows of `Z::BINS` bins
/// ([`Error::MissingFeature`] in a build without feature `bands`: the pipelines run no band code
/// there).
fn filterbank<'a, Z: FrameSize>(model: &Model<'a>, fe: &FrontEnd) -> Result<FilterBank<'a>, Error> {
    if !cfg!(feature = "bands") {
        return Err(Error::MissingFeature(crate::Feature::Bands));
    }
    let t = fe.filterbank.ok_or(Error::InvalidField(Part::FrontEnd))?;
    FilterBank::new(model.tensor(t)?.weights, usize::from(fe.n_bands))
        .ok()
        .filter(|b| b.bins() == Z::BINS)
        .ok_or(Error::ShapeMismatch(Part::FrontEnd))
}

/// Whether `model` is a denoiser the 8 kHz pipelines run ([`check_denoiser_for`] of
/// [`Narrowband`](crate::dsp::Narrowband)).
pub fn check_denoiser(model: &Model<'_>) -> Result<(), Error> {
    check_denoiser_for::<crate::dsp::Narrowband>(model)
}

/// Whether `model` is a denoiser the pipelines of frame size `Z` run: the front end it names
/// has `Z`'s frames ([`Error::FrameMismatch`] otherwise), log-power or log-mel features, gains
/// per bin or per band ([`Error::ClassifierBlob`] for class scores), with as many inputs as
/// features and outputs as gains ([`Error::NotADenoiser`] otherwise).
pub fn check_denoiser_for<Z: FrameSize>(model: &Model<'_>) -> Result<(), Error> {
    Spectral::of::<Z>(model).map(|_| ())
}

/// The model's input (the first `input_len` features) and output (the first `output_len`
/// gains: per bin or per band) within the pipeline's buffers.
pub(super) fn io<'b, T>(model: &Model<'_>, feat: &'b [T], gains: &'b mut [T]) -> (&'b [T], &'b mut [T]) {
    let (n_in, n_out) = (model.input_len(), model.output_len());
    (feat.get(..n_in).unwrap_or(&[]), gains.get_mut(..n_out).unwrap_or(&mut []))
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
