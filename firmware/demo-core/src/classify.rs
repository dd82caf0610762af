//! The classifier's stream loop, independent of the board: hops from an [`AudioSource`]
//! through a [`Classify`], each hop's winning class and a checksum of its scores handed to a
//! callback (the QEMU demo logs them; the host reference collects them).

use crate::stream::{read_hop, AudioSource, Counter, RunStats};
use crate::DemoError;
use runtime::dsp::{Array, FrameSize, Hop};
use runtime::pipeline::Classify;

/// A score's bytes, as the checksum reads them and the QEMU demo writes them: an f32's four
/// IEEE bytes, an int8's byte, little-endian.
pub trait ScoreBits: Copy {
    /// Bytes per score.
    const BYTES: usize;
    /// The score's bits, little-endian, in the first [`BYTES`](ScoreBits::BYTES) bytes.
    fn le_bytes(self) -> [u8; 4];
}

impl ScoreBits for f32 {
    const BYTES: usize = 4;
    fn le_bytes(self) -> [u8; 4] {
        self.to_le_bytes()
    }
}

impl ScoreBits for i8 {
    const BYTES: usize = 1;
    fn le_bytes(self) -> [u8; 4] {
        [self as u8, 0, 0, 0]
    }
}

/// The bytes of `score` ([`ScoreBits`]).
pub fn score_bytes<T: ScoreBits>(score: T) -> impl Iterator<Item = u8> {
    score.le_bytes().into_iter().take(T::BYTES)
}

/// FNV-1a (32 bits) over the scores' bytes ([`score_bytes`]): equal checksums on host and chip
/// mean equal scores, bit for bit (up to a collision).
pub fn scores_checksum<T: ScoreBits>(scores: &[T]) -> u32 {
    scores
        .iter()
        .flat_map(|s| score_bytes(*s))
        .fold(0x811c_9dc5u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193))
}

/// One classified hop, as [`run_classifier`] hands it on.
#[derive(Debug, Clone, Copy)]
pub struct ClassifiedHop<'s, T> {
    /// The hop's index in the stream, from 0.
    pub index: u32,
    /// The winning class.
    pub class: usize,
    /// The model's scores for the frame ending with the hop.
    pub scores: &'s [T],
    /// What the hop cost (instructions or cycles, from the counter).
    pub cost: u32,
}

/// Runs the whole stream through `classifier`, `scores` holding each hop's scores (its
/// `n_classes` of them); a last partial hop is padded with zeros. `on_hop` sees every hop
/// after it is classified.
pub fn run_classifier<C, S, K>(
    classifier: &mut C,
    src: &mut S,
    counter: &mut K,
    scores: &mut [C::Score],
    mut on_hop: impl FnMut(ClassifiedHop<'_, C::Score>) -> Result<(), DemoError>,
) -> Result<RunStats, DemoError>
where
    C: Classify<Sample = i16>,
    S: AudioSource,
    K: Counter,
{
    let mut stats = RunStats::EMPTY;
    let mut hop = Hop::<C::Size, i16>::filled(0);
    loop {
        let n = read_hop(src, hop.as_mut());
        if n == 0 {
            break;
        }
        let t0 = counter.now();
        let class = classifier.classify(&hop, scores)?;
        let t1 = counter.now();
        let cost = counter.to_units(t1.wrapping_sub(t0));
        on_hop(ClassifiedHop { index: stats.frames, class, scores, cost })?;
        stats.record(cost);
        if n < C::Size::HOP {
            break;
        }
    }
    if stats.frames == 0 {
        stats.min = 0;
    }
    Ok(stats)
}
