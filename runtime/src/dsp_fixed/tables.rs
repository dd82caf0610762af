//! Constant tables of the integer front end, all computed at compile time (f64 `const fn`s, the
//! same Taylor-series idea as `dsp::WINDOW`), so they live in flash and cost no start-up time.
#![allow(clippy::indexing_slicing)] // const fns: an out-of-range index fails the build, not the chip

#[cfg(feature = "wideband")]
use crate::dsp::Wideband;
use crate::dsp::{const_sin, FrameSize, Hop, Narrowband};
use core::f64::consts::{LN_2, PI};
/// One twiddle `W_F^k = c − j·s` with `c = cos(2πk/F)`, `s = sin(2πk/F)` (F the frame), both
/// Q31 (1.0 saturates to `i32::MAX`); three of them for one radix-4 butterfly.
pub use diffq_simd32::{Twiddle, Twiddle3};

/// `ln(y)` for y in [1, 2]: `2·atanh(t)`, t = (y − 1)/(y + 1) ≤ 1/3.
const fn const_ln(y: f64) -> f64 {
    let t = (y - 1.0) / (y + 1.0);
    let (mut p, mut sum, mut n) = (t, 0.0, 0u32);
    while n < 40 {
        sum += p / (2 * n + 1) as f64;
        p *= t * t;
        n += 1;
    }
    2.0 * sum
}

/// Nearest integer (ties away from zero), saturated to `[lo, hi]`.
const fn round_clamp(v: f64, lo: i64, hi: i64) -> i64 {
    let r = if v >= 0.0 { (v + 0.5) as i64 } else { (v - 0.5) as i64 };
    if r < lo {
        lo
    } else if r > hi {
        hi
    } else {
        r
    }
}

/// The integer front end's tables for one frame size, with `N = FRAME/2` complex points of the
/// half-length FFT that computes the real FFT: [`Narrowband`] (N = 128) and [`Wideband`]
/// (N = 256), each in flash.
pub trait FixedSize: FrameSize {
    /// Square-root periodic Hann window in Q31 (1.0 saturates to `i32::MAX`), as sample pairs
    /// `(w[2n], w[2n+1])`: the analysis packs two real samples into one complex point. Q31
    /// rather than Q15: a Q15 window alone would cost ~97 dB of SNR against `dsp::WINDOW`.
    /// Its even samples are also the twiddles of the FFT's radix-2 pass and of the real-FFT
    /// split (`quarter_twiddles`), which therefore need no table of their own.
    fn window_q31() -> &'static Hop<Self, [i32; 2]>;
    /// `log2(N)`-bit bit reversal: the decimation-in-time FFT reads its input, and the
    /// decimation-in-frequency FFT leaves its output, in this order.
    fn bitrev() -> &'static Hop<Self, u8>;
    /// The twiddles of the FFT's radix-4 passes of lengths `4Q` = 16, 64 (and 256 at N = 256),
    /// one pass after the other, in the order the pass reads them: `(W^j, W^2j, W^3j)`,
    /// `W = W_4Q`, for j in 0..Q.
    fn radix4_twiddles() -> &'static [Twiddle3];
}

macro_rules! fixed_size {
    ($size:ty, $n:expr, $window:ident, $bitrev:ident, $radix4:ident, $passes:expr) => {
        static $window: [[i32; 2]; $n] = window_pairs::<$n>();
        static $bitrev: [u8; $n] = bitrev::<$n>();
        static $radix4: [Twiddle3; $passes] = radix4_twiddles::<{ $passes }>();

        impl FixedSize for $size {
            #[inline(always)]
            fn window_q31() -> &'static [[i32; 2]; $n] {
                &$window
            }
            #[inline(always)]
            fn bitrev() -> &'static [u8; $n] {
                &$bitrev
            }
            #[inline(always)]
            fn radix4_twiddles() -> &'static [Twiddle3] {
                &$radix4
            }
        }
    };
}

fixed_size!(Narrowband, 128, WINDOW_Q31_256, BITREV_256, RADIX4_256, 4 + 16);
#[cfg(feature = "wideband")]
fixed_size!(Wideband, 256, WINDOW_Q31_512, BITREV_512, RADIX4_512, 4 + 16 + 64);

/// The window of [`FixedSize::window_q31`] for `N` pairs (frame `2N`).
const fn window_pairs<const N: usize>() -> [[i32; 2]; N] {
    let mut w = [[0i32; 2]; N];
    let mut i = 0;
    while i < 2 * N {
        // sqrt(0.5 − 0.5·cos(2πi/F)) = sin(πi/F), as in dsp::WINDOW.
        let v = const_sin(PI * i as f64 / (2 * N) as f64) * 2147483648.0;
        w[i / 2][i % 2] = round_clamp(v, 0, i32::MAX as i64) as i32;
        i += 1;
    }
    w
}

/// `W_frame^k = c − j·s`, both Q31.
pub(super) const fn twiddle(k: usize, frame: usize) -> Twiddle {
    let a = 2.0 * PI * k as f64 / frame as f64;
    let q31 = 2147483648.0;
    let lim = i32::MAX as i64;
    Twiddle {
        c: round_clamp(const_sin(a + PI / 2.0) * q31, -lim - 1, lim) as i32,
        s: round_clamp(const_sin(a) * q31, -lim - 1, lim) as i32,
    }
}

/// `W_F^k` for k in 0..N/2 (a quarter turn), read from the window (`F = 2N`, `w[i] =
/// sin(πi/F)`): `s = sin(2πk/F) = w[2k]` and `c = cos(2πk/F) = w[2k + F/2]`, the even samples of
/// its first and second quarter. Equal, value for value, to [`twiddle`]'s rounding of the same
/// angles (tested).
#[inline(always)]
pub(super) fn quarter_twiddles<Z: FixedSize>() -> impl Iterator<Item = Twiddle> {
    let (sines, cosines) = Z::window_q31().as_ref().split_at(Z::HOP / 2);
    sines.iter().zip(cosines).map(|(s, c)| Twiddle { c: c[0], s: s[0] })
}

/// `W_F^(N/2 + k) = −j·W_F^k` (a quarter turn on): `c = −s_k`, `s = c_k`.
#[inline(always)]
pub(super) fn quarter_on(w: Twiddle) -> Twiddle {
    Twiddle { c: -w.s, s: w.c }
}

/// The twiddles of [`FixedSize::radix4_twiddles`], `LEN` of them (`LEN` = 4 + 16 (+ 64)).
const fn radix4_twiddles<const LEN: usize>() -> [Twiddle3; LEN] {
    let zero = Twiddle { c: 0, s: 0 };
    let mut t = [Twiddle3 { w1: zero, w2: zero, w3: zero }; LEN];
    let (mut q, mut i) = (4, 0);
    while i < LEN {
        let mut j = 0;
        while j < q {
            t[i] = Twiddle3 { w1: twiddle(j, 4 * q), w2: twiddle(2 * j, 4 * q), w3: twiddle(3 * j, 4 * q) };
            (i, j) = (i + 1, j + 1);
        }
        q *= 4;
    }
    t
}

/// The bit reversal of [`FixedSize::bitrev`] for `N` points (a power of two up to 256).
const fn bitrev<const N: usize>() -> [u8; N] {
    let bits = N.trailing_zeros();
    let mut t = [0u8; N];
    let mut i = 0;
    while i < N {
        let (mut r, mut b) = (0usize, 0);
        while b < bits {
            r |= ((i >> b) & 1) << (bits - 1 - b);
            b += 1;
        }
        t[i] = r as u8;
        i += 1;
    }
    t
}

/// Entries of the log2 table over the mantissa [1, 2).
pub(super) const LOG2_STEPS: usize = 32;

/// `log2(1 + i/32)` in Q16 for i in 0..=32 (linear interpolation between entries: < 2e-4 error).
pub(super) static LOG2_Q16: [i32; LOG2_STEPS + 1] = log2_table();

const fn log2_table() -> [i32; LOG2_STEPS + 1] {
    let mut t = [0i32; LOG2_STEPS + 1];
    let mut i = 0;
    while i <= LOG2_STEPS {
        let y = 1.0 + i as f64 / LOG2_STEPS as f64;
        t[i] = round_clamp(const_ln(y) / LN_2 * 65536.0, 0, 65536) as i32;
        i += 1;
    }
    t
}
