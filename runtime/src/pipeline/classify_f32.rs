//! The f32 classifier: [`crate::dsp`] analysis and features, [`Model::step_f32`], argmax.

use super::check::check_buffers;
use super::classify::{check_scores, classifier_features, Classify};
use super::features::f32_features;
use super::sample::SampleFormat;
use crate::dsp::{Analyzer, Array, Bins, Complex32, FilterBank, FrameSize, Hop, Narrowband};
use crate::kernels::argmax_f32;
use crate::{Error, Model, StateF32};
use core::marker::PhantomData;

/// The f32 classifier: window, FFT, log-power or log-mel features, [`Model::step_f32`], and the
/// model's f32 scores (probabilities when its last node is a softmax). `S` is the sample type
/// in: `i16` (PCM) or `f32`; `Z` the frame size (8 kHz by default).
pub struct F32Classifier<'a, S: SampleFormat = i16, Z: FrameSize = Narrowband> {
    model: Model<'a>,
    bank: Option<FilterBank<'a>>,
    analyzer: Analyzer<Z>,
    state: StateF32<'a>,
    arena: &'a mut [f32],
    spec: Bins<Z, Complex32>,
    feat: Hop<Z, f32>,
    samples: PhantomData<S>,
}

impl<'a, S: SampleFormat> F32Classifier<'a, S> {
    /// The 8 kHz classifier ([`Narrowband`]); any size: [`with_size`](F32Classifier::with_size).
    pub fn new(model: Model<'a>, arena: &'a mut [f32], state: &'a mut [f32]) -> Result<Self, Error> {
        Self::with_size(model, arena, state)
    }
}

impl<'a, S: SampleFormat, Z: FrameSize> F32Classifier<'a, S, Z> {
    /// `model` must be a classifier of frame size `Z` ([`check_classifier_for`](super::check_classifier_for));
    /// `arena` and `state` hold at least [`Model::f32_arena_len`] and [`Model::f32_state_len`]
    /// elements.
    pub fn with_size(model: Model<'a>, arena: &'a mut [f32], state: &'a mut [f32]) -> Result<Self, Error> {
        model.check_features(crate::Precision::F32)?;
        let bank = classifier_features::<Z>(&model)?;
        check_buffers(arena.len(), model.f32_arena_len(), state.len(), model.f32_state_len())?;
        Ok(F32Classifier {
            model,
            bank,
            analyzer: Analyzer::default(),
            state: StateF32::new(state),
            arena,
            spec: Array::filled(Complex32::new(0.0, 0.0)),
            feat: Array::filled(0.0),
            samples: PhantomData,
        })
    }

    /// Forgets the past: the next hop starts a stream.
    pub fn reset(&mut self) {
        self.analyzer = Analyzer::default();
        self.state.reset();
    }

    /// The model the classifier runs.
    pub fn model(&self) -> &Model<'a> {
        &self.model
    }
}

impl<S: SampleFormat, Z: FrameSize> Classify for F32Classifier<'_, S, Z> {
    type Sample = S;
    type Size = Z;
    type Score = f32;

    fn n_classes(&self) -> usize {
        self.model.output_len()
    }

    fn classify(&mut self, input: &Hop<Z, S>, scores: &mut [f32]) -> Result<usize, Error> {
        check_scores(&self.model, scores.len())?;
        let (analyzer, spec) = (&mut self.analyzer, &mut self.spec);
        S::read_f32::<Z, _>(input, |x| analyzer.push(x, spec));
        f32_features(self.bank.as_ref(), self.spec.as_ref(), self.feat.as_mut());
        let feat = self.feat.as_ref().get(..self.model.input_len()).unwrap_or(&[]);
        self.model.step_f32(&mut self.state, self.arena, feat, scores)?;
        argmax_f32(scores)
    }
}
