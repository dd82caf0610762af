//! The real FFT of a frame (256 or 512 points) and its inverse as one complex FFT of half the
//! length (`N` = 128 or 256 points) plus a split pass.
//!
//! Data are `i32` with Q31 twiddles; every product is `mulh` (the high word of a 32×32 product:
//! one instruction on RV32IM). Each radix-2 stage scales by ½, so magnitudes never grow: inputs
//! below 2^29.5 in magnitude stay below 2^30 through every stage, with no overflow check at run
//! time, and the N-point transform comes out as exactly `DFT/N`. The block exponent (how far
//! the caller shifted the input up) is the caller's to track.

use super::tables::{FixedSize, Twiddle};
use crate::dsp::Hop;

/// One complex value (or, before the FFT, two packed real samples).
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(super) struct Cpx {
    pub re: i32,
    pub im: i32,
}

/// `floor(a·b / 2^32)`: with `b` a Q31 number, that is `a·b/2`. One `mulh` on RV32IM, one
/// `smull` on ARMv7-M; ARMv6-M (Cortex-M0/M0+), which has only a 32-bit `muls`, would call its
/// 64×64 `__aeabi_lmul`, so it gets [`mulh_by_halves`] instead: the same bits, ~3× cheaper.
/// ARMv6-M is told apart by its lack of atomic read-modify-write (`target_has_atomic = "32"`):
/// Arm target features such as `thumb2` are not visible to `cfg` on stable Rust, and testing
/// for them silently sent the Cortex-M4 down the slow path too.
#[inline(always)]
pub(super) fn mulh(a: i32, b: i32) -> i32 {
    #[cfg(all(target_arch = "arm", not(target_has_atomic = "32")))]
    return mulh_by_halves(a, b);
    #[cfg(not(all(target_arch = "arm", not(target_has_atomic = "32"))))]
    return ((i64::from(a) * i64::from(b)) >> 32) as i32;
}

/// `floor(a·b / 2^32)` from four 16×16-bit products (Hacker's Delight `mulhs`), exact.
#[cfg_attr(not(any(test, all(target_arch = "arm", not(target_has_atomic = "32")))), allow(dead_code))]
#[inline(always)]
pub(super) fn mulh_by_halves(a: i32, b: i32) -> i32 {
    let (a0, a1) = (a & 0xFFFF, a >> 16);
    let (b0, b1) = (b & 0xFFFF, b >> 16);
    let w0 = (a0 as u32) * (b0 as u32); // < 2^32
    let t = a1 * b0 + (w0 >> 16) as i32; // a1·b0 in (−2^31 + 2^16, 2^31 − 2^16]: no overflow
    let w1 = a0 * b1 + (t & 0xFFFF);
    a1 * b1 + (t >> 16) + (w1 >> 16)
}

/// `a·b` exactly as i64 (see [`mulh`]: ARMv6-M builds it from 16-bit halves).
#[inline(always)]
pub(super) fn wide_mul(a: i32, b: i32) -> i64 {
    #[cfg(all(target_arch = "arm", not(target_has_atomic = "32")))]
    return wide_mul_by_halves(a, b);
    #[cfg(not(all(target_arch = "arm", not(target_has_atomic = "32"))))]
    return i64::from(a) * i64::from(b);
}

/// `a·b` as i64 from four 16×16-bit products, exact.
#[cfg_attr(not(any(test, all(target_arch = "arm", not(target_has_atomic = "32")))), allow(dead_code))]
#[inline(always)]
pub(super) fn wide_mul_by_halves(a: i32, b: i32) -> i64 {
    let (a0, a1) = (a & 0xFFFF, a >> 16);
    let (b0, b1) = (b & 0xFFFF, b >> 16);
    let lo = u64::from((a0 as u32) * (b0 as u32));
    let mid = i64::from(a1 * b0) + i64::from(a0 * b1);
    (i64::from(a1 * b1) << 32) + (mid << 16) + lo as i64
}

/// `W·z / 2` for `W = c − j·s`.
#[inline(always)]
fn rotate_half(z: Cpx, w: &Twiddle) -> Cpx {
    Cpx { re: mulh(z.re, w.c) + mulh(z.im, w.s), im: mulh(z.im, w.c) - mulh(z.re, w.s) }
}

/// `((x + y)/2, (x − y)/2)`, floored (components below 2^30: the sums fit).
#[inline(always)]
fn half_bfly(x: Cpx, y: Cpx) -> (Cpx, Cpx) {
    (Cpx { re: (x.re + y.re) >> 1, im: (x.im + y.im) >> 1 }, Cpx { re: (x.re - y.re) >> 1, im: (x.im - y.im) >> 1 })
}

/// `−j·z`: the twiddle `W₄¹`, exact.
#[inline(always)]
fn times_minus_j(z: Cpx) -> Cpx {
    Cpx { re: z.im, im: -z.re }
}

/// Decimation-in-time FFT, input in bit-reversed order, output natural: `buf ← DFT(buf)/N`.
pub(super) fn dit<Z: FixedSize>(buf: &mut Hop<Z, Cpx>) {
    let (buf, twiddles) = (buf.as_mut(), Z::twiddles().as_ref());
    let n = buf.len();
    // Stages of length 2 and 4 have the twiddles 1 and −j: no multiplications.
    for quad in buf.chunks_exact_mut(4) {
        if let [a, b, c, d] = quad {
            let (a1, b1) = half_bfly(*a, *b);
            let (c1, d1) = half_bfly(*c, *d);
            (*a, *c) = half_bfly(a1, c1);
            (*b, *d) = half_bfly(b1, times_minus_j(d1));
        }
    }
    let mut len = 8;
    while len <= n {
        let half = len / 2;
        let step = 2 * n / len; // W_len^j = W_2N^(j·step)
        for block in buf.chunks_exact_mut(len) {
            let (lo, hi) = block.split_at_mut(half);
            for ((a, b), w) in lo.iter_mut().zip(hi.iter_mut()).zip(twiddles.iter().step_by(step)) {
                let t = rotate_half(*b, w);
                let (ar, ai) = (a.re >> 1, a.im >> 1);
                *a = Cpx { re: ar + t.re, im: ai + t.im };
                *b = Cpx { re: ar - t.re, im: ai - t.im };
            }
        }
        len *= 2;
    }
}

/// Decimation-in-frequency FFT, input natural, output in bit-reversed order: `buf ← DFT(buf)/N`.
pub(super) fn dif<Z: FixedSize>(buf: &mut Hop<Z, Cpx>) {
    let (buf, twiddles) = (buf.as_mut(), Z::twiddles().as_ref());
    let n = buf.len();
    let mut len = n;
    while len >= 8 {
        let half = len / 2;
        let step = 2 * n / len;
        for block in buf.chunks_exact_mut(len) {
            let (lo, hi) = block.split_at_mut(half);
            for ((a, b), w) in lo.iter_mut().zip(hi.iter_mut()).zip(twiddles.iter().step_by(step)) {
                let d = Cpx { re: a.re - b.re, im: a.im - b.im };
                *a = Cpx { re: (a.re + b.re) >> 1, im: (a.im + b.im) >> 1 };
                *b = rotate_half(d, w);
            }
        }
        len /= 2;
    }
    // Stages of length 4 and 2: twiddles 1 and −j.
    for quad in buf.chunks_exact_mut(4) {
        if let [a, b, c, d] = quad {
            let (a1, c1) = half_bfly(*a, *c);
            let (b1, d1) = half_bfly(*b, *d);
            (*a, *b) = half_bfly(a1, b1);
            (*c, *d) = half_bfly(c1, times_minus_j(d1));
        }
    }
}

/// Turns `Z = DFT_N(x[2n] + j·x[2n+1])/N` (natural order) into `X/2N`, `X` the 2N-point
/// DFT of the real `x`, for bins 0..=N, in place: slot 0 holds `(X₀, X_N)/2N` (both real),
/// slot k in 1..N holds `X_k/2N`.
pub(super) fn split_forward<Z: FixedSize>(buf: &mut Hop<Z, Cpx>) {
    let (buf, twiddles) = (buf.as_mut(), Z::twiddles().as_ref());
    let (lo, hi) = buf.split_at_mut(buf.len() / 2);
    if let Some(z) = lo.first_mut() {
        *z = Cpx { re: (z.re + z.im) >> 1, im: (z.re - z.im) >> 1 };
    }
    // X_k = E_k + W^k·O_k, X_{N−k} = conj(E_k − W^k·O_k), with
    // E_k = (Z_k + conj Z_{N−k})/2 and O_k = (Z_k − conj Z_{N−k})/(2j).
    for ((zk, zm), w) in lo.iter_mut().skip(1).zip(hi.iter_mut().rev()).zip(twiddles.iter().skip(1)) {
        let e = Cpx { re: (zk.re + zm.re) >> 2, im: (zk.im - zm.im) >> 2 };
        let o = Cpx { re: zk.im + zm.im, im: zm.re - zk.re }; // 2·O_k
        let t = rotate_half(o, w);
        let t = Cpx { re: t.re >> 1, im: t.im >> 1 }; // W^k·O_k/2
        *zk = Cpx { re: e.re + t.re, im: e.im + t.im };
        *zm = Cpx { re: e.re - t.re, im: t.im - e.im };
    }
    // k = N/2: W^(N/2) = −j, so X_(N/2) = conj(Z_(N/2))… scaled by ½.
    if let Some(z) = hi.first_mut() {
        *z = Cpx { re: z.re >> 1, im: (-z.im) >> 1 };
    }
}

/// The inverse of [`split_forward`], reading each value as `(v >> shr) << shl` (the block
/// normalisation, fused): from `Y` (packed like `split_forward`'s output) it writes
/// `conj(Z)` with `Z_k = E_k + j·O_k`, `E_k = (Y_k + conj Y_{N−k})/2`,
/// `O_k = (Y_k − conj Y_{N−k})·W^{−k}/2`, so that `conj(DFT_N(conj Z)/N)` is
/// `y[2n] + j·y[2n+1]` with `y` the 2N-point inverse DFT of `Y`.
pub(super) fn split_inverse<Z: FixedSize>(buf: &mut Hop<Z, Cpx>, shl: u32, shr: u32) {
    let (buf, twiddles) = (buf.as_mut(), Z::twiddles().as_ref());
    let norm = |v: i32| (v >> shr) << shl;
    let (lo, hi) = buf.split_at_mut(buf.len() / 2);
    if let Some(z) = lo.first_mut() {
        let (dc, nyq) = (norm(z.re), norm(z.im));
        *z = Cpx { re: (dc + nyq) >> 1, im: (nyq - dc) >> 1 };
    }
    for ((yk, ym), w) in lo.iter_mut().skip(1).zip(hi.iter_mut().rev()).zip(twiddles.iter().skip(1)) {
        let (a, b, c, d) = (norm(yk.re), norm(yk.im), norm(ym.re), norm(ym.im));
        let e = Cpx { re: (a + c) >> 1, im: (b - d) >> 1 };
        // O = D·W^{−k}/2 with D = (a − c, b + d) and W^{−k} = conj(W^k): the conjugate of
        // rotate_half(conj D).
        let o = rotate_half(Cpx { re: a - c, im: -(b + d) }, w);
        let o = Cpx { re: o.re, im: -o.im };
        *yk = Cpx { re: e.re - o.im, im: -e.im - o.re };
        *ym = Cpx { re: e.re + o.im, im: e.im - o.re };
    }
    // k = N/2: E = Re Y_(N/2), O = −Im Y_(N/2), conj(Z_(N/2)) = Y_(N/2).
    if let Some(z) = hi.first_mut() {
        *z = Cpx { re: norm(z.re), im: norm(z.im) };
    }
}
