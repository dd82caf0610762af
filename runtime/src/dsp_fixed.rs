//! The STFT front end in integers only, for cores without an FPU (RV32IMAC, Cortex-M0+): the
//! same framing as [`crate::dsp`] (square-root Hann analysis and synthesis windows, at either
//! frame size: [`Narrowband`], 8 kHz, 256-sample frames, hop 128, 129 bins, the default, or
//! [`Wideband`](crate::dsp::Wideband), 16 kHz, 512, 256, 257: [`FixedSize`]), with i16 PCM in and
//! out, int8 features for [`Model::step_i8`](crate::Model::step_i8) and its int8 mask back.
//!
//! * Analysis: the frame `[previous hop, hop]` is windowed (Q31 table), shifted by one block exponent
//!   so that its largest sample uses the full `i32` headroom (quiet speech keeps its precision),
//!   and transformed by a real FFT of the frame (one complex FFT of half its length, `i32` data,
//!   Q31 twiddles, radix-4 passes with ×½ per radix-2 stage, the first fused with the windowing,
//!   then a split pass).
//! * Features: `q_k = clamp(round(ln(|X_k|² + POWER_FLOOR) / input_scale), −127, 127)` with
//!   `X_k` the spectrum of the samples / 32768, exactly what [`dsp::features`](crate::dsp::features)
//!   computes on the f32 path; the power is formed in `u64` at a fixed Q40 scale (the block
//!   exponent folded in), its log2 from the leading-zero count and a 33-entry table, and
//!   `ln 2 / input_scale` is one multiplier and shift computed at construction.
//! * Synthesis: mask `q_k` means gain `q_k · output_scale` (one Q23 multiplier from
//!   construction; gains in Q15, clamped to ±2.0), then a second block normalisation, the
//!   inverse real FFT (its last pass fused with the synthesis window), overlap-add, and i16
//!   output with saturation.
//!
//! No floating point anywhere (even the two scales are decoded from their bits, so no soft-float
//! routine is linked), nothing allocates, and every operation is exact integer arithmetic: the
//! host computes the same bits as RV32 and Cortex-M (the firmware's bit-exact reference).
//!
//! Footprint of the 8 kHz front end (release, `opt-level = 3`, LTO; QEMU `-icount` counts
//! instructions, not cycles):
//!
//! | target | instructions per hop (analysis and features + mask and synthesis) | code | tables | RAM | stack |
//! |---|---|---|---|---|---|
//! | RV32IMAC | 22.7k + 16.2k = 39k (8% of 32 MHz × 16 ms) | 4.3 KB | 2.8 KB | 1560 B | ≤ 80 B |
//! | ARMv6-M (Cortex-M0/M0+) | ≈ 82k + 71k = 153k | 7.1 KB | 2.8 KB | 1560 B | ≤ 176 B |
//!
//! RAM is the struct alone (`size_of::<FixedFrontEnd>()`): the spectrum kept between the
//! calls (1 KiB), the previous hop (and its magnitude scan) and the overlap-add tail; about
//! twice that at 16 kHz.
//!
//! [`crate::pipeline::I8Denoiser`] runs it with the model, one hop at a time.

mod bands;
mod fft;
mod pairs;
mod tables;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod unit_tests;
#[cfg(all(test, feature = "wideband"))]
mod wide_tests;

use crate::dsp::{Array, Hop, Narrowband, POWER_FLOOR};
use fft::{mulh, wide_mul, Cpx};
use pairs::{overlap_add, window_quarters, windowed_pair, windowed_pairs};
pub use tables::FixedSize;
use tables::{LOG2_Q16, LOG2_STEPS};

/// `POWER_FLOOR` is held as `FLOOR_Q40 · 2^−40`.
const POWER_FRAC_BITS: i32 = 40;
/// `POWER_FLOOR · 2^40` (≈ 109951).
const FLOOR_Q40: u64 = (POWER_FLOOR as f64 * (1u64 << POWER_FRAC_BITS) as f64 + 0.5) as u64;
/// Fractional bits of the `output_scale` multiplier (the gain is `(q · G) >> 8` in Q15).
const GAIN_MUL_BITS: u32 = 23;
/// Largest gain magnitude, Q15 (just under 2.0): keeps the masked spectrum inside `i32`.
const MAX_GAIN_Q15: i32 = 65535;
/// Block normalisation of a work area that `apply_mask` has not normalised (components below
/// 2^30): shifting down by 2 keeps them below 2^28, so stages called out of order give wrong
/// audio but never overflow.
const UNMASKED_NORM: i32 = -2;

/// Integer analysis (features) and synthesis (mask, inverse FFT, overlap-add) for one stream.
/// Per hop, in this order: [`analyze`](Self::analyze), [`features`](Self::features), the model,
/// [`apply_mask`](Self::apply_mask), [`synthesize`](Self::synthesize); the spectrum waits in the
/// struct between the calls (`diffq_runtime::pipeline::I8Denoiser` makes the calls).
#[derive(Clone)]
pub struct FixedFrontEnd<Z: FixedSize = Narrowband> {
    /// Spectrum of the current frame (slot 0: DC in `re`, Nyquist in `im`); FFT work area.
    spec: Hop<Z, Cpx>,
    prev: Hop<Z, i16>,
    /// OR over `prev` of `x ^ (x >> 31)` (|x|, less 1 below 0): half of the next frame's scan.
    prev_or: i32,
    tail: Hop<Z, i16>,
    /// Block exponent `s` of `spec`: the spectrum of the samples/32768 is `spec · 2^−(30−L+s)`
    /// with `L = log2(FRAME)` (8 or 9).
    exp: i32,
    /// `ln 2 / input_scale ≈ log_mul · 2^−k`, `log_mul` in `[2^30, 2^31)` (0: no scale).
    log_mul: i32,
    /// `k − 6` (the Q16 of the log and a 2^10 pre-shift), clamped to 1..=31: beyond, every
    /// nonzero feature saturates (scales under ~1e−10) or rounds to 0 (over ~1e7).
    q_shift: u32,
    /// `round(output_scale · 2^23)`, clamped to `±2^23`.
    gain_mul: i32,
    /// Block normalisation `s2` of the masked spectrum (set by `apply_mask`, used once by
    /// `synthesize`): synthesis shifts it up by `s2` (down by `−s2`).
    norm: i32,
}

impl FixedFrontEnd {
    /// The 8 kHz front end ([`Narrowband`]); any size: [`with_size`](FixedFrontEnd::with_size).
    pub fn new(input_scale: f32, output_scale: f32) -> Self {
        Self::with_size(input_scale, output_scale)
    }
}

impl<Z: FixedSize> FixedFrontEnd<Z> {
    /// `L = log2(FRAME)`: the FFT's ½ per stage puts the spectrum at `X · 2^(30−L+s)`.
    const LOG2_FRAME: i32 = Z::FRAME.trailing_zeros() as i32;

    /// `input_scale` and `output_scale` as [`Model::input_scale`](crate::Model::input_scale) and
    /// [`Model::output_scale`](crate::Model::output_scale) give them. They become fixed-point
    /// multipliers here, from their bits: no floating-point operation (nor soft-float routine)
    /// is ever linked. An input scale that is not finite and positive gives features 0; an
    /// output scale that is not finite gives gain 0.
    pub fn with_size(input_scale: f32, output_scale: f32) -> Self {
        let log_mul = log_multiplier(input_scale);
        FixedFrontEnd {
            spec: Array::filled(Cpx::default()),
            prev: Array::filled(0),
            prev_or: 0,
            tail: Array::filled(0),
            exp: 0,
            log_mul: log_mul.0,
            q_shift: log_mul.1.saturating_sub(6).clamp(1, 31),
            gain_mul: gain_multiplier(output_scale),
            norm: UNMASKED_NORM,
        }
    }

    /// Forget the past (the next hop starts a stream); keeps the scales.
    pub fn reset(&mut self) {
        self.spec = Array::filled(Cpx::default());
        self.prev = Array::filled(0);
        self.prev_or = 0;
        self.tail = Array::filled(0);
        self.exp = 0;
        self.norm = UNMASKED_NORM;
    }

    /// Analysis: takes the next hop of PCM and transforms the frame ending with it (the spectrum
    /// waits in the struct for [`features`](Self::features) and [`apply_mask`](Self::apply_mask)).
    ///
    /// The four stages are never inlined: each keeps the registers to itself (inlined into the
    /// caller's hop they cost ARMv6-M 1% more instructions per frame), and a benchmark that
    /// times them one by one times the code the firmware runs.
    #[inline(never)]
    pub fn analyze(&mut self, hop: &Hop<Z, i16>) {
        self.exp = self.load_frame(hop);
        self.prev = *hop;
        self.norm = UNMASKED_NORM;
        fft::dit_passes::<Z>(&mut self.spec);
        fft::split_forward::<Z>(&mut self.spec);
    }

    /// The model's int8 features (bins `0 .. features.len()`, at most `FRAME/2`) of the spectrum
    /// of the last [`analyze`](Self::analyze).
    #[inline(never)]
    pub fn features(&self, features: &mut [i8]) {
        let (floor, offset) = self.floor_and_offset();
        for (k, (f, s)) in features.iter_mut().zip(self.spec.as_ref().iter()).enumerate() {
            // Slot 0 packs the (real) DC and Nyquist bins: the feature of bin 0 is DC alone.
            let im = if k == 0 { 0 } else { s.im };
            *f = self.feature(log2_q16(power(s.re, im) + floor) - offset);
        }
    }

    /// Applies the model's mask to the spectrum of the last [`analyze`](Self::analyze):
    /// `mask[k]` means gain `mask[k] · output_scale` on bin k, `0 ..= FRAME/2` (gain 0 past the
    /// mask's end).
    #[inline(never)]
    pub fn apply_mask(&mut self, mask: &[i8]) {
        let gain_mul = self.gain_mul;
        self.apply_gains(|k| {
            mask.get(k).map_or(0, |q| gain_q15(*q, gain_mul).clamp(-MAX_GAIN_Q15, MAX_GAIN_Q15) << 15)
        });
    }

    /// The power floor and the log offset of the features, in the units of the current spectrum.
    fn floor_and_offset(&self) -> (u64, i32) {
        // |X_f|² = |spec|²·2^−(60−2L+2s) = |spec|²·2^−(40+t), t = 20 − 2L + 2s: the floor in spec
        // units is POWER_FLOOR·2^(40+t) = FLOOR_Q40·2^t, t in 0..=32 at 8 kHz (L = 8, s ≥ −2)
        // and −2..=30 at 16 kHz: below 2^50.
        let t = (2 * self.exp + 20 - 2 * Self::LOG2_FRAME).clamp(-2, 32);
        let floor = if t >= 0 { FLOOR_Q40 << t } else { FLOOR_Q40 >> -t };
        (floor, (POWER_FRAC_BITS + t) << 16)
    }

    /// Masks the spectrum with `gain_h(k)`, bin `k`'s gain in Q15 shifted up by 15 (clamped).
    #[inline(always)]
    fn apply_gains(&mut self, gain_h: impl Fn(usize) -> i32) {
        // Masking: Y = X·gain/4 (mulh by gain·2^15); OR of magnitudes for the block exponent.
        let g_nyq = gain_h(Z::BINS - 1);
        let mut bits = 0u32;
        for (k, s) in self.spec.as_mut().iter_mut().enumerate() {
            let g = gain_h(k);
            // Slot 0: DC (gain of bin 0) in re, Nyquist (gain of bin FRAME/2) in im.
            *s = Cpx { re: mulh(s.re, g), im: mulh(s.im, if k == 0 { g_nyq } else { g }) };
            bits |= s.re.unsigned_abs() | s.im.unsigned_abs();
        }
        // |Y| < 2^29; normalise so that every component is below 2^28: s2 in −1..=28.
        self.norm = 28 - (32 - bits.leading_zeros() as i32);
    }

    /// Synthesis: inverse FFT of the (masked) spectrum, synthesis window, overlap-add; writes the
    /// next hop of output: the input delayed by one hop where the mask is unity.
    #[inline(never)]
    pub fn synthesize(&mut self, out: &mut Hop<Z, i16>) {
        let s2 = core::mem::replace(&mut self.norm, UNMASKED_NORM);
        fft::split_inverse::<Z>(&mut self.spec, s2);
        fft::dif_passes::<Z>(&mut self.spec);
        // Time samples t = y_f·2^(28−L+s+s2) (y_f in units of full scale), out = y_f·w·2^15
        // = mulh(t, w_q31)·2^−(12−L+s+s2), rounded; 12−L+s+s2 ≥ 0 (≥ 1 at 8 kHz), and past 31
        // the result is 0 anyway.
        let sh = u32::try_from(12 - Self::LOG2_FRAME + self.exp + s2).unwrap_or(0).min(31);
        let (spec, n) = (self.spec.as_ref(), Z::HOP);
        // The FFT's last pass turns the quad at 4·rev(k) into the time pairs k, k + N/2, k + N/4
        // and k + 3N/4 (N = HOP pairs), as the analysis loads them.
        let [w0, w1, w2, w3] = window_quarters::<Z>();
        let (o0, o1) = out.as_mut().split_at_mut(n / 2);
        let (t0, t1) = self.tail.as_mut().split_at_mut(n / 2);
        let outs =
            o0.chunks_exact_mut(2).zip(t0.chunks_exact_mut(2)).zip(o1.chunks_exact_mut(2).zip(t1.chunks_exact_mut(2)));
        let wins = w0.iter().zip(w2).zip(w1.iter().zip(w3));
        for ((((o0, t0), (o1, t1)), ((w0, w2), (w1, w3))), r) in outs.zip(wins).zip(Z::bitrev().as_ref()) {
            let r = usize::from(*r);
            if let Some(&[a, b, c, d]) = spec.get(r..r + 4) {
                let [ya, yb, yc, yd] = fft::dif_quad([a, b, c, d]);
                overlap_add(o0, t0, windowed_pair(ya, w0, sh), windowed_pair(yb, w2, sh));
                overlap_add(o1, t1, windowed_pair(yc, w1, sh), windowed_pair(yd, w3, sh));
            }
        }
    }

    /// Windows `[prev, hop]` into `spec` (sample pairs as complex points, bit-reversed), shifted
    /// so that every component is in [−2^29, 2^29), and runs the FFT's first pass on them
    /// ([`fft::dit_quad`]); returns that shift `s` (−1..=14).
    fn load_frame(&mut self, hop: &Hop<Z, i16>) -> i32 {
        // `x ^ (x >> 31)` is |x| for x ≥ 0 and |x| − 1 below: −2^bits ≤ x < 2^bits, so
        // x << (30 − bits) is in [−2^30, 2^30) and mulh by the Q31 window (≤ 1) halves it: every
        // component ends in [−2^29, 2^29). In units of full scale, p = x_f·w·2^(30+s).
        let hop_or = hop.as_ref().iter().fold(0i32, |acc, x| {
            let x = i32::from(*x);
            acc | (x ^ (x >> 31))
        });
        let or = core::mem::replace(&mut self.prev_or, hop_or) | hop_or;
        let s = 14 - (32 - or.leading_zeros() as i32);
        let up = (s + 16) as u32; // 15..=30
        let n = Z::HOP;
        // The quad at 4·rev(k) holds the pairs k, k + N/2, k + N/4, k + 3N/4 (N = HOP pairs):
        // one from each quarter of the frame.
        let [w0, w1, w2, w3] = window_quarters::<Z>();
        let ((x0, x1), (x2, x3)) = (self.prev.as_ref().split_at(n / 2), hop.as_ref().split_at(n / 2));
        let spec = self.spec.as_mut();
        let quarter = |x, w| windowed_pairs(x, w, up);
        let pairs = quarter(x0, w0).zip(quarter(x2, w2)).zip(quarter(x1, w1)).zip(quarter(x3, w3));
        for (r, (((a, b), c), d)) in Z::bitrev().as_ref().iter().zip(pairs) {
            // rev(k) for k < N/4 is a multiple of 4 (the top two of its log2(N) bits are 0).
            let r = usize::from(*r);
            if let Some([qa, qb, qc, qd]) = spec.get_mut(r..r + 4) {
                [*qa, *qb, *qc, *qd] = fft::dit_quad([a, b, c, d]);
            }
        }
        s
    }

    /// int8 feature of one bin from `l2 = log2(|X_f|² + POWER_FLOOR)` in Q16:
    /// `ln(·) / input_scale = l2 · (ln 2 / input_scale)`.
    fn feature(&self, l2: i32) -> i8 {
        // |l2| < 2^21 (log2 of the power is in 16.7..62, minus 40 and the block exponent), so
        // mulh(l2·2^10, m) = floor(l2·m / 2^22) < 2^30; then round(· / 2^(k − 6)).
        let h = mulh(l2 << 10, self.log_mul);
        let q = (h + (1 << (self.q_shift - 1))) >> self.q_shift;
        crate::quant::clamp127(q)
    }
}

/// Mask byte `q` as a gain in Q15: `q · output_scale` (`gain_mul` = `output_scale·2^23`),
/// rounded, not clamped.
#[inline(always)]
fn gain_q15(q: i8, gain_mul: i32) -> i32 {
    (i32::from(q) * gain_mul + (1 << 7)) >> (GAIN_MUL_BITS - 15)
}

/// `(negative, m, e)` with `|x| = m·2^e` exactly, or `None` for infinities and NaN.
fn f32_parts(x: f32) -> Option<(bool, u32, i32)> {
    let bits = x.to_bits();
    let field = ((bits >> 23) & 0xFF) as i32;
    let frac = bits & 0x7F_FFFF;
    match field {
        0xFF => None,
        0 => Some((bits >> 31 != 0, frac, -149)),
        _ => Some((bits >> 31 != 0, frac | 0x80_0000, field - 150)),
    }
}

/// `(m, k)` with `ln 2 / input_scale ≈ m·2^−k`, `m` in `[2^30, 2^31)` (relative error < 2^−30);
/// `(0, 0)` unless the scale is finite and positive.
fn log_multiplier(input_scale: f32) -> (i32, u32) {
    const LN2_Q62: u64 = (core::f64::consts::LN_2 * (1u64 << 62) as f64) as u64; // compile time
    let Some((false, m @ 1.., e)) = f32_parts(input_scale) else {
        return (0, 0);
    };
    // ln2 / (m·2^e) = (ln2·2^62 / m) · 2^(−62−e), and ln2·2^62 / m ≥ 2^38 (m < 2^24).
    let q = crate::arith::div_u64_u32(LN2_Q62, m);
    let r = 33u32.saturating_sub(q.leading_zeros()); // q ≥ 2^37: q >> r is in [2^30, 2^31)
    let k = 62 + e - r as i32;
    match u32::try_from(k) {
        Ok(k) => ((q >> r) as i32, k), // truncation: relative error < 2^−30
        Err(_) => (i32::MAX, 0),       // scale below ~2^−32: every feature saturates anyway
    }
}

/// `round(output_scale · 2^23)`, clamped to `±2^23`; 0 unless finite.
fn gain_multiplier(output_scale: f32) -> i32 {
    const MAX: u32 = 1 << GAIN_MUL_BITS;
    let Some((neg, m, e)) = f32_parts(output_scale) else {
        return 0;
    };
    let sh = e + GAIN_MUL_BITS as i32;
    let v = if m == 0 {
        0
    } else if sh >= 0 {
        MAX // e ≥ −23 means a normal number: m ≥ 2^23, so m·2^sh ≥ MAX
    } else if sh <= -26 {
        0 // m < 2^24: rounds to 0
    } else {
        (m + (1 << (-sh - 1))) >> -sh
    };
    let v = v.min(MAX) as i32;
    if neg {
        -v
    } else {
        v
    }
}

/// `re² + im²` (components below 2^30, so the sum is below 2^61: the cast keeps it).
#[inline(always)]
fn power(re: i32, im: i32) -> u64 {
    (wide_mul(re, re) + wide_mul(im, im)) as u64
}

/// `log2(x)` in Q16 for x ≥ 1 (0 for 0): leading-zero count, then the 16 mantissa bits after
/// the leading one through [`LOG2_Q16`] with linear interpolation (error < 2e-4). 32-bit
/// operations only.
fn log2_q16(x: u64) -> i32 {
    let (hi, lo) = ((x >> 32) as u32, x as u32);
    // `top`: x shifted so that its leading one is bit 31; `e`: that one's position in x.
    let (top, e) = if hi != 0 {
        let n = clz32(hi);
        ((hi << n) | ((lo >> 1) >> (31 - n)), 63 - n)
    } else if lo != 0 {
        let n = clz32(lo);
        (lo << n, 31 - n)
    } else {
        return 0;
    };
    let frac = (top >> 15) & 0xFFFF;
    let idx = (frac >> 11) as usize; // 5 bits: LOG2_STEPS = 32
    let r = (frac & 0x7FF) as i32;
    let lo = LOG2_Q16.get(idx).copied().unwrap_or(0);
    let hi = LOG2_Q16.get(idx + 1).copied().unwrap_or(lo);
    const _: () = assert!(LOG2_STEPS == 1 << 5);
    ((e as i32) << 16) + lo + (((hi - lo) * r + (1 << 10)) >> 11)
}

/// Leading zeros of a 32-bit word: on cores without the instruction ([`crate::arith::COUNTS_ZEROS`])
/// a binary search (~12 instructions against ~25 for LLVM's generic expansion).
#[inline(always)]
fn clz32(x: u32) -> u32 {
    if crate::arith::COUNTS_ZEROS {
        x.leading_zeros()
    } else {
        clz32_by_search(x)
    }
}

#[inline(always)]
fn clz32_by_search(mut x: u32) -> u32 {
    if x == 0 {
        return 32;
    }
    let mut n = 0;
    for bits in [16, 8, 4, 2, 1] {
        if x >> (32 - bits) == 0 {
            n += bits;
            x <<= bits;
        }
    }
    n
}
