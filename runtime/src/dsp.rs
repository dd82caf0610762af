//! The STFT front end shared by the trainer and the firmware, so the model sees the same
//! numbers on the desk and on the chip: frames of 32 ms, hop 16 ms, square-root Hann windows for
//! analysis and synthesis (their product sums to 1 at 50% overlap, so an all-ones mask
//! reconstructs the input exactly, one hop late), at one of two sizes ([`FrameSize`]):
//! [`Narrowband`] (8 kHz, 256-sample frames, the default) or [`Wideband`] (16 kHz, 512).

pub use num_complex::Complex32;

mod bands;
mod fft;
mod irfft;
mod size;
#[cfg(feature = "std")]
pub use bands::mel_filterbank;
pub use bands::{band_features, band_gains, FilterBank};
#[cfg(feature = "wideband")]
pub use size::Wideband;
pub use size::{frame_at, window_value, Array, Bins, FrameSize, Hop, Narrowband, WIDEBAND_FRAME, WINDOW};

/// Sample rate of the default front end ([`Narrowband`]).
pub const SAMPLE_RATE: u32 = Narrowband::SAMPLE_RATE;
/// STFT frame length of the default front end (32 ms).
pub const FRAME: usize = Narrowband::FRAME;
/// Hop between frames of the default front end (16 ms): one model step per hop.
pub const HOP: usize = Narrowband::HOP;
/// One-sided spectrum bins of the default front end, DC through Nyquist.
pub const BINS: usize = Narrowband::BINS;
/// Model input of the default front end: log power of bins 0..128 (Nyquist dropped so widths
/// stay multiples of 16).
pub const N_FEATURES: usize = Narrowband::N_FEATURES;
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

/// Streaming analysis: keeps the previous hop, windows `[previous, current]`, real FFT.
#[derive(Clone)]
pub struct Analyzer<Z: FrameSize = Narrowband> {
    prev: Hop<Z, f32>,
}

impl Analyzer {
    /// An 8 kHz analyzer whose previous hop is silence: the start of a stream (any size:
    /// [`Analyzer::default`]).
    pub const fn new() -> Self {
        Analyzer { prev: [0.0; HOP] }
    }
}

impl<Z: FrameSize> Default for Analyzer<Z> {
    fn default() -> Self {
        Analyzer { prev: Array::filled(0.0) }
    }
}

impl<Z: FrameSize> Analyzer<Z> {
    /// Takes the next `HOP` samples and writes the spectrum of the frame ending with them.
    pub fn push(&mut self, hop: &Hop<Z, f32>, spec: &mut Bins<Z, Complex32>) {
        // The frame is [previous hop, this hop], windowed as the FFT reads each pair of samples:
        // w[j] for the first half, w[FRAME − j] (the window's half read backwards) for the second.
        let (w, prev, f) = (Z::window().as_ref(), self.prev.as_ref(), Z::FRAME);
        let pair = |x: &[f32], i: usize, wa: usize, wb: usize| match (x.get(i..i + 2), w.get(wa), w.get(wb)) {
            (Some(&[a, b]), Some(wa), Some(wb)) => Complex32::new(a * *wa, b * *wb),
            _ => Complex32::default(),
        };
        let point = |m: usize| {
            let j = 2 * m;
            if j < Z::HOP {
                pair(prev, j, j, j + 1)
            } else {
                pair(hop.as_ref(), j - Z::HOP, f - j, f - j - 1)
            }
        };
        let mut half = Z::Hop::<Complex32>::filled(Complex32::new(0.0, 0.0));
        fft::rfft::<Z>(point, &mut half, spec);
        self.prev = *hop;
    }
}

/// Model input features: `ln(|X_k|² + POWER_FLOOR)` for the first `out.len()` bins.
pub fn features(spec: &[Complex32], out: &mut [f32]) {
    for (o, s) in out.iter_mut().zip(spec.iter()) {
        // libm's logf by path: std's inherent `ln` could differ from the chip's. (micromath's
        // fast ln was measured 0.1 off at the floor: too coarse for features.)
        *o = libm::logf(s.re * s.re + s.im * s.im + POWER_FLOOR);
    }
}

/// `|X_k|` of every bin.
pub fn magnitudes(spec: &[Complex32], out: &mut [f32]) {
    for (o, s) in out.iter_mut().zip(spec.iter()) {
        *o = libm::sqrtf(s.re * s.re + s.im * s.im);
    }
}

/// Multiplies each bin by its gain.
pub fn apply_mask(spec: &mut [Complex32], mask: &[f32]) {
    for (s, g) in spec.iter_mut().zip(mask.iter()) {
        *s *= *g;
    }
}

/// Streaming synthesis: inverse FFT, synthesis window, overlap-add.
#[derive(Clone)]
pub struct Synthesizer<Z: FrameSize = Narrowband> {
    tail: Hop<Z, f32>,
}

impl Synthesizer {
    /// An 8 kHz synthesizer with nothing to overlap-add yet: the start of a stream (any size:
    /// [`Synthesizer::default`]).
    pub const fn new() -> Self {
        Synthesizer { tail: [0.0; HOP] }
    }
}

impl<Z: FrameSize> Default for Synthesizer<Z> {
    fn default() -> Self {
        Synthesizer { tail: Array::filled(0.0) }
    }
}

impl<Z: FrameSize> Synthesizer<Z> {
    /// Consumes one frame's spectrum and emits the next `HOP` finished output samples.
    pub fn push(&mut self, spec: &Bins<Z, Complex32>, out: &mut Hop<Z, f32>) {
        let mut half = Z::Hop::<Complex32>::filled(Complex32::new(0.0, 0.0));
        // Entry m is (x[2m], −x[2m+1]) of the frame.
        let pairs: &[Complex32] = irfft::irfft_pairs::<Z>(spec, &mut half).as_ref();
        let (first, second) = pairs.split_at(Z::HOP / 2);
        let w = Z::window().as_ref();
        let (w1, w2) = (w.get(..Z::HOP).unwrap_or_default(), w.get(1..).unwrap_or_default());
        let outs = out.as_mut().chunks_exact_mut(2).zip(self.tail.as_ref().chunks_exact(2));
        for ((o, t), (x, w)) in outs.zip(first.iter().zip(w1.chunks_exact(2))) {
            if let ([o0, o1], [t0, t1], [w0, w1]) = (o, t, w) {
                *o0 = *t0 + x.re * *w0;
                *o1 = *t1 - x.im * *w1;
            }
        }
        // (w[HOP + 2m], w[HOP + 2m + 1]) = (w[HOP − 2m], w[HOP − 2m − 1]): pairs of w[1..=HOP]
        // from its end, each reversed.
        for (t, (x, w)) in self.tail.as_mut().chunks_exact_mut(2).zip(second.iter().zip(w2.rchunks_exact(2))) {
            if let ([t0, t1], [w1, w0]) = (t, w) {
                *t0 = x.re * *w0;
                *t1 = -(x.im * *w1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The mirrored half equals the window computed at every index (as before it was halved).
    fn assert_window_mirrors<Z: FrameSize>() {
        for i in 0..Z::FRAME {
            let direct = const_sin(core::f64::consts::PI * i as f64 / Z::FRAME as f64) as f32;
            assert_eq!(window_value::<Z>(i).to_bits(), direct.to_bits(), "w[{i}] of {}", Z::FRAME);
        }
    }

    #[test]
    fn window_is_sqrt_hann_and_cola() {
        let w = window_value::<Narrowband>;
        assert_eq!(WINDOW.len(), FRAME / 2 + 1);
        assert_eq!(w(0), 0.0);
        assert!((w(FRAME / 2) - 1.0).abs() < 1e-7);
        for i in 0..HOP {
            let s = w(i) * w(i) + w(i + HOP) * w(i + HOP);
            assert!((s - 1.0).abs() < 1e-6, "{i}: {s}");
        }
        assert_window_mirrors::<Narrowband>();
        #[cfg(feature = "wideband")]
        assert_window_mirrors::<Wideband>();
        assert_eq!((w(FRAME), w(usize::MAX)), (0.0, 0.0));
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
