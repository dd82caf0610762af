//! Noise sources, each at 8 or 16 kHz: recorded tracks (music on hold, [`music`]), babble from
//! the split's own speech ([`babble`]), stationary generated noise (white, pink, brown, mains hum,
//! fans: [`stationary`]) and non-stationary generated noise (keyboard clicks, dishes, door slams,
//! traffic: [`events`]). Recorded and babble noise split by file with the speech and tracks they
//! come from; generated noise by the seed of the mixer's generator.

pub mod babble;
pub mod events;
pub mod music;
pub mod stationary;

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

/// Kinds of noise mixed into the speech.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum NoiseType {
    /// Segments of the noise directory's tracks (music on hold by default).
    Recorded,
    /// Gaussian white noise.
    White,
    /// 1/f noise.
    Pink,
    /// 1/f² noise.
    Brown,
    /// Mains hum (50/60 Hz and harmonics).
    Hum,
    /// 3–8 talkers at once from the split's speech (never the target's own utterances).
    Babble,
    /// A fan: airflow and a slowly drifting blade-pass tone with harmonics.
    Fan,
    /// Typing: clicks at 3–9 keystrokes per second.
    Keyboard,
    /// Clinking dishes and cutlery: ringing high partials.
    Dishes,
    /// Door slams: low thumps with a rattle.
    Door,
    /// Road traffic: a rumble swelling with passing vehicles, engine-modulated.
    Traffic,
}

/// What the noise of a mixture is drawn from, at one rate.
#[derive(Clone, Copy, Debug)]
pub struct Sources<'a> {
    /// The sample rate (8000 or 16000).
    pub rate: u32,
    /// Recorded tracks ([`NoiseType::Recorded`]).
    pub tracks: &'a [Vec<f32>],
    /// Vary the recorded tracks ([`music::varied_music`]): training only.
    pub vary_music: bool,
    /// The split's speech utterances, for [`NoiseType::Babble`].
    pub speech: &'a [Vec<f32>],
    /// Utterances of `speech` babble must not use (the target speech's own).
    pub exclude: &'a [usize],
}

impl Sources<'static> {
    /// Generated noise only, at `rate` (recorded and babble noise fall back to white).
    pub fn generated(rate: u32) -> Sources<'static> {
        Sources { rate, tracks: &[], vary_music: false, speech: &[], exclude: &[] }
    }
}

pub(crate) fn normal<R: Rng>(rng: &mut R) -> f32 {
    StandardNormal.sample(rng)
}

/// Scales `x` to unit RMS; returns false when it is (nearly) silent.
pub fn normalize_rms(x: &mut [f32]) -> bool {
    let r = rms(x);
    if r < 1e-6 {
        return false;
    }
    x.iter_mut().for_each(|v| *v /= r);
    true
}

/// Root mean square (0 for an empty slice).
pub fn rms(x: &[f32]) -> f32 {
    if x.is_empty() {
        return 0.0;
    }
    let e: f64 = x.iter().map(|v| f64::from(*v) * f64::from(*v)).sum();
    (e / x.len() as f64).sqrt() as f32
}

/// `n` samples of noise of the given kind at `src.rate` with unit RMS (falls back to white noise
/// when the result is silent: no track, no speech left for babble).
pub fn generate<R: Rng>(kind: NoiseType, src: &Sources, n: usize, rng: &mut R) -> Vec<f32> {
    let (rate, tracks) = (src.rate, src.tracks);
    let mut x = match kind {
        NoiseType::Recorded if !tracks.is_empty() && src.vary_music => music::varied_music(tracks, n, rng),
        NoiseType::Recorded if !tracks.is_empty() => {
            let t = rng.random_range(0..tracks.len());
            music::segment(tracks.get(t).map(Vec::as_slice).unwrap_or(&[]), n, rng)
        }
        NoiseType::Recorded | NoiseType::White => stationary::white(n, rng),
        NoiseType::Pink => stationary::pink(n, rng),
        NoiseType::Brown => stationary::brown(n, rng),
        NoiseType::Hum => stationary::hum(n, rate, rng),
        NoiseType::Babble => babble::babble(src.speech, src.exclude, n, rate, rng),
        NoiseType::Fan => stationary::fan(n, rate, rng),
        NoiseType::Keyboard => events::keyboard(n, rate, rng),
        NoiseType::Dishes => events::dishes(n, rate, rng),
        NoiseType::Door => events::door(n, rate, rng),
        NoiseType::Traffic => events::traffic(n, rate, rng),
    };
    if !normalize_rms(&mut x) {
        x = stationary::white(n, rng);
        normalize_rms(&mut x);
    }
    x
}

/// Relative weight of each kind when drawn: recorded music and babble 8, each generated kind 3.
fn weight(kind: NoiseType) -> u32 {
    match kind {
        NoiseType::Recorded | NoiseType::Babble => 8,
        _ => 3,
    }
}

/// Draws a noise type among `kinds` (in [`NoiseType`] order), each with its [`weight`]: with the
/// five kinds of `ALL_KINDS`, recorded music 40% and each generated kind 15%.
pub fn pick_type<R: Rng>(rng: &mut R, kinds: &[NoiseType]) -> NoiseType {
    let total: u32 = kinds.iter().map(|&k| weight(k)).sum();
    let mut r = rng.random_range(0..total.max(1));
    for &k in kinds {
        if r < weight(k) {
            return k;
        }
        r -= weight(k);
    }
    NoiseType::White
}

#[cfg(test)]
mod tests;
