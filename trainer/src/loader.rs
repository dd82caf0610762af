//! Training batches: random mixtures → runtime STFT features and compressed magnitudes,
//! produced on a background thread. Batch `k` depends only on `(seed, k)`, so a resumed run
//! sees exactly the batches it would have seen.

use crate::data::{self, Corpus};
use crate::features;
use rand::rngs::StdRng;
use rand::SeedableRng;
use runtime::dsp::{BINS, N_FEATURES};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;

/// The model inputs a batch holds.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum FeatureKind {
    /// The runtime's `N_FEATURES` log magnitudes.
    #[default]
    Logmag,
    /// Log band energies of a filterbank (`n_bands × BINS`, row-major).
    Bands(Arc<Vec<f32>>),
}

impl FeatureKind {
    /// Features per frame.
    pub fn width(&self) -> usize {
        match self {
            FeatureKind::Logmag => N_FEATURES,
            FeatureKind::Bands(fb) => fb.len() / BINS,
        }
    }

    fn of(&self, specs: &[features::Spectrum]) -> Vec<f32> {
        match self {
            FeatureKind::Logmag => features::features(specs),
            // a filterbank of `n × BINS` values always makes a bank: `Described` builds it so
            FeatureKind::Bands(fb) => features::band_features(specs, fb).unwrap_or_default(),
        }
    }
}

/// One batch, frame-major: `feats (B, T, width)`, magnitudes `(B, T, BINS)`.
pub struct Batch {
    pub b: usize,
    pub t: usize,
    /// Features per frame.
    pub width: usize,
    pub feats: Vec<f32>,
    pub sqrt_mix: Vec<f32>,
    pub sqrt_clean: Vec<f32>,
}

/// Seed of batch `k` of a run seeded `seed`.
pub fn batch_seed(seed: u64, k: u64) -> u64 {
    data::fnv1a(&[seed.to_le_bytes(), k.to_le_bytes()].concat())
}

/// Turns clean/noisy pairs into a batch (all of the same length).
pub fn make_batch(mixtures: &[data::Mixture], kind: &FeatureKind) -> Batch {
    let t = mixtures.first().map_or(0, |m| features::n_frames(m.noisy.len()));
    let width = kind.width();
    let mut feats = Vec::with_capacity(mixtures.len() * t * width);
    let mut sqrt_mix = Vec::with_capacity(mixtures.len() * t * BINS);
    let mut sqrt_clean = Vec::with_capacity(mixtures.len() * t * BINS);
    for m in mixtures {
        let sx = features::spectra(&m.noisy);
        let ss = features::spectra(&m.clean);
        feats.extend(kind.of(&sx));
        sqrt_mix.extend(features::sqrt_magnitudes(&sx));
        sqrt_clean.extend(features::sqrt_magnitudes(&ss));
    }
    Batch { b: mixtures.len(), t, width, feats, sqrt_mix, sqrt_clean }
}

/// Batch `k`: `batch` mixtures of `samples` samples at SNRs uniform in `[snr_lo, snr_hi]`.
pub fn batch_at(
    corpus: &Corpus,
    seed: u64,
    k: u64,
    (batch, samples): (usize, usize),
    snr: (f32, f32),
    kind: &FeatureKind,
) -> Batch {
    let mut rng = StdRng::seed_from_u64(batch_seed(seed, k));
    let mixtures: Vec<data::Mixture> =
        (0..batch).map(|_| data::random_mixture(corpus, samples, snr.0, snr.1, &mut rng)).collect();
    make_batch(&mixtures, kind)
}

/// Threads making batches: whole batches in parallel, so the loader keeps ahead of a step
/// running on the other core even though one batch costs about as much CPU as one step.
pub const WORKERS: u64 = 2;

/// Starts [`WORKERS`] threads producing batches `start, start+1, …` (worker `j` makes the
/// batches `k ≡ start + j` modulo [`WORKERS`]) and one that hands them on in order; all stop
/// when the receiver is dropped. Each batch is [`batch_at`]'s, whichever thread made it.
pub fn spawn(
    corpus: Arc<Corpus>,
    seed: u64,
    start: u64,
    (batch, samples): (usize, usize),
    snr: (f32, f32),
    kind: &FeatureKind,
) -> Receiver<Batch> {
    let workers: Vec<Receiver<Batch>> = (0..WORKERS)
        .map(|j| {
            let (tx, rx) = sync_channel(1);
            let corpus = Arc::clone(&corpus);
            let kind = kind.clone();
            std::thread::spawn(move || {
                let mut k = start + j;
                while tx.send(batch_at(&corpus, seed, k, (batch, samples), snr, &kind)).is_ok() {
                    k += WORKERS;
                }
            });
            rx
        })
        .collect();
    let (tx, rx) = sync_channel(1);
    std::thread::spawn(move || {
        for w in workers.iter().cycle() {
            let Ok(b) = w.recv() else { break };
            if tx.send(b).is_err() {
                break;
            }
        }
    });
    rx
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus() -> Corpus {
        let tone = |k: usize| (0..3000).map(|i| ((i * (k + 2)) as f32 * 0.03).sin() * 0.2).collect::<Vec<f32>>();
        Corpus::in_memory((0..4).map(tone).collect(), vec![tone(7), tone(11)])
    }

    fn same(a: &Batch, b: &Batch) -> bool {
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<u32>>();
        (a.b, a.t) == (b.b, b.t)
            && bits(&a.feats) == bits(&b.feats)
            && bits(&a.sqrt_mix) == bits(&b.sqrt_mix)
            && bits(&a.sqrt_clean) == bits(&b.sqrt_clean)
    }

    #[test]
    fn spawned_batches_are_batch_at_in_order_from_any_start() {
        let c = Arc::new(corpus());
        for start in [0u64, 3] {
            let rx = spawn(Arc::clone(&c), 5, start, (6, 1600), (-5.0, 15.0), &FeatureKind::Logmag);
            for k in start..start + 5 {
                let got = rx.recv().unwrap();
                assert!(
                    same(&got, &batch_at(&c, 5, k, (6, 1600), (-5.0, 15.0), &FeatureKind::Logmag)),
                    "batch {k} from start {start}"
                );
            }
        }
        let (a, b) = (
            batch_at(&c, 5, 1, (6, 1600), (-5.0, 15.0), &FeatureKind::Logmag),
            batch_at(&c, 5, 2, (6, 1600), (-5.0, 15.0), &FeatureKind::Logmag),
        );
        assert!(!same(&a, &b), "different k, different batches");
    }
}
