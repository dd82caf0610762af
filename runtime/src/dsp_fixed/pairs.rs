//! Sample pairs between PCM and the FFT's complex points: the analysis window on the way in,
//! the synthesis window and the overlap-add on the way out.

use super::fft::{mulh, Cpx};
use super::tables::FixedSize;

/// The window's four quarters in frame order (`N` = `Z::HOP` pairs: pairs `[0, N/4)`,
/// `[N/4, N/2)`, `[N/2, 3N/4)`, `[3N/4, N)`): the FFT's first pass, and its inverse's last, take
/// pair `k` of each quarter together.
#[inline(always)]
pub(super) fn window_quarters<Z: FixedSize>() -> [&'static [[i32; 2]]; 4] {
    let n = Z::HOP;
    let (old, new) = Z::window_q31().as_ref().split_at(n / 2);
    let ((w0, w1), (w2, w3)) = (old.split_at(n / 4), new.split_at(n / 4));
    [w0, w1, w2, w3]
}

/// The sample pairs of `x`, shifted up by `up` and windowed by `w` (Q31): `x·2^up·w/2`.
#[inline(always)]
pub(super) fn windowed_pairs<'a>(x: &'a [i16], w: &'a [[i32; 2]], up: u32) -> impl Iterator<Item = Cpx> + 'a {
    x.chunks_exact(2).zip(w).map(move |(x, [w0, w1])| match x {
        [x0, x1] => Cpx { re: mulh(i32::from(*x0) << up, *w0), im: mulh(i32::from(*x1) << up, *w1) },
        _ => Cpx::default(),
    })
}

/// The two output samples of a time pair `z` (conjugated: `y[2n+1] = −Im`), windowed by `w`.
#[inline(always)]
pub(super) fn windowed_pair(z: Cpx, [w0, w1]: &[i32; 2], sh: u32) -> (i32, i32) {
    (windowed(z.re, *w0, sh), windowed(-z.im, *w1, sh))
}

/// One output pair of the overlap-add: `o ← t + y`, then `t ← y_next` (saturated to i16).
#[inline(always)]
pub(super) fn overlap_add(o: &mut [i16], t: &mut [i16], y: (i32, i32), y_next: (i32, i32)) {
    if let ([o0, o1], [t0, t1]) = (o, t) {
        *o0 = sat16(i32::from(*t0) + y.0);
        *o1 = sat16(i32::from(*t1) + y.1);
        *t0 = sat16(y_next.0);
        *t1 = sat16(y_next.1);
    }
}

/// `round(t·w / 2^(sh+1))` for `w` in Q31 (|t| < 2^30, 0 ≤ sh ≤ 31; floored for sh = 0).
#[inline(always)]
fn windowed(t: i32, w: i32, sh: u32) -> i32 {
    (mulh(t, w) + ((1u32 << sh) >> 1) as i32) >> sh
}

#[inline(always)]
fn sat16(v: i32) -> i16 {
    v.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16
}
