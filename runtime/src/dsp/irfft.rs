//! The synthesis's inverse real FFT: the `FRAME` real samples of a one-sided spectrum
//! (`FRAME/2 + 1` bins) from one complex FFT of `FRAME/2` points, the transform the analysis's
//! real FFT already runs on. Half the work of a full-length inverse complex FFT, and no code of
//! its own in flash beside the analysis's.
//!
//! With N = `FRAME`, M = N/2 and W = e^(2πi/N), the even and odd samples of x = IFFT_N(X) are the
//! length-M inverse transforms of E[k]/2 and O[k]/2, where (k = 0..M; X[M] is the Nyquist bin)
//!
//! ```text
//! E[k] = X[k] + conj(X[M−k]),    O[k] = (X[k] − conj(X[M−k]))·W^k.
//! ```
//!
//! Both are spectra of real sequences, so one transform of Z = E + i·O holds them both:
//! z = IFFT_M(Z/2) has x[2m] = Re z[m] and x[2m+1] = Im z[m]. The forward transform computes it
//! as z = conj(FFT_M(conj(Z)/N)). E and O at k and M−k come from the same two bins
//! (E[M−k] = conj(E[k]), O[M−k] = conj(O[k])), so the bins are read in pairs. The twiddles come
//! from the window: it is sin(πn/N), so sin(2πk/N) = window[2k] and cos(2πk/N) = window[N/2 − 2k].

use super::fft::{bit_reversed, dit, split_twiddles};
use super::{Bins, Complex32, FrameSize, Hop};

/// `FFT_M(conj(Z)/N)` of `spec` (see the module): entry m is `(x[2m], −x[2m+1])` of the frame.
/// The imaginary parts of the DC and Nyquist bins are ignored, as the real part of a full-length
/// inverse transform ignores them.
pub(super) fn irfft_pairs<'a, Z: FrameSize>(
    spec: &Bins<Z, Complex32>,
    half: &'a mut Hop<Z, Complex32>,
) -> &'a Hop<Z, Complex32> {
    let x = spec.as_ref();
    let (m, q) = (Z::HOP, Z::HOP / 2);
    let inv = 1.0 / Z::FRAME as f32; // a power of two: scaling by it is exact
    let re = |k: usize| x.get(k).map_or(0.0, |c| c.re);
    let (dc, nyquist) = (re(0), re(m));
    let mid = x.get(q).copied().unwrap_or_default();
    // Each entry goes straight to its bit-reversed place, the order the transform takes.
    let z = half.as_mut();
    let mut put = |k: usize, v: Complex32| {
        if let Some(p) = z.get_mut(bit_reversed(k, m)) {
            *p = v;
        }
    };
    // Z[0] = (dc + nyquist) + i·(dc − nyquist); written as conj(Z[0])/N like every entry
    put(0, Complex32::new((dc + nyquist) * inv, (nyquist - dc) * inv));
    // W^q = i: conj(Z[q])/N = 2·X[q]/N
    put(q, mid * (2.0 * inv));
    let bins = x.get(1..q).unwrap_or_default().iter().zip(x.get(q + 1..m).unwrap_or_default().iter().rev());
    for (k, ((a, b), (s, c))) in (1..q).zip(bins.zip(split_twiddles::<Z>())) {
        let b = b.conj();
        let (e, d) = ((*a + b) * inv, (*a - b) * inv);
        let o = Complex32::new(d.re * c - d.im * s, d.re * s + d.im * c);
        put(k, Complex32::new(e.re - o.im, -(e.im + o.re)));
        put(m - k, Complex32::new(e.re + o.im, e.im - o.re));
    }
    dit::<Z>(half);
    half
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::{Array, Narrowband};
    use std::vec::Vec;

    /// The real part of the full-length inverse DFT, in f64.
    fn idft(spec: &[Complex32], n: usize) -> Vec<f64> {
        let bin = |k: usize| if k <= n / 2 { spec[k] } else { spec[n - k].conj() };
        (0..n)
            .map(|t| {
                let sum: f64 = (0..n)
                    .map(|k| {
                        let (c, th) = (bin(k), 2.0 * core::f64::consts::PI * (k * t) as f64 / n as f64);
                        f64::from(c.re) * th.cos() - f64::from(c.im) * th.sin()
                    })
                    .sum();
                sum / n as f64
            })
            .collect()
    }

    fn check<Z: FrameSize>(seed: u32) {
        let mut r = seed;
        let mut next = || {
            r = r.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (r >> 8) as f32 / (1u32 << 24) as f32 - 0.5
        };
        let mut spec = Bins::<Z, Complex32>::filled(Complex32::new(0.0, 0.0));
        for c in spec.as_mut() {
            *c = Complex32::new(next() * 40.0, next() * 40.0);
        }
        let want = idft(spec.as_ref(), Z::FRAME);
        let mut half = Hop::<Z, Complex32>::filled(Complex32::new(0.0, 0.0));
        let y = irfft_pairs::<Z>(&spec, &mut half);
        let got: Vec<f64> = y.as_ref().iter().flat_map(|c| [f64::from(c.re), -f64::from(c.im)]).collect();
        let err = got.iter().zip(&want).map(|(g, w)| (g - w).abs()).fold(0.0, f64::max);
        let peak = want.iter().map(|w| w.abs()).fold(0.0, f64::max);
        assert!(err < 2e-6 * peak.max(1.0), "{} points: max error {err} (peak {peak})", Z::FRAME);
    }

    #[test]
    fn matches_the_inverse_dft_with_dc_and_nyquist_imaginary_parts_ignored() {
        for seed in 0..4 {
            check::<Narrowband>(seed);
            #[cfg(feature = "wideband")]
            check::<crate::dsp::Wideband>(seed);
        }
    }
}
