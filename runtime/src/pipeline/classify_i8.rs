//! The integer classifier: [`FixedFrontEnd`] analysis and int8 features, [`Model::step_i8`],
//! argmax. No floating point runs here unless the caller asks for the scores in f32
//! ([`I8Classifier::dequantize`]).

use super::check::check_buffers;
use super::classify::{check_scores, classifier_features, Classify};
use super::features::i8_features;
use crate::dsp::{Array, FilterBank, Hop, Narrowband};
use crate::dsp_fixed::{FixedFrontEnd, FixedSize};
use crate::kernels::argmax_i8;
use crate::{Error, Model, StateI8};

/// The integer classifier on i16 PCM: [`FixedFrontEnd`] analysis and int8 features,
/// [`Model::step_i8`], and the model's int8 scores: score `q` means `q ·`
/// [`score_scale`](I8Classifier::score_scale) (a last softmax passes its logits on, FORMAT.md);
/// frames of size `Z` (8 kHz by default).
pub struct I8Classifier<'a, Z: FixedSize = Narrowband> {
    model: Model<'a>,
    bank: Option<FilterBank<'a>>,
    front: FixedFrontEnd<Z>,
    state: StateI8<'a>,
    arena: &'a mut [i8],
    feat: Hop<Z, i8>,
}

impl<'a> I8Classifier<'a> {
    /// The 8 kHz classifier ([`Narrowband`]); any size: [`with_size`](I8Classifier::with_size).
    pub fn new(model: Model<'a>, arena: &'a mut [i8], state: &'a mut [i8]) -> Result<Self, Error> {
        Self::with_size(model, arena, state)
    }
}

impl<'a, Z: FixedSize> I8Classifier<'a, Z> {
    /// `model` must be a classifier of frame size `Z` ([`check_classifier_for`](super::check_classifier_for))
    /// with integer constants ([`Error::NoIntegerPath`] otherwise); `arena` and `state` hold at
    /// least [`Model::i8_arena_len`] and [`Model::i8_state_len`] elements.
    pub fn with_size(model: Model<'a>, arena: &'a mut [i8], state: &'a mut [i8]) -> Result<Self, Error> {
        model.check_features(crate::Precision::Int)?;
        let bank = classifier_features::<Z>(&model)?;
        if !model.has_int() {
            return Err(Error::NoIntegerPath);
        }
        check_buffers(arena.len(), model.i8_arena_len(), state.len(), model.i8_state_len())?;
        // No mask is applied: the front end's output scale (its gains') is unused.
        let front = FixedFrontEnd::with_size(model.input_scale(), 0.0);
        Ok(I8Classifier { model, bank, front, state: StateI8::new(state), arena, feat: Array::filled(0) })
    }

    /// Forgets the past: the next hop starts a stream.
    pub fn reset(&mut self) {
        self.front.reset();
        self.state.reset();
    }

    /// The model the classifier runs.
    pub fn model(&self) -> &Model<'a> {
        &self.model
    }

    /// What an int8 score means: score `q` is `q · score_scale()` ([`Model::output_scale`]).
    pub fn score_scale(&self) -> f32 {
        self.model.output_scale()
    }

    /// The scores in f32: `out[c] = scores[c] · score_scale()` for the first
    /// `min(scores.len(), out.len())` classes.
    pub fn dequantize(&self, scores: &[i8], out: &mut [f32]) {
        let s = self.score_scale();
        out.iter_mut().zip(scores).for_each(|(o, q)| *o = f32::from(*q) * s);
    }
}

impl<Z: FixedSize> Classify for I8Classifier<'_, Z> {
    type Sample = i16;
    type Size = Z;
    type Score = i8;

    fn n_classes(&self) -> usize {
        self.model.output_len()
    }

    fn classify(&mut self, input: &Hop<Z, i16>, scores: &mut [i8]) -> Result<usize, Error> {
        check_scores(&self.model, scores.len())?;
        self.front.analyze(input);
        i8_features(self.bank.as_ref(), &self.front, self.feat.as_mut());
        let feat = self.feat.as_ref().get(..self.model.input_len()).unwrap_or(&[]);
        self.model.step_i8(&mut self.state, self.arena, feat, scores)?;
        argmax_i8(scores)
    }
}
