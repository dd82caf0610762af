//! The stages of one hop, and the hop itself.

use crate::dsp::HOP;
use crate::{Error, LayerHook};

/// A pipeline's five stages, which a benchmark can call (and time) one by one, and
/// [`hop`](Stages::hop), which runs them in order. Each stage works on what the previous one
/// left in the pipeline.
pub trait Stages {
    /// The samples at both ends: i16 PCM, or f32 in units of full scale.
    type Sample: Copy + Default;

    /// Analysis: takes the next hop and transforms the frame ending with it.
    fn analysis(&mut self, input: &[Self::Sample; HOP]);
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
    fn synthesis(&mut self, output: &mut [Self::Sample; HOP]);

    /// One hop through the five stages: `output` is the processed hop before `input` (one hop of
    /// latency; the first hop of a stream comes out silent).
    fn hop(&mut self, input: &[Self::Sample; HOP], output: &mut [Self::Sample; HOP]) -> Result<(), Error> {
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
    /// Denoises one hop: `output` is the denoised hop fed before `input` (silence for the first
    /// hop of a stream).
    fn process(&mut self, input: &[i16; HOP], output: &mut [i16; HOP]) -> Result<(), Error>;
}

impl<P: Stages<Sample = i16>> Denoise for P {
    fn process(&mut self, input: &[i16; HOP], output: &mut [i16; HOP]) -> Result<(), Error> {
        self.hop(input, output)
    }
}
