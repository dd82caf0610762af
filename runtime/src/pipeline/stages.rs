//! The stages of one hop, and the hop itself.

use crate::dsp::{FrameSize, Hop};
use crate::{Error, LayerHook};

/// A pipeline's five stages, which a benchmark can call (and time) one by one, and
/// [`hop`](Stages::hop), which runs them in order. Each stage works on what the previous one
/// left in the pipeline.
pub trait Stages {
    /// The samples at both ends: i16 PCM, or f32 in units of full scale.
    type Sample: Copy + Default;
    /// The frame size: a hop is `Size::HOP` samples.
    type Size: FrameSize;

    /// Analysis: takes the next hop and transforms the frame ending with it.
    fn analysis(&mut self, input: &Hop<Self::Size, Self::Sample>);
    /// Features: the model's input, from the spectrum.
    fn features(&mut self);
    /// Model step: one streaming frame, features to mask.
    fn step(&mut self) -> Result<(), Error>;
    /// [`step`](Stages::step), telling `hook` where each model layer starts (for benchmarks);
    /// kept apart from `step` so the demo's path compiles exactly as without hooks.
    fn step_with<H: LayerHook>(&mut self, hook: &mut H) -> Result<(), Error>;
    /// Mask: the model's gains applied to the spectrum.
    fn mask(&mut self);
    /// Synthesis: inverse FFT, window, overlap-add; writes the next hop of output.
    fn synthesis(&mut self, output: &mut Hop<Self::Size, Self::Sample>);

    /// One hop through the five stages: `output` is the processed hop before `input` (one hop of
    /// latency; the first hop of a stream comes out silent).
    fn hop(
        &mut self,
        input: &Hop<Self::Size, Self::Sample>,
        output: &mut Hop<Self::Size, Self::Sample>,
    ) -> Result<(), Error> {
        self.analysis(input);
        self.features();
        self.step()?;
        self.mask();
        self.synthesis(output);
        Ok(())
    }
}

/// A streaming denoiser on 16-bit PCM: one hop in, one hop out (one hop of latency).
pub trait Denoise {
    /// The frame size: a hop is `Size::HOP` samples.
    type Size: FrameSize;

    /// Denoises one hop: `output` is the denoised hop fed before `input` (silence for the first
    /// hop of a stream).
    fn process(&mut self, input: &Hop<Self::Size, i16>, output: &mut Hop<Self::Size, i16>) -> Result<(), Error>;
}

impl<P: Stages<Sample = i16>> Denoise for P {
    type Size = P::Size;

    fn process(&mut self, input: &Hop<P::Size, i16>, output: &mut Hop<P::Size, i16>) -> Result<(), Error> {
        self.hop(input, output)
    }
}
