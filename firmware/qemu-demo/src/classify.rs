//! The classifier: the clip through a classifier blob; per hop, the winning class and a checksum
//! of the scores in the log, the scores to `scores.bin`.

use super::{Marked, Size};
use demo_core::{
    assets, run_classifier, scores_checksum, ClassifiedHop, Clip, DemoError, IterSource, RunStats, ScoreBits,
};
use qemu_support::platform;
use qemu_support::semihosting::{fs::File, io::Write as _};
use runtime::dsp::Hop;
use runtime::pipeline::Classify;

impl<C: Classify> Classify for Marked<C> {
    type Sample = C::Sample;
    type Size = C::Size;
    type Score = C::Score;

    fn n_classes(&self) -> usize {
        self.0.n_classes()
    }

    fn classify(&mut self, input: &Hop<C::Size, C::Sample>, scores: &mut [C::Score]) -> Result<usize, runtime::Error> {
        self.marked(|c| c.classify(input, scores))
    }
}

/// Writes `scores` to `file`, each score's bytes ([`demo_core::score_bytes`]).
fn write_scores<T: ScoreBits>(file: &mut File, scores: &[T]) -> Result<(), DemoError> {
    for s in scores {
        let b = s.le_bytes();
        file.write_all(b.get(..T::BYTES).ok_or(DemoError::Internal)?).map_err(|_| DemoError::Output)?;
    }
    Ok(())
}

/// Classifies `clip` with `classifier`: per hop a log line `hop=… class=… scores=…` (the
/// checksum of [`scores_checksum`]), the scores to `scores.bin`, the cost to `frames.bin`.
pub fn run<C>(
    mut classifier: Marked<C>,
    clip: &Clip<'_>,
    counter: &mut platform::Counter,
) -> Result<RunStats, DemoError>
where
    C: Classify<Sample = i16, Size = Size>,
    C::Score: ScoreBits,
{
    let mut out = File::create(c"scores.bin").map_err(|_| DemoError::Output)?;
    let mut frames = File::create(c"frames.bin").map_err(|_| DemoError::Output)?;
    let mut scores = [C::Score::default(); assets::OUTPUT_LEN];
    defmt::info!("classes={=usize}", classifier.n_classes());
    let mut src = IterSource(clip.samples());
    let stats = run_classifier(&mut classifier, &mut src, counter, &mut scores, |h: ClassifiedHop<'_, C::Score>| {
        defmt::info!("hop={=u32} class={=usize} scores={=u32}", h.index, h.class, scores_checksum(h.scores));
        write_scores(&mut out, h.scores)?;
        frames.write_all(&h.cost.to_le_bytes()).map_err(|_| DemoError::Output)
    })?;
    // Closes the output files.
    drop((out, frames));
    Ok(stats)
}
