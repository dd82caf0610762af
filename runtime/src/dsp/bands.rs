//! Band features and band gains (FORMAT.md, "Front end": features 1, output 1): a filterbank
//! `F` of `n_bands` rows over the bins of a frame size ([`FrameSize::BINS`]), stored in the
//! blob, maps the power spectrum to band energies, `ln(Σ_k F[b][k]·|X_k|² + POWER_FLOOR)`, and a gain per band back to a gain per
//! bin, `Σ_b F[b][k]·g_b`. The runtime reads `F`; it never computes one ([`mel_filterbank`],
//! with `std`, is what the trainer and the writer store).

use super::{Complex32, FrameSize, Narrowband, POWER_FLOOR, WIDEBAND_FRAME};
use crate::error::Error;
use crate::format::Weights;

/// A filterbank read in place from a tensor: `n_bands` rows of `bins` weights (129 or 257: a
/// frame size's [`FrameSize::BINS`]), f32 or f16.
#[derive(Debug, Clone, Copy)]
pub struct FilterBank<'a> {
    values: Weights<'a>,
    // u16: both at most 257, and the bank stays as large as a pipeline's layout assumes.
    n_bands: u16,
    bins: u16,
}

impl<'a> FilterBank<'a> {
    /// Wraps a tensor's values as `n_bands` rows of `bins` weights, `bins` the count over
    /// `n_bands`: 129 ([`Narrowband`]) or 257 ([`Wideband`](super::Wideband)), 1 ..= `bins` bands, f32 or f16
    /// values.
    pub fn new(values: Weights<'a>, n_bands: usize) -> Result<Self, Error> {
        if let Weights::Packed(_) = values {
            return Err(Error::KernelShape);
        }
        let count = values.count();
        let bins = count.checked_div(n_bands).unwrap_or(0);
        let bins_ok = bins == Narrowband::BINS || bins == WIDEBAND_FRAME / 2 + 1;
        if !bins_ok || !(1..=bins).contains(&n_bands) || count != n_bands * bins {
            return Err(Error::KernelShape);
        }
        // Both at most 257 (checked above).
        Ok(FilterBank { values, n_bands: n_bands as u16, bins: bins as u16 })
    }

    /// Bins per row: the frame size's [`FrameSize::BINS`].
    pub fn bins(&self) -> usize {
        usize::from(self.bins)
    }

    /// Rows (bands).
    pub fn n_bands(&self) -> usize {
        usize::from(self.n_bands)
    }

    /// `F[b][k]` (0 outside the bank).
    pub fn weight(&self, b: usize, k: usize) -> f32 {
        if k >= usize::from(self.bins) {
            return 0.0;
        }
        let i = b * usize::from(self.bins) + k;
        match self.values {
            Weights::F32(d) => {
                d.get(4 * i..4 * i + 4).map_or(0.0, |c| <[u8; 4]>::try_from(c).map_or(0.0, f32::from_le_bytes))
            }
            Weights::F16(d) => d
                .get(2 * i..2 * i + 2)
                .map_or(0.0, |c| <[u8; 2]>::try_from(c).map_or(0.0, |a| half::f16::from_le_bytes(a).to_f32())),
            Weights::Packed(_) => 0.0,
        }
    }

    /// The nonzero weights of band `b` as `(bin, weight)`.
    pub fn row(&self, b: usize) -> impl Iterator<Item = (usize, f32)> + '_ {
        (0..usize::from(self.bins)).map(move |k| (k, self.weight(b, k))).filter(|&(_, w)| w != 0.0)
    }
}

/// Band features: `out[b] = ln(Σ_k F[b][k]·|X_k|² + POWER_FLOOR)` for the bank's bands (libm's
/// `logf`, as [`super::features`]).
pub fn band_features(spec: &[Complex32], fb: &FilterBank<'_>, out: &mut [f32]) {
    for (b, o) in out.iter_mut().enumerate().take(fb.n_bands()) {
        let mut e = 0.0f32;
        for (k, w) in fb.row(b) {
            if let Some(s) = spec.get(k) {
                e += w * (s.re * s.re + s.im * s.im);
            }
        }
        *o = libm::logf(e + POWER_FLOOR);
    }
}

/// Gains per bin from gains per band: `bins[k] = Σ_b F[b][k]·bands[b]`.
pub fn band_gains(fb: &FilterBank<'_>, bands: &[f32], bins: &mut [f32]) {
    bins.fill(0.0);
    for (b, g) in bands.iter().enumerate().take(fb.n_bands()) {
        for (k, w) in fb.row(b) {
            if let Some(x) = bins.get_mut(k) {
                *x += w * g;
            }
        }
    }
}

/// Mel-spaced triangles (HTK mel scale, `2595·log10(1 + f/700)`) over the bins of the frame size
/// at `sample_rate` (129 at 8000 Hz, 257 at 16000 Hz; [`super::frame_at`]), centred from 0 Hz to Nyquist: band `b` is 1 at its centre and falls linearly to
/// 0 at its neighbours' centres, so every bin's weights sum to 1 (an all-ones band gain is an
/// all-ones bin gain). Row-major `n_bands × bins`; `n_bands` ≥ 2.
#[cfg(feature = "std")]
pub fn mel_filterbank(sample_rate: u32, n_bands: usize) -> alloc::vec::Vec<f32> {
    let mel = |f: f64| 2595.0 * (1.0 + f / 700.0).log10();
    let hz = |m: f64| 700.0 * (10f64.powf(m / 2595.0) - 1.0);
    let nyquist = f64::from(sample_rate) / 2.0;
    let last = (n_bands.max(2) - 1) as f64;
    let bins = super::frame_at(sample_rate).unwrap_or(super::FRAME) / 2 + 1;
    // Centres in bins (fractional), 0 ..= bins − 1.
    let top = (bins - 1) as f64;
    let centre = |b: usize| match b {
        0 => 0.0,
        b if b as f64 >= last => top, // exactly the last bin, whatever the rounding of mel/hz
        b => (hz(mel(nyquist) * b as f64 / last) / nyquist * top).clamp(0.0, top),
    };
    let mut fb = alloc::vec![0.0f32; n_bands * bins];
    for (b, row) in fb.chunks_exact_mut(bins).enumerate() {
        let c = centre(b);
        let lo = if b == 0 { c } else { centre(b - 1) };
        let hi = if b + 1 == n_bands { c } else { centre(b + 1) };
        for (k, w) in row.iter_mut().enumerate() {
            let k = k as f64;
            let v = if k < c {
                if k > lo {
                    (k - lo) / (c - lo)
                } else {
                    0.0
                }
            } else if k > c {
                if k < hi {
                    (hi - k) / (hi - c)
                } else {
                    0.0
                }
            } else {
                1.0
            };
            *w = v as f32;
        }
    }
    fb
}

#[cfg(all(test, feature = "std"))]
mod tests {
    #![allow(clippy::indexing_slicing, clippy::unwrap_used)]
    use super::*;
    use crate::dsp::BINS;

    fn bank_bytes(fb: &[f32]) -> alloc::vec::Vec<u8> {
        fb.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    #[test]
    fn mel_bank_is_a_partition_of_unity_with_every_band_used() {
        for (rate, n) in [(8000, 32), (8000, 22), (16000, 32)] {
            let fb = mel_filterbank(rate, n);
            let bins = crate::dsp::frame_at(rate).unwrap() / 2 + 1;
            assert_eq!(fb.len(), n * bins);
            for k in 0..bins {
                let s: f32 = (0..n).map(|b| fb[b * bins + k]).sum();
                assert!((s - 1.0).abs() < 1e-5, "{rate} Hz, {n} bands, bin {k}: {s}");
            }
            for b in 0..n {
                assert!(fb[b * bins..(b + 1) * bins].iter().any(|&w| w > 0.0), "band {b} covers no bin");
            }
        }
    }

    #[test]
    fn band_features_and_gains_follow_their_formulas() {
        let fb = mel_filterbank(8000, 24);
        let bytes = bank_bytes(&fb);
        let bank = FilterBank::new(Weights::F32(&bytes), 24).unwrap();
        let spec: [Complex32; BINS] =
            core::array::from_fn(|k| Complex32::new((k as f32 * 0.37).sin(), (k as f32 * 0.11).cos() * 0.5));
        let mut f = [0.0f32; 24];
        band_features(&spec, &bank, &mut f);
        for b in 0..24 {
            let e: f64 = (0..BINS)
                .map(|k| f64::from(fb[b * BINS + k]) * f64::from(spec[k].re * spec[k].re + spec[k].im * spec[k].im))
                .sum();
            assert!((f64::from(f[b]) - (e + 1e-7).ln()).abs() < 1e-5, "band {b}");
        }
        let mut bins = [0.0f32; BINS];
        band_gains(&bank, &[1.0; 24], &mut bins);
        assert!(bins.iter().all(|g| (g - 1.0).abs() < 1e-5), "unit band gains give unit bin gains");
        assert!(FilterBank::new(Weights::F32(&bytes), 23).is_err(), "a count that is not n_bands·BINS");
    }
}
