//! The streaming classifier's interface and its check: a blob whose front end's output is class
//! scores (FORMAT.md, "Front end", output 2), run hop by hop on its own front end.

use super::check::features_of;
use crate::dsp::{FilterBank, FrameSize, Hop, Narrowband};
use crate::format::Output;
use crate::{Error, Model, Part};

/// A streaming classifier: per hop of samples, the blob's front end (the frame ending with the
/// hop, its log-power or log-mel features), one model step, and the model's class scores.
pub trait Classify {
    /// The samples in: i16 PCM, or f32 in units of full scale.
    type Sample: Copy + Default;
    /// The frame size: a hop is `Size::HOP` samples.
    type Size: FrameSize;
    /// A class score as the model's last node writes it: f32, or int8 on the integer path.
    type Score: Copy + Default;

    /// Classes per hop: the model's output length, the length `scores` must have.
    fn n_classes(&self) -> usize;

    /// Takes the next hop, writes the model's scores for the frame ending with it into `scores`
    /// (`n_classes` of them, [`Error::BadIoLength`] otherwise, before anything runs) and returns
    /// the winning class: the index of the largest score, ties to the lowest.
    fn classify(&mut self, input: &Hop<Self::Size, Self::Sample>, scores: &mut [Self::Score]) -> Result<usize, Error>;
}

/// Whether `model` is a classifier the 8 kHz pipelines run ([`check_classifier_for`] of
/// [`Narrowband`]).
pub fn check_classifier(model: &Model<'_>) -> Result<(), Error> {
    check_classifier_for::<Narrowband>(model)
}

/// Whether `model` is a classifier the pipelines of frame size `Z` run: the front end it names
/// has `Z`'s frames ([`Error::FrameMismatch`] otherwise), log-power or log-mel features, and
/// class scores out ([`Error::NotAClassifier`] otherwise).
pub fn check_classifier_for<Z: FrameSize>(model: &Model<'_>) -> Result<(), Error> {
    classifier_features::<Z>(model).map(|_| ())
}

/// The filterbank of `model`'s log-mel features (`None`: per-bin log power), if a classifier of
/// frame size `Z` runs it ([`check_classifier_for`]).
pub(super) fn classifier_features<'a, Z: FrameSize>(model: &Model<'a>) -> Result<Option<FilterBank<'a>>, Error> {
    let (fe, bank) = features_of::<Z>(model)?;
    if fe.output != Output::Scores {
        return Err(Error::NotAClassifier);
    }
    // The record's own check already ties the input to the features; a pipeline holds a hop of them.
    let n_in = bank.map_or(Z::N_FEATURES, |b| b.n_bands());
    if model.input_len() != n_in || n_in > Z::HOP {
        return Err(Error::ShapeMismatch(Part::FrontEnd));
    }
    Ok(bank)
}

/// The scores' length against the model's: checked before a hop changes any state.
pub(super) fn check_scores(model: &Model<'_>, n: usize) -> Result<(), Error> {
    if n == model.output_len() {
        return Ok(());
    }
    let len32 = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    Err(Error::BadIoLength { expected: len32(model.output_len()), got: len32(n) })
}
