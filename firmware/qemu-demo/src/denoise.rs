//! The denoiser: the clip through the model, the output hops to `out.raw`.

use super::{Marked, Size};
use demo_core::{AudioSink, Clip, DemoError, IterSource, RunStats};
use qemu_support::platform;
use qemu_support::semihosting::{fs::File, io::Write as _};
use runtime::dsp::Hop;
use runtime::pipeline::Denoise;

/// Sends finished hops to the host file `out.raw`.
struct SemihostSink(File);

impl AudioSink for SemihostSink {
    fn write_hop(&mut self, hop: &[i16]) -> Result<(), DemoError> {
        // 128 samples per write: one 8 kHz hop, half a 16 kHz one.
        let mut bytes = [0u8; 256];
        for chunk in hop.chunks(bytes.len() / 2) {
            for (b, s) in bytes.chunks_exact_mut(2).zip(chunk) {
                b.copy_from_slice(&s.to_le_bytes());
            }
            let part = bytes.get(..2 * chunk.len()).ok_or(DemoError::Internal)?;
            self.0.write_all(part).map_err(|_| DemoError::Output)?;
        }
        Ok(())
    }
}

impl<D: Denoise> Denoise for Marked<&mut D> {
    type Size = D::Size;

    fn process(&mut self, input: &Hop<D::Size, i16>, output: &mut Hop<D::Size, i16>) -> Result<(), runtime::Error> {
        self.marked(|d| d.process(input, output))
    }
}

/// Denoises `clip` with `den`: the output hops to `out.raw`, each hop's cost (counter units)
/// to `frames.bin`. Out of line, so that its frame (the hops' buffers and whatever processing
/// inlines) is not stacked on top of construction's.
#[inline(never)]
pub fn run<D: Denoise<Size = Size>>(
    mut den: Marked<&mut D>,
    clip: &Clip<'_>,
    counter: &mut platform::Counter,
) -> Result<RunStats, DemoError> {
    let mut sink = SemihostSink(File::create(c"out.raw").map_err(|_| DemoError::Output)?);
    let mut frames = File::create(c"frames.bin").map_err(|_| DemoError::Output)?;
    let stats = demo_core::run(&mut den, &mut IterSource(clip.samples()), &mut sink, counter, |_, cost| {
        let _ = frames.write_all(&cost.to_le_bytes());
    })?;
    // Closes the output files.
    drop((sink, frames));
    Ok(stats)
}
