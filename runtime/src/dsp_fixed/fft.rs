//! The real FFT of a frame (256 or 512 points) and its inverse as one complex FFT of half the
//! length (`N` = 128 or 256 points) plus a split pass.
//!
//! Data are `i32` with Q31 twiddles; every product is `mulh` (the high word of a 32×32 product:
//! one instruction on RV32IM). Each radix-2 stage scales by ½, so magnitudes never grow: inputs
//! below 2^29.5 in magnitude stay below 2^30 through every stage, with no overflow check at run
//! time, and the N-point transform comes out as exactly `DFT/N`. The block exponent (how far
//! the caller shifted the input up) is the caller's to track.

use super::tables::{quarter_on, quarter_twiddles, FixedSize, Twiddle, Twiddle3};
use crate::dsp::Hop;
use diffq_simd32::portable::{half_bfly, rotate_half, sub, times_minus_j};
pub(super) use diffq_simd32::{mulh, wide_mul, Cpx};
#[cfg(test)]
pub(super) use diffq_simd32::{mulh_by_halves, wide_mul_by_halves};

/// Decimation-in-time FFT, input in bit-reversed order, output natural: `buf ← DFT(buf)/N`
/// ([`dit_quad`] on every quad, then [`dit_passes`]; the analysis fuses the first into its load).
#[cfg(test)]
pub(super) fn dit<Z: FixedSize>(buf: &mut Hop<Z, Cpx>) {
    for quad in buf.as_mut().chunks_exact_mut(4) {
        if let [a, b, c, d] = quad {
            [*a, *b, *c, *d] = dit_quad([*a, *b, *c, *d]);
        }
    }
    dit_passes::<Z>(buf);
}

/// The first pass of [`dit`] on one quad (its twiddles are 1 and −j: no multiplications):
/// `DFT(x)/4` of the four points `x` in bit-reversed order.
#[inline(always)]
pub(super) fn dit_quad([a, b, c, d]: [Cpx; 4]) -> [Cpx; 4] {
    let (a1, b1) = half_bfly(a, b);
    let (c1, d1) = half_bfly(c, d);
    let ((a, c), (b, d)) = (half_bfly(a1, c1), half_bfly(b1, times_minus_j(d1)));
    [a, b, c, d]
}

/// [`dit`] after its first pass: radix-4 passes (two radix-2 stages each, ¼ per pass) of
/// lengths 16, 64 (and 256), a radix-2 pass last when `log2 N` is odd.
pub(super) fn dit_passes<Z: FixedSize>(buf: &mut Hop<Z, Cpx>) {
    let buf = buf.as_mut();
    dit_radix4::<4>(buf, Z::radix4_twiddles());
    dit_radix4::<16>(buf, Z::radix4_twiddles());
    if Z::HOP == 256 {
        dit_radix4::<64>(buf, Z::radix4_twiddles());
    } else {
        for_each_half::<Z>(buf, |a, b, w| {
            let t = rotate_half(*b, w);
            let (ar, ai) = (a.re >> 1, a.im >> 1);
            *a = Cpx { re: ar + t.re, im: ai + t.im };
            *b = Cpx { re: ar - t.re, im: ai - t.im };
        });
    }
}

/// Calls `f` on the `j`-th values of the two halves of `buf` (`N` points) and `W_2N^(2j)`, for
/// every `j < N/2`: the radix-2 pass of an FFT of odd `log2 N`. Its twiddles' first half is every
/// other quarter-turn twiddle, its second half the same a quarter turn on.
#[inline(always)]
fn for_each_half<Z: FixedSize>(buf: &mut [Cpx], mut f: impl FnMut(&mut Cpx, &mut Cpx, &Twiddle)) {
    let (lo, hi) = buf.split_at_mut(buf.len() / 2);
    let (lo0, lo1) = lo.split_at_mut(lo.len() / 2);
    let (hi0, hi1) = hi.split_at_mut(hi.len() / 2);
    for ((a, b), w) in lo0.iter_mut().zip(hi0.iter_mut()).zip(quarter_twiddles::<Z>().step_by(2)) {
        f(a, b, &w);
    }
    for ((a, b), w) in lo1.iter_mut().zip(hi1.iter_mut()).zip(quarter_twiddles::<Z>().step_by(2).map(quarter_on)) {
        f(a, b, &w);
    }
}

/// The `Q` twiddle triples of the radix-4 pass of length `4Q` (`Q` = 4, 16, 64), from the
/// passes' table (theirs one after the other).
#[inline(always)]
fn pass_twiddles<const Q: usize>(table: &[Twiddle3]) -> &[Twiddle3] {
    table.get((Q - 4) / 3..(Q - 4) / 3 + Q).unwrap_or_default()
}

/// One radix-4 decimation-in-time pass ([`diffq_simd32::radix4_dit_i32`]: inline assembly on
/// Armv7E-M): each block of length `4Q` holds the DFTs/Q of the four interleaved quarters of its
/// input in the order 0, 2, 1, 3 (bit reversal); it becomes their DFT/4Q.
#[inline(always)]
fn dit_radix4<const Q: usize>(buf: &mut [Cpx], table: &[Twiddle3]) {
    diffq_simd32::radix4_dit_i32::<Q>(buf, pass_twiddles::<Q>(table));
}

/// Decimation-in-frequency FFT, input natural, output in bit-reversed order: `buf ← DFT(buf)/N`
/// ([`dit`]'s passes in reverse: [`dif_passes`], then [`dif_quad`] on every quad, which the
/// synthesis fuses into its output).
#[cfg(test)]
pub(super) fn dif<Z: FixedSize>(buf: &mut Hop<Z, Cpx>) {
    dif_passes::<Z>(buf);
    for quad in buf.as_mut().chunks_exact_mut(4) {
        if let [a, b, c, d] = quad {
            [*a, *b, *c, *d] = dif_quad([*a, *b, *c, *d]);
        }
    }
}

/// [`dif`] but its last pass.
pub(super) fn dif_passes<Z: FixedSize>(buf: &mut Hop<Z, Cpx>) {
    let buf = buf.as_mut();
    if Z::HOP == 256 {
        dif_radix4::<64>(buf, Z::radix4_twiddles());
    } else {
        for_each_half::<Z>(buf, |a, b, w| {
            let d = sub(*a, *b);
            *a = Cpx { re: (a.re + b.re) >> 1, im: (a.im + b.im) >> 1 };
            *b = rotate_half(d, w);
        });
    }
    dif_radix4::<16>(buf, Z::radix4_twiddles());
    dif_radix4::<4>(buf, Z::radix4_twiddles());
}

/// The last pass of [`dif`] on one quad (twiddles 1 and −j): `DFT(x)/4` in bit-reversed order.
#[inline(always)]
pub(super) fn dif_quad([a, b, c, d]: [Cpx; 4]) -> [Cpx; 4] {
    let (a1, c1) = half_bfly(a, c);
    let (b1, d1) = half_bfly(b, d);
    let ((a, b), (c, d)) = (half_bfly(a1, b1), half_bfly(c1, times_minus_j(d1)));
    [a, b, c, d]
}

/// One radix-4 decimation-in-frequency pass, [`dit_radix4`]'s inverse order
/// ([`diffq_simd32::radix4_dif_i32`]): each block (length `4Q`, natural order) becomes, per
/// quarter 0, 1, 2, 3, the DFT/4 of the output bins `4k`, `4k + 2`, `4k + 1`, `4k + 3` with their
/// twiddles applied.
#[inline(always)]
fn dif_radix4<const Q: usize>(buf: &mut [Cpx], table: &[Twiddle3]) {
    diffq_simd32::radix4_dif_i32::<Q>(buf, pass_twiddles::<Q>(table));
}

/// Turns `Z = DFT_N(x[2n] + j·x[2n+1])/N` (natural order) into `X/2N`, `X` the 2N-point
/// DFT of the real `x`, for bins 0..=N, in place: slot 0 holds `(X₀, X_N)/2N` (both real),
/// slot k in 1..N holds `X_k/2N`.
pub(super) fn split_forward<Z: FixedSize>(buf: &mut Hop<Z, Cpx>) {
    let buf = buf.as_mut();
    let (lo, hi) = buf.split_at_mut(buf.len() / 2);
    if let Some(z) = lo.first_mut() {
        *z = Cpx { re: (z.re + z.im) >> 1, im: (z.re - z.im) >> 1 };
    }
    // X_k = E_k + W^k·O_k, X_{N−k} = conj(E_k − W^k·O_k), with
    // E_k = (Z_k + conj Z_{N−k})/2 and O_k = (Z_k − conj Z_{N−k})/(2j).
    for ((zk, zm), w) in lo.iter_mut().skip(1).zip(hi.iter_mut().rev()).zip(quarter_twiddles::<Z>().skip(1)) {
        let e = Cpx { re: (zk.re + zm.re) >> 2, im: (zk.im - zm.im) >> 2 };
        let o = Cpx { re: zk.im + zm.im, im: zm.re - zk.re }; // 2·O_k
        let t = rotate_half(o, &w);
        let t = Cpx { re: t.re >> 1, im: t.im >> 1 }; // W^k·O_k/2
        *zk = Cpx { re: e.re + t.re, im: e.im + t.im };
        *zm = Cpx { re: e.re - t.re, im: t.im - e.im };
    }
    // k = N/2: W^(N/2) = −j, so X_(N/2) = conj(Z_(N/2))… scaled by ½.
    if let Some(z) = hi.first_mut() {
        *z = Cpx { re: z.re >> 1, im: (-z.im) >> 1 };
    }
}

/// The inverse of [`split_forward`], reading each value as `v · 2^s2` (the block
/// normalisation, fused: a shift up for `s2 ≥ 0`, a floored shift down below): from `Y` (packed
/// like `split_forward`'s output) it writes `conj(Z)` with `Z_k = E_k + j·O_k`,
/// `E_k = (Y_k + conj Y_{N−k})/2`, `O_k = (Y_k − conj Y_{N−k})·W^{−k}/2`, so that
/// `conj(DFT_N(conj Z)/N)` is `y[2n] + j·y[2n+1]` with `y` the 2N-point inverse DFT of `Y`.
pub(super) fn split_inverse<Z: FixedSize>(buf: &mut Hop<Z, Cpx>, s2: i32) {
    // One copy of the loop per direction: a single shift per value.
    let (shl, shr) = (s2.max(0) as u32, (-s2).max(0) as u32);
    if shr == 0 {
        split_inverse_with::<Z>(buf, |v| v << shl);
    } else {
        split_inverse_with::<Z>(buf, |v| v >> shr);
    }
}

/// [`split_inverse`] with the normalisation `norm`.
#[inline(always)]
fn split_inverse_with<Z: FixedSize>(buf: &mut Hop<Z, Cpx>, norm: impl Fn(i32) -> i32) {
    let buf = buf.as_mut();
    let (lo, hi) = buf.split_at_mut(buf.len() / 2);
    if let Some(z) = lo.first_mut() {
        let (dc, nyq) = (norm(z.re), norm(z.im));
        *z = Cpx { re: (dc + nyq) >> 1, im: (nyq - dc) >> 1 };
    }
    for ((yk, ym), w) in lo.iter_mut().skip(1).zip(hi.iter_mut().rev()).zip(quarter_twiddles::<Z>().skip(1)) {
        let (a, b, c, d) = (norm(yk.re), norm(yk.im), norm(ym.re), norm(ym.im));
        let e = Cpx { re: (a + c) >> 1, im: (b - d) >> 1 };
        // O = D·W^{−k}/2 with D = (a − c, b + d) and W^{−k} = conj(W^k): the conjugate of
        // rotate_half(conj D).
        let o = rotate_half(Cpx { re: a - c, im: -(b + d) }, &w);
        let o = Cpx { re: o.re, im: -o.im };
        *yk = Cpx { re: e.re - o.im, im: -e.im - o.re };
        *ym = Cpx { re: e.re + o.im, im: e.im - o.re };
    }
    // k = N/2: E = Re Y_(N/2), O = −Im Y_(N/2), conj(Z_(N/2)) = Y_(N/2).
    if let Some(z) = hi.first_mut() {
        *z = Cpx { re: norm(z.re), im: norm(z.im) };
    }
}
