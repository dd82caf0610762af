//! A whole signal through a pipeline, with its latency removed: for tools on the host
//! (evaluation, `trainer denoise`) that need the output aligned with the input.

use super::stages::Stages;
use crate::dsp::{Array, FrameSize, Hop, HOP};
use crate::Error;

/// Latency of the 8 kHz pipelines, in samples (a pipeline of frame size `Z`: `Z::HOP`): a hop's
/// output is the hop fed before it.
pub const LATENCY: usize = HOP;

/// Hops [`process_signal`] runs for `len` samples at 8 kHz ([`hops_of`] with [`HOP`]).
pub const fn signal_hops(len: usize) -> usize {
    hops_of(len, HOP)
}

/// Hops [`process_signal`] runs for `len` samples and hops of `hop` samples: one per hop of input
/// (the last one padded with zeros) and one more, of silence, that completes the last samples'
/// overlap-add.
pub const fn hops_of(len: usize, hop: usize) -> usize {
    len.div_ceil(hop) + 1
}

/// Runs `input` through `pipeline` ([`hops_of`] hops) and writes `output[i]`, the processed
/// `input[i]`: the first hop of samples out (the latency) is dropped. `output` must be as long
/// as `input` ([`Error::BadIoLength`] otherwise). The pipeline goes on from its current state:
/// call `reset` first to start a stream.
pub fn process_signal<P: Stages>(pipeline: &mut P, input: &[P::Sample], output: &mut [P::Sample]) -> Result<(), Error> {
    if output.len() != input.len() {
        let len32 = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        return Err(Error::BadIoLength { expected: len32(input.len()), got: len32(output.len()) });
    }
    let hop = P::Size::HOP;
    let mut hop_in = Hop::<P::Size, P::Sample>::filled(P::Sample::default());
    let mut hop_out = hop_in;
    for k in 0..hops_of(input.len(), hop) {
        hop_in.as_mut().fill(P::Sample::default());
        let chunk = input.get(k * hop..).unwrap_or(&[]);
        for (h, x) in hop_in.as_mut().iter_mut().zip(chunk) {
            *h = *x;
        }
        pipeline.hop(&hop_in, &mut hop_out)?;
        // Output hop k holds input samples (k − 1)·hop onwards.
        if let Some(dst) = k.checked_sub(1).and_then(|j| output.get_mut(j * hop..)) {
            for (o, y) in dst.iter_mut().zip(hop_out.as_ref()) {
                *o = *y;
            }
        }
    }
    Ok(())
}
