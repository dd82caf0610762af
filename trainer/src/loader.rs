//! Training batches: random mixtures → runtime STFT features and compressed magnitudes,
//! produced on a background thread. Batch `k` depends only on `(seed, k)`, so a resumed run
//! sees exactly the batches it would have seen.

use crate::data::{self, Corpus};
use crate::features::{self, Spectra, Stft};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;

/// The model inputs a batch holds.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum FeatureKind {
    /// The runtime's log magnitudes (`Stft::n_features` of them).
    #[default]
    Logmag,
    /// Log band energies of a filterbank (`n_bands × bins`, row-major).
    Bands(Arc<Vec<f32>>),
}

/// What a batch is computed with: the STFT (the model's rate) and the features the model reads.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Frontend {
    pub stft: Stft,
    pub kind: FeatureKind,
}

impl Frontend {
    /// Features per frame.
    pub fn width(&self) -> usize {
        match &self.kind {
            FeatureKind::Logmag => self.stft.n_features(),
            FeatureKind::Bands(fb) => fb.len() / self.stft.bins(),
        }
    }

    fn of(&self, specs: &Spectra) -> Vec<f32> {
        match &self.kind {
            FeatureKind::Logmag => features::features(specs),
            // a filterbank of `n × bins` values at the model's rate always makes a bank:
            // `Described` builds it so
            FeatureKind::Bands(fb) => features::band_features(specs, fb).unwrap_or_default(),
        }
    }
}

/// One batch, frame-major: `feats (B, T, width)`, magnitudes `(B, T, bins)`.
pub struct Batch {
    pub b: usize,
    pub t: usize,
    /// Features per frame.
    pub width: usize,
    /// Spectrum bins per frame (the magnitudes' last dimension).
    pub bins: usize,
    pub feats: Vec<f32>,
    pub sqrt_mix: Vec<f32>,
    pub sqrt_clean: Vec<f32>,
}

/// Seed of batch `k` of a run seeded `seed`.
pub fn batch_seed(seed: u64, k: u64) -> u64 {
    data::fnv1a(&[seed.to_le_bytes(), k.to_le_bytes()].concat())
}

/// Turns clean/noisy pairs into a batch (all of the same length).
pub fn make_batch(mixtures: &[data::Mixture], front: &Frontend) -> Batch {
    let stft = front.stft;
    let t = mixtures.first().map_or(0, |m| stft.n_frames(m.noisy.len()));
    let (width, bins) = (front.width(), stft.bins());
    let mut feats = Vec::with_capacity(mixtures.len() * t * width);
    let mut sqrt_mix = Vec::with_capacity(mixtures.len() * t * bins);
    let mut sqrt_clean = Vec::with_capacity(mixtures.len() * t * bins);
    for m in mixtures {
        let sx = features::spectra(stft, &m.noisy);
        let ss = features::spectra(stft, &m.clean);
        feats.extend(front.of(&sx));
        sqrt_mix.extend(features::sqrt_magnitudes(&sx));
        sqrt_clean.extend(features::sqrt_magnitudes(&ss));
    }
    Batch { b: mixtures.len(), t, width, bins, feats, sqrt_mix, sqrt_clean }
}

/// Batch `k`: `batch` mixtures of `samples` samples at SNRs uniform in `[snr_lo, snr_hi]`.
pub fn batch_at(
    corpus: &Corpus,
    seed: u64,
    k: u64,
    (batch, samples): (usize, usize),
    snr: (f32, f32),
    front: &Frontend,
) -> Batch {
    let mut rng = StdRng::seed_from_u64(batch_seed(seed, k));
    let mixtures: Vec<data::Mixture> =
        (0..batch).map(|_| data::random_mixture(corpus, samples, snr.0, snr.1, &mut rng)).collect();
    make_batch(&mixtures, front)
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
    front: &Frontend,
) -> Receiver<Batch> {
    let workers: Vec<Receiver<Batch>> = (0..WORKERS)
        .map(|j| {
            let (tx, rx) = sync_channel(1);
            let corpus = Arc::clone(&corpus);
            let front = front.clone();
            std::thread::spawn(move || {
                let mut k = start + j;
                while tx.send(batch_at(&corpus, seed, k, (batch, samples), snr, &front)).is_ok() {
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
            let rx = spawn(Arc::clone(&c), 5, start, (6, 1600), (-5.0, 15.0), &Frontend::default());
            for k in start..start + 5 {
                let got = rx.recv().unwrap();
                assert!(
                    same(&got, &batch_at(&c, 5, k, (6, 1600), (-5.0, 15.0), &Frontend::default())),
                    "batch {k} from start {start}"
                );
            }
        }
        let (a, b) = (
            batch_at(&c, 5, 1, (6, 1600), (-5.0, 15.0), &Frontend::default()),
            batch_at(&c, 5, 2, (6, 1600), (-5.0, 15.0), &Frontend::default()),
        );
        assert!(!same(&a, &b), "different k, different batches");
    }
}
