//! The STFT front end shared by the trainer and the firmware, so the model sees the same
//! numbers on the desk and on the chip: 8 kHz audio, 256-sample frames, hop 128, square-root
//! Hann windows for analysis and synthesis (their product sums to 1 at 50% overlap, so
//! an all-ones mask reconstructs the input exactly, one hop late).

pub use microfft::Complex32;

mod bands;
#[cfg(feature = "std")]
pub use bands::mel_filterbank;
pub use bands::{band_features, band_gains, FilterBank};

/// Sample rate the models are trained for.
pub const SAMPLE_RATE: u32 = 8000;
/// STFT frame length (32 ms).
pub const FRAME: usize = 256;
/// Hop between frames (16 ms): one model step per hop.
pub const HOP: usize = FRAME / 2;
/// One-sided spectrum bins, DC through Nyquist.
pub const BINS: usize = FRAME / 2 + 1;
/// Model input: log power of bins 0..128 (Nyquist dropped so widths stay multiples of 16).
pub const N_FEATURES: usize = FRAME / 2;
/// Power floor before the log: about the noise floor of 16-bit audio in one bin.
pub const POWER_FLOOR: f32 = 1e-7;

/// `sin(x)` for |x| ≤ 2π, evaluated at compile time (Taylor series in f64).
pub(crate) const fn const_sin(x: f64) -> f64 {
    let x = if x > core::f64::consts::PI { x - 2.0 * core::f64::consts::PI } else { x };
    let (mut term, mut sum, mut n) = (x, x, 1u32);
    while n < 30 {
        term = -term * x * x / (((2 * n) * (2 * n + 1)) as f64);
        sum += term;
        n += 1;
    }
    sum
}

#[allow(clippy::indexing_slicing)] // const fn: an out-of-range index fails the build, not the chip
const fn sqrt_hann() -> [f32; FRAME] {
    let mut w = [0.0f32; FRAME];
    let mut i = 0;
    while i < FRAME {
        // sqrt(0.5 − 0.5·cos(2πi/N)) = sin(πi/N) for 0 ≤ i < N (periodic Hann).
        w[i] = const_sin(core::f64::consts::PI * i as f64 / FRAME as f64) as f32;
        i += 1;
    }
    w
}

/// Square-root periodic Hann window, in flash.
pub static WINDOW: [f32; FRAME] = sqrt_hann();

/// Streaming analysis: keeps the previous hop, windows `[previous, current]`, real FFT.
#[derive(Clone)]
pub struct Analyzer {
    prev: [f32; HOP],
}

impl Default for Analyzer {
    fn default() -> Self {
        Self::new()
    }
}

impl Analyzer {
    /// An analyzer whose previous hop is silence: the start of a stream.
    pub const fn new() -> Self {
        Analyzer { prev: [0.0; HOP] }
    }

    /// Takes the next `HOP` samples and writes the spectrum of the frame ending with them.
    pub fn push(&mut self, hop: &[f32; HOP], spec: &mut [Complex32; BINS]) {
        let mut frame = [0.0f32; FRAME];
        for ((f, x), w) in frame.iter_mut().zip(self.prev.iter().chain(hop.iter())).zip(WINDOW.iter()) {
            *f = *x * *w;
        }
        self.prev = *hop;
        let half = microfft::real::rfft_256(&mut frame);
        // microfft packs the (real) Nyquist bin into the imaginary part of bin 0.
        let nyquist = half[0].im;
        half[0].im = 0.0;
        for (s, h) in spec.iter_mut().zip(half.iter()) {
            *s = *h;
        }
        spec[BINS - 1] = Complex32::new(nyquist, 0.0);
    }
}

/// Model input features: `ln(|X_k|² + POWER_FLOOR)` for k in 0..N_FEATURES.
pub fn features(spec: &[Complex32; BINS], out: &mut [f32; N_FEATURES]) {
    for (o, s) in out.iter_mut().zip(spec.iter()) {
        // libm's logf by path: std's inherent `ln` could differ from the chip's. (micromath's
        // fast ln was measured 0.1 off at the floor: too coarse for features.)
        *o = libm::logf(s.re * s.re + s.im * s.im + POWER_FLOOR);
    }
}

/// `|X_k|` of every bin.
pub fn magnitudes(spec: &[Complex32; BINS], out: &mut [f32; BINS]) {
    for (o, s) in out.iter_mut().zip(spec.iter()) {
        *o = libm::sqrtf(s.re * s.re + s.im * s.im);
    }
}

/// Multiplies each bin by its gain.
pub fn apply_mask(spec: &mut [Complex32; BINS], mask: &[f32; BINS]) {
    for (s, g) in spec.iter_mut().zip(mask.iter()) {
        *s *= *g;
    }
}

/// Streaming synthesis: inverse FFT, synthesis window, overlap-add.
#[derive(Clone)]
pub struct Synthesizer {
    tail: [f32; HOP],
}

impl Default for Synthesizer {
    fn default() -> Self {
        Self::new()
    }
}

impl Synthesizer {
    /// A synthesizer with nothing to overlap-add yet: the start of a stream.
    pub const fn new() -> Self {
        Synthesizer { tail: [0.0; HOP] }
    }

    /// Consumes one frame's spectrum and emits the next `HOP` finished output samples.
    pub fn push(&mut self, spec: &[Complex32; BINS], out: &mut [f32; HOP]) {
        let mut full = [Complex32::new(0.0, 0.0); FRAME];
        for (f, s) in full.iter_mut().zip(spec.iter()) {
            *f = *s;
        }
        // Hermitian symmetry: X[N−k] = conj(X[k]) for k in 1..N/2.
        for (f, s) in full.iter_mut().rev().zip(spec.iter().skip(1).take(FRAME / 2 - 1)) {
            *f = s.conj();
        }
        let time = microfft::inverse::ifft_256(&mut full);
        let (first, second) = time.split_at(HOP);
        let (w1, w2) = WINDOW.split_at(HOP);
        for (((o, t), x), w) in out.iter_mut().zip(self.tail.iter()).zip(first).zip(w1) {
            *o = *t + x.re * *w;
        }
        for ((t, x), w) in self.tail.iter_mut().zip(second).zip(w2) {
            *t = x.re * *w;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_is_sqrt_hann_and_cola() {
        assert_eq!(WINDOW[0], 0.0);
        assert!((WINDOW[FRAME / 2] - 1.0).abs() < 1e-7);
        for i in 0..HOP {
            let s = WINDOW[i] * WINDOW[i] + WINDOW[i + HOP] * WINDOW[i + HOP];
            assert!((s - 1.0).abs() < 1e-6, "{i}: {s}");
        }
    }

    #[test]
    fn unit_mask_reconstructs_input_one_hop_late() {
        let signal: [f32; HOP * 6] =
            core::array::from_fn(|i| libm::sinf(i as f32 * 0.37) * 0.5 + ((i * 7919) % 13) as f32 * 0.01);
        let (mut a, mut s) = (Analyzer::new(), Synthesizer::new());
        let mut spec = [Complex32::new(0.0, 0.0); BINS];
        let mut out = [0.0f32; HOP * 6];
        for (hop_in, hop_out) in signal.chunks_exact(HOP).zip(out.chunks_exact_mut(HOP)) {
            a.push(hop_in.try_into().unwrap(), &mut spec);
            apply_mask(&mut spec, &[1.0; BINS]);
            s.push(&spec, hop_out.try_into().unwrap());
        }
        for i in HOP..HOP * 6 {
            assert!((out[i] - signal[i - HOP]).abs() < 1e-5, "sample {i}");
        }
    }

    #[test]
    fn features_are_log_power() {
        let mut spec = [Complex32::new(0.0, 0.0); BINS];
        spec[3] = Complex32::new(3.0, 4.0);
        let mut f = [0.0f32; N_FEATURES];
        features(&spec, &mut f);
        assert!((f[3] - 25.0f32.ln()).abs() < 1e-3);
        assert!((f[0] - POWER_FLOOR.ln()).abs() < 1e-2, "{} vs {}", f[0], POWER_FLOOR.ln());
    }
}
