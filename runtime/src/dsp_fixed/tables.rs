//! Constant tables of the integer front end, all computed at compile time (f64 `const fn`s, the
//! same Taylor-series idea as `dsp::WINDOW`), so they live in flash and cost no start-up time.
#![allow(clippy::indexing_slicing)] // const fns: an out-of-range index fails the build, not the chip

use crate::dsp::FRAME;
use core::f64::consts::{LN_2, PI};

/// Complex points of the half-length FFT that computes the 256-point real FFT.
pub(super) const N: usize = FRAME / 2;

use crate::dsp::const_sin;

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

/// Square-root periodic Hann window in Q31 (1.0 saturates to `i32::MAX`), as sample pairs
/// `(w[2n], w[2n+1])`: the analysis packs two real samples into one complex point. Q31 rather
/// than Q15: a Q15 window alone would cost ~97 dB of SNR against `dsp::WINDOW`.
pub(super) static WINDOW_Q31: [[i32; 2]; N] = window_pairs();

const fn window_pairs() -> [[i32; 2]; N] {
    let mut w = [[0i32; 2]; N];
    let mut i = 0;
    while i < FRAME {
        // sqrt(0.5 − 0.5·cos(2πi/N)) = sin(πi/N), as in dsp::WINDOW.
        let v = const_sin(PI * i as f64 / FRAME as f64) * 2147483648.0;
        w[i / 2][i % 2] = round_clamp(v, 0, i32::MAX as i64) as i32;
        i += 1;
    }
    w
}

/// One twiddle `W₂₅₆^k = c − j·s` with `c = cos(2πk/256)`, `s = sin(2πk/256)`, both Q31
/// (1.0 saturates to `i32::MAX`).
#[derive(Clone, Copy)]
pub(super) struct Twiddle {
    pub c: i32,
    pub s: i32,
}

/// `W₂₅₆^k` for k in 0..128: the 128-point FFT uses the even ones, the real-FFT split all.
pub(super) static TWIDDLES: [Twiddle; N] = twiddles();

const fn twiddles() -> [Twiddle; N] {
    let mut t = [Twiddle { c: 0, s: 0 }; N];
    let mut k = 0;
    while k < N {
        let a = 2.0 * PI * k as f64 / FRAME as f64;
        let q31 = 2147483648.0;
        let lim = i32::MAX as i64;
        t[k] = Twiddle {
            c: round_clamp(const_sin(a + PI / 2.0) * q31, -lim - 1, lim) as i32,
            s: round_clamp(const_sin(a) * q31, -lim - 1, lim) as i32,
        };
        k += 1;
    }
    t
}

/// 7-bit bit reversal: the decimation-in-time FFT reads its input, and the
/// decimation-in-frequency FFT leaves its output, in this order.
pub(super) static BITREV: [u8; N] = bitrev();

const fn bitrev() -> [u8; N] {
    let mut t = [0u8; N];
    let mut i = 0;
    while i < N {
        let (mut r, mut b) = (0usize, 0);
        while b < 7 {
            r |= ((i >> b) & 1) << (6 - b);
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
