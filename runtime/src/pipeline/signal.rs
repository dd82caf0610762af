//! A whole signal through a pipeline, with its latency removed: for tools on the host
//! (evaluation, `trainer denoise`) that need the output aligned with the input.

use super::stages::Stages;
use crate::dsp::HOP;
use crate::Error;

/// Latency of every pipeline, in samples: a hop's output is the hop fed before it.
pub const LATENCY: usize = HOP;

/// Hops [`process_signal`] runs for `len` samples: one per hop of input (the last one padded
/// with zeros) and one more, of silence, that completes the last samples' overlap-add.
pub const fn signal_hops(len: usize) -> usize {
    len.div_ceil(HOP) + 1
}

/// Runs `input` through `pipeline` ([`signal_hops`] hops) and writes `output[i]`, the
/// processed `input[i]`: the first [`LATENCY`] samples out are dropped. `output` must be as long
/// as `input` ([`Error::BadIoLength`] otherwise). The pipeline goes on from its current state:
/// call `reset` first to start a stream.
pub fn process_signal<P: Stages>(pipeline: &mut P, input: &[P::Sample], output: &mut [P::Sample]) -> Result<(), Error> {
    if output.len() != input.len() {
        let len32 = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        return Err(Error::BadIoLength { expected: len32(input.len()), got: len32(output.len()) });
    }
    let (mut hop_in, mut hop_out) = ([P::Sample::default(); HOP], [P::Sample::default(); HOP]);
    for k in 0..signal_hops(input.len()) {
        hop_in.fill(P::Sample::default());
        let chunk = input.get(k * HOP..).unwrap_or(&[]);
        for (h, x) in hop_in.iter_mut().zip(chunk) {
            *h = *x;
        }
        pipeline.hop(&hop_in, &mut hop_out)?;
        // Output hop k holds input samples (k − 1)·HOP onwards.
        if let Some(dst) = k.checked_sub(1).and_then(|j| output.get_mut(j * HOP..)) {
            for (o, y) in dst.iter_mut().zip(hop_out.iter()) {
                *o = *y;
            }
        }
    }
    Ok(())
}
