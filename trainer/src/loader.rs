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

/// One batch, frame-major: `feats (B, T, N_FEATURES)`, magnitudes `(B, T, BINS)`.
pub struct Batch {
    pub b: usize,
    pub t: usize,
    pub feats: Vec<f32>,
    pub sqrt_mix: Vec<f32>,
    pub sqrt_clean: Vec<f32>,
}

/// Seed of batch `k` of a run seeded `seed`.
pub fn batch_seed(seed: u64, k: u64) -> u64 {
    data::fnv1a(&[seed.to_le_bytes(), k.to_le_bytes()].concat())
}

/// Turns clean/noisy pairs into a batch (all of the same length).
pub fn make_batch(mixtures: &[data::Mixture]) -> Batch {
    let t = mixtures.first().map_or(0, |m| features::n_frames(m.noisy.len()));
    let mut feats = Vec::with_capacity(mixtures.len() * t * N_FEATURES);
    let mut sqrt_mix = Vec::with_capacity(mixtures.len() * t * BINS);
    let mut sqrt_clean = Vec::with_capacity(mixtures.len() * t * BINS);
    for m in mixtures {
        let sx = features::spectra(&m.noisy);
        let ss = features::spectra(&m.clean);
        feats.extend(features::features(&sx));
        sqrt_mix.extend(features::sqrt_magnitudes(&sx));
        sqrt_clean.extend(features::sqrt_magnitudes(&ss));
    }
    Batch { b: mixtures.len(), t, feats, sqrt_mix, sqrt_clean }
}

/// Batch `k`: `batch` mixtures of `samples` samples at SNRs uniform in `[snr_lo, snr_hi]`.
pub fn batch_at(corpus: &Corpus, seed: u64, k: u64, batch: usize, samples: usize, snr: (f32, f32)) -> Batch {
    let mut rng = StdRng::seed_from_u64(batch_seed(seed, k));
    let mixtures: Vec<data::Mixture> =
        (0..batch).map(|_| data::random_mixture(corpus, samples, snr.0, snr.1, &mut rng)).collect();
    make_batch(&mixtures)
}

/// Starts a thread producing batches `start, start+1, …` (stops when the receiver is dropped).
pub fn spawn(
    corpus: Arc<Corpus>,
    seed: u64,
    start: u64,
    batch: usize,
    samples: usize,
    snr: (f32, f32),
) -> Receiver<Batch> {
    let (tx, rx) = sync_channel(3);
    std::thread::spawn(move || {
        let mut k = start;
        loop {
            let b = batch_at(&corpus, seed, k, batch, samples, snr);
            if tx.send(b).is_err() {
                break;
            }
            k += 1;
        }
    });
    rx
}
