//! The same operations in portable Rust (built everywhere, for the tests).

use crate::{mulh, Cpx, Twiddle, Twiddle3};

/// [`crate::smlad`].
#[inline(always)]
pub fn smlad(a: u32, b: u32, acc: i32) -> i32 {
    let lo = i32::from(a as i16) * i32::from(b as i16);
    let hi = i32::from((a >> 16) as i16) * i32::from((b >> 16) as i16);
    acc.wrapping_add(lo).wrapping_add(hi)
}

/// [`crate::sxtb16`].
#[inline(always)]
pub fn sxtb16(x: u32) -> u32 {
    let lo = u32::from(x as u8 as i8 as i16 as u16);
    let hi = u32::from((x >> 16) as u8 as i8 as i16 as u16);
    lo | (hi << 16)
}

/// [`crate::sum_i8`].
#[inline(always)]
pub fn sum_i8(x: &[i8]) -> i32 {
    x.iter().fold(0i32, |s, &v| s.wrapping_add(i32::from(v)))
}

/// [`crate::lane_block_w2_i8`].
#[inline(always)]
pub fn lane_block_w2_i8(xp: &[u32; 16], ab: &[u8; 16]) -> (i32, i32) {
    block::<2>(xp, ab)
}

/// [`crate::lane_block_w3_i8`].
#[inline(always)]
pub fn lane_block_w3_i8(xp: &[u32; 16], ab: &[u8; 24]) -> (i32, i32) {
    block::<3>(xp, ab)
}

/// [`crate::lane_block_w4_i8`].
#[inline(always)]
pub fn lane_block_w4_i8(xp: &[u32; 16], ab: &[u8; 32]) -> (i32, i32) {
    block::<4>(xp, ab)
}

/// [`crate::lane_run_w2_i8`].
#[inline(always)]
pub fn lane_run_w2_i8(xp: &[[u32; 16]], ab: &[u8], acc: (i32, i32)) -> (i32, i32) {
    run::<2>(xp, ab, acc)
}

/// [`crate::lane_run_w3_i8`].
#[inline(always)]
pub fn lane_run_w3_i8(xp: &[[u32; 16]], ab: &[u8], acc: (i32, i32)) -> (i32, i32) {
    run::<3>(xp, ab, acc)
}

/// [`crate::lane_run_w4_i8`].
#[inline(always)]
pub fn lane_run_w4_i8(xp: &[[u32; 16]], ab: &[u8], acc: (i32, i32)) -> (i32, i32) {
    run::<4>(xp, ab, acc)
}

/// `acc` plus the [`block`] sums of `xp`'s blocks that `ab` holds whole (`8·B` bytes each),
/// wrapping.
#[inline(always)]
fn run<const B: usize>(xp: &[[u32; 16]], ab: &[u8], acc: (i32, i32)) -> (i32, i32) {
    xp.iter().zip(ab.chunks_exact(8 * B)).fold(acc, |(sa, sb), (xp, ab)| {
        let (a, b) = block::<B>(xp, ab);
        (sa.wrapping_add(a), sb.wrapping_add(b))
    })
}

/// The block sums at width `B` in portable Rust (`B` = 2, 3 or 4; `xp`: the input pairs, see
/// [`crate::lane_block_w2_i8`]; `ab`: row a's `4·B` bytes, then row b's): each row's
/// `Σ x·level`, wrapping.
#[inline(always)]
fn block<const B: usize>(xp: &[u32; 16], ab: &[u8]) -> (i32, i32) {
    let (l, mask) = (16 / B, ((1u32 << B) - 1) * 0x0001_0001);
    let word = |p: &[u8], j: usize| {
        p.get(4 * j..4 * j + 4).and_then(|w| <[u8; 4]>::try_from(w).ok()).map_or(0, u32::from_le_bytes)
    };
    // The 3-bit spare pair: bit 15 (and 31) of word j is the level's bit j.
    let spare = |p: &[u8]| (0..B).fold(0, |v, j| v | (((word(p, j) >> 15) & 0x0001_0001) << j));
    let (a, b) = ab.split_at(ab.len() / 2);
    let (mut sa, mut sb) = (0i32, 0i32);
    for (k, &xp) in xp.iter().enumerate() {
        let (la, lb) = if k < B * l {
            let s = (k % l) * B;
            ((word(a, k / l) >> s) & mask, (word(b, k / l) >> s) & mask)
        } else {
            (spare(a), spare(b))
        };
        sa = smlad(la, xp, sa);
        sb = smlad(lb, xp, sb);
    }
    (sa, sb)
}

/// [`crate::halves_pairs_w1_i8`].
#[inline(always)]
pub fn halves_pairs_w1_i8(xw: &[u32], rows: &[u8], out: &mut [[i32; 2]]) {
    halves_pairs::<1>(xw, rows, out);
}

/// [`crate::halves_pairs_w2_i8`].
#[inline(always)]
pub fn halves_pairs_w2_i8(xw: &[u32], rows: &[u8], out: &mut [[i32; 2]]) {
    halves_pairs::<2>(xw, rows, out);
}

/// [`crate::halves_pairs_w4_i8`].
#[inline(always)]
pub fn halves_pairs_w4_i8(xw: &[u32], rows: &[u8], out: &mut [[i32; 2]]) {
    halves_pairs::<4>(xw, rows, out);
}

/// [`crate::halves_rows2_w1_i8`].
#[inline(always)]
pub fn halves_rows2_w1_i8(xw: &[u32], ra: &[u8], rb: &[u8]) -> (i32, i32) {
    rows2::<1>(xw, ra, rb)
}

/// [`crate::halves_rows2_w2_i8`].
#[inline(always)]
pub fn halves_rows2_w2_i8(xw: &[u32], ra: &[u8], rb: &[u8]) -> (i32, i32) {
    rows2::<2>(xw, ra, rb)
}

/// [`crate::halves_rows2_w4_i8`].
#[inline(always)]
pub fn halves_rows2_w4_i8(xw: &[u32], ra: &[u8], rb: &[u8]) -> (i32, i32) {
    rows2::<4>(xw, ra, rb)
}

/// One row pair at width `B` (1, 2 or 4) in portable Rust, as [`crate::halves_rows2_w1_i8`]
/// describes: `H = 16 / B` input pairs per packed word.
#[inline(always)]
fn rows2<const B: usize>(xw: &[u32], ra: &[u8], rb: &[u8]) -> (i32, i32) {
    let (h, mask) = (16 / B, ((1u32 << B) - 1) * 0x0001_0001);
    let word = |w: &[u8]| <[u8; 4]>::try_from(w).map_or(0, u32::from_le_bytes);
    let (mut sa, mut sb) = (0i32, 0i32);
    for ((xs, a), b) in xw.chunks_exact(h).zip(ra.chunks_exact(4)).zip(rb.chunks_exact(4)) {
        let (wa, wb) = (word(a), word(b));
        for (j, &x) in xs.iter().enumerate() {
            sa = smlad((wa >> (B * j)) & mask, x, sa);
            sb = smlad((wb >> (B * j)) & mask, x, sb);
        }
    }
    (sa, sb)
}

/// The row pairs at width `B` (1, 2 or 4) in portable Rust, as [`crate::halves_pairs_w1_i8`]
/// describes: `H = 16 / B` input pairs per packed word, rows of `4·⌊xw.len() / H⌋` bytes.
#[inline(always)]
fn halves_pairs<const B: usize>(xw: &[u32], rows: &[u8], out: &mut [[i32; 2]]) {
    let row = 4 * (xw.len() / (16 / B));
    let Some(pair_bytes) = core::num::NonZeroUsize::new(2 * row) else { return };
    for (o, pair) in out.iter_mut().zip(rows.chunks_exact(pair_bytes.get())) {
        let (ra, rb) = pair.split_at(row);
        let (sa, sb) = rows2::<B>(xw, ra, rb);
        *o = [sa, sb];
    }
}

/// `W(z, w) = (mulh(z.re, c) + mulh(z.im, s), mulh(z.im, c) − mulh(z.re, s))`: `W·z / 2` for
/// `W = c − j·s` in Q31.
#[inline(always)]
pub fn rotate_half(z: Cpx, w: &Twiddle) -> Cpx {
    Cpx { re: mulh(z.re, w.c).wrapping_add(mulh(z.im, w.s)), im: mulh(z.im, w.c).wrapping_sub(mulh(z.re, w.s)) }
}

/// `((x + y) >> 1, (x − y) >> 1)`, wrapping.
#[inline(always)]
pub fn half_bfly(x: Cpx, y: Cpx) -> (Cpx, Cpx) {
    (half(add(x, y)), half(sub(x, y)))
}

/// `x + y`, wrapping.
#[inline(always)]
pub fn add(x: Cpx, y: Cpx) -> Cpx {
    Cpx { re: x.re.wrapping_add(y.re), im: x.im.wrapping_add(y.im) }
}

/// `x − y`, wrapping.
#[inline(always)]
pub fn sub(x: Cpx, y: Cpx) -> Cpx {
    Cpx { re: x.re.wrapping_sub(y.re), im: x.im.wrapping_sub(y.im) }
}

/// `z >> 1`, floored.
#[inline(always)]
pub fn half(z: Cpx) -> Cpx {
    Cpx { re: z.re >> 1, im: z.im >> 1 }
}

/// `−j·z`, exact.
#[inline(always)]
pub fn times_minus_j(z: Cpx) -> Cpx {
    Cpx { re: z.im, im: z.re.wrapping_neg() }
}

/// [`crate::radix4_dit_i32`].
#[inline(always)]
pub fn radix4_dit_i32<const Q: usize>(buf: &mut [Cpx], tw: &[Twiddle3]) {
    for_each_quarter::<Q>(buf, tw, |a, c, b, d, w| {
        let u2 = rotate_half(*b, &w.w1);
        let u3 = rotate_half(*d, &w.w3);
        let (r, s) = (add(u2, u3), sub(u2, u3));
        let u1 = rotate_half(*c, &w.w2);
        let u0 = half(*a);
        let (p, m) = (add(u0, u1), sub(u0, u1));
        (*a, *b) = half_bfly(p, r);
        (*c, *d) = half_bfly(m, times_minus_j(s));
    });
}

/// [`crate::radix4_dif_i32`].
#[inline(always)]
pub fn radix4_dif_i32<const Q: usize>(buf: &mut [Cpx], tw: &[Twiddle3]) {
    for_each_quarter::<Q>(buf, tw, |a, b, c, d, w| {
        let (s0, d0) = half_bfly(*a, *c);
        let (s1, d1) = half_bfly(*b, *d);
        *a = half(add(s0, s1));
        *b = rotate_half(sub(s0, s1), &w.w2);
        let t = times_minus_j(d1);
        *c = rotate_half(add(d0, t), &w.w1);
        *d = rotate_half(sub(d0, t), &w.w3);
    });
}

/// Calls `f` on the four quarters' `j`-th points and `tw[j]`, for every whole block of `4Q`
/// points of `buf` and every `j < Q` that `tw` holds.
#[inline(always)]
fn for_each_quarter<const Q: usize>(
    buf: &mut [Cpx],
    tw: &[Twiddle3],
    mut f: impl FnMut(&mut Cpx, &mut Cpx, &mut Cpx, &mut Cpx, &Twiddle3),
) {
    for block in buf.chunks_exact_mut(4 * Q) {
        let (x01, x23) = block.split_at_mut(2 * Q);
        let (x0, x1) = x01.split_at_mut(Q);
        let (x2, x3) = x23.split_at_mut(Q);
        let quarters = x0.iter_mut().zip(x1.iter_mut()).zip(x2.iter_mut()).zip(x3.iter_mut());
        for ((((a, b), c), d), w) in quarters.zip(tw) {
            f(a, b, c, d, w);
        }
    }
}
