//! Babble: several people talking at once, drawn from the speech of the split being mixed (the
//! training split for training, the test split for the test set), never from the utterances of
//! the target speech itself.

use super::music::read_at;
use super::normalize_rms;
use rand::Rng;

/// Fewest and most talkers at once.
pub const TALKERS: (usize, usize) = (3, 8);

/// Babble of `n` samples at `rate`: 3–8 talkers at once, each a stream of utterances of `speech`
/// (gaps up to 0.2 s) read at 0.85–1.2× (pitch and tempo together, so that one recorded voice
/// stands for several), at levels 0 to 6 dB apart. Utterances whose index is in `exclude` are
/// never used; with none left the result is silent.
pub fn babble<R: Rng>(speech: &[Vec<f32>], exclude: &[usize], n: usize, rate: u32, rng: &mut R) -> Vec<f32> {
    babble_from(speech, exclude, n, rate, rng).0
}

/// [`babble`] and, for each talker, the indices of the utterances it spoke.
pub fn babble_from<R: Rng>(
    speech: &[Vec<f32>],
    exclude: &[usize],
    n: usize,
    rate: u32,
    rng: &mut R,
) -> (Vec<f32>, Vec<Vec<usize>>) {
    let pool: Vec<usize> =
        (0..speech.len()).filter(|i| !exclude.contains(i) && speech.get(*i).is_some_and(|u| !u.is_empty())).collect();
    let mut out = vec![0f32; n];
    let mut used = Vec::new();
    if pool.is_empty() {
        return (out, used);
    }
    let talkers = rng.random_range(TALKERS.0..=TALKERS.1);
    for _ in 0..talkers {
        let speed = rng.random_range(0.85f64..1.2);
        let (stream, files) = talker(speech, &pool, (n as f64 * speed).ceil() as usize + 2, rate, rng);
        used.push(files);
        let mut voice = read_at(&stream, 0.0, speed, n);
        if normalize_rms(&mut voice) {
            let g = 10f32.powf(-rng.random_range(0f32..6.0) / 20.0);
            out.iter_mut().zip(&voice).for_each(|(o, v)| *o += g * v);
        }
    }
    (out, used)
}

/// One talker: utterances drawn from `pool`, the first from a random place, with gaps up to
/// 0.2 s, filling `len` samples; and the utterances used.
fn talker<R: Rng>(speech: &[Vec<f32>], pool: &[usize], len: usize, rate: u32, rng: &mut R) -> (Vec<f32>, Vec<usize>) {
    let mut out = Vec::with_capacity(len);
    let mut used = Vec::new();
    let max_gap = (rate / 5) as usize;
    while out.len() < len {
        let i = pool.get(rng.random_range(0..pool.len())).copied().unwrap_or(0);
        used.push(i);
        let utt = speech.get(i).map(Vec::as_slice).unwrap_or(&[]);
        let start = if out.is_empty() && utt.len() > 1 { rng.random_range(0..utt.len() / 2) } else { 0 };
        out.extend_from_slice(utt.get(start..).unwrap_or(&[]));
        out.extend(std::iter::repeat_n(0.0, rng.random_range(0..max_gap)));
    }
    out.truncate(len);
    (out, used)
}
