//! Band features and band gains in integers ([`crate::dsp::FilterBank`]; FORMAT.md, "Front
//! end"): each weight `F[b][k]` becomes `round(F·2^15)` (from its bits, no floating-point
//! operation), band energies are `Σ_k F_q15·|X_k|² >> 15` in `u128` (exact), and a bin's gain is
//! `Σ_b (F_q15·g_b + 2^14) >> 15` over the band gains `g_b` (Q15).

use super::{f32_parts, gain_q15, log2_q16, power, FixedFrontEnd, FixedSize, MAX_GAIN_Q15};
use crate::dsp::{Array, Bins, FilterBank};

/// `round(w · 2^15)` for a weight in `[0, 2]` (negative, NaN or larger weights: 0 or `2^16`).
fn q15(w: f32) -> u32 {
    match f32_parts(w) {
        Some((false, m, e)) => {
            let sh = e + 15;
            if m == 0 || sh <= -25 {
                0
            } else if sh >= 0 {
                (m << sh.min(8)).min(1 << 16)
            } else {
                ((m + (1 << (-sh - 1))) >> -sh).min(1 << 16)
            }
        }
        _ => 0,
    }
}

impl<Z: FixedSize> FixedFrontEnd<Z> {
    /// `|X_k|²` of bin `k` (`0 ..= FRAME/2`) in the units of [`features`](Self::features).
    fn bin_power(&self, k: usize) -> u64 {
        let spec = self.spec.as_ref();
        match k {
            0 => spec.first().map_or(0, |s| power(s.re, 0)),
            k if k == Z::BINS - 1 => spec.first().map_or(0, |s| power(s.im, 0)),
            k => spec.get(k).map_or(0, |s| power(s.re, s.im)),
        }
    }

    /// The model's int8 band features of the spectrum of the last [`analyze`](Self::analyze):
    /// `ln(Σ_k F[b][k]·|X_k|² + POWER_FLOOR) / input_scale`, rounded and clamped like
    /// [`features`](Self::features).
    #[inline(never)]
    pub fn band_features(&self, fb: &FilterBank<'_>, features: &mut [i8]) {
        let (floor, offset) = self.floor_and_offset();
        for (b, f) in features.iter_mut().enumerate().take(fb.n_bands()) {
            let mut e = 0u128;
            for (k, w) in fb.row(b) {
                e += u128::from(q15(w)) * u128::from(self.bin_power(k));
            }
            let e = u64::try_from(e >> 15).unwrap_or(u64::MAX);
            *f = self.feature(log2_q16(e.saturating_add(floor)) - offset);
        }
    }

    /// Applies a gain per band: `mask[b]` means gain `mask[b]·output_scale` on band `b`, spread
    /// over the bins by the bank (then as [`apply_mask`](Self::apply_mask)).
    #[inline(never)]
    pub fn apply_band_mask(&mut self, fb: &FilterBank<'_>, mask: &[i8]) {
        let mut gains = Bins::<Z, i32>::filled(0);
        let gains = gains.as_mut();
        for (b, q) in mask.iter().enumerate().take(fb.n_bands()) {
            let g = gain_q15(*q, self.gain_mul);
            for (k, w) in fb.row(b) {
                if let Some(x) = gains.get_mut(k) {
                    // q15(w) ≤ 2^16 and |g| < 2^16: the product stays inside i64 easily.
                    let t = (i64::from(q15(w)) * i64::from(g) + (1 << 14)) >> 15;
                    *x = x.saturating_add(t as i32);
                }
            }
        }
        self.apply_gains(|k| gains.get(k).map_or(0, |g| (*g).clamp(-MAX_GAIN_Q15, MAX_GAIN_Q15) << 15));
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    #![allow(clippy::indexing_slicing, clippy::unwrap_used)]
    use super::*;
    use crate::dsp::{mel_filterbank, BINS, HOP};
    use crate::format::Weights;

    #[test]
    fn q15_rounds_weights() {
        assert_eq!(q15(1.0), 1 << 15);
        assert_eq!(q15(0.5), 1 << 14);
        assert_eq!(q15(0.0), 0);
        assert_eq!(q15(-0.5), 0);
        assert_eq!(q15(f32::NAN), 0);
        assert_eq!(q15(3.0e-5), 1); // 0.983 of a step
        assert_eq!(q15(0.25 + 1.0 / 65536.0 * 0.49), 1 << 13);
    }

    #[test]
    fn band_features_follow_the_f32_front_end() {
        let fb = mel_filterbank(8000, 32);
        let bytes: alloc::vec::Vec<u8> = fb.iter().flat_map(|v| v.to_le_bytes()).collect();
        let bank = FilterBank::new(Weights::F32(&bytes), 32).unwrap();
        let scale = 0.1f32;
        let mut fe = FixedFrontEnd::new(scale, 1.0 / 127.0);
        let (mut a, mut spec) = (crate::dsp::Analyzer::new(), [crate::dsp::Complex32::new(0.0, 0.0); BINS]);
        let mut worst = 0i32;
        for h in 0..8 {
            let pcm: [i16; HOP] = core::array::from_fn(|i| {
                let t = (h * HOP + i) as f32;
                (8000.0 * (t * 0.21).sin() + 3000.0 * (t * 1.3).sin() + ((i * 7919 % 211) as f32 - 105.0) * 20.0) as i16
            });
            fe.analyze(&pcm);
            a.push(&core::array::from_fn(|i| f32::from(pcm[i]) / 32768.0), &mut spec);
            let (mut qi, mut ff) = ([0i8; 32], [0.0f32; 32]);
            fe.band_features(&bank, &mut qi);
            crate::dsp::band_features(&spec, &bank, &mut ff);
            for b in 0..32 {
                let want = (ff[b] / scale).round().clamp(-127.0, 127.0) as i32;
                worst = worst.max((i32::from(qi[b]) - want).abs());
            }
        }
        assert!(worst <= 1, "integer band features differ from the f32 ones by {worst} steps");
    }
}
