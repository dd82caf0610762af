//! Tensors of one width `B` of 1, 2 or 4 bits in rows (FORMAT.md layout 0) on the integer path,
//! two rows at a time with dual multiply-accumulates on inputs widened once per layer.
//!
//! A 32-bit word of a row's packed levels holds `H = 16 / B` levels in its low halfword and the
//! next `H` in its high one, level `j` and level `j + H` at the same bit offset: one `and` with a
//! shifted operand (`(w >> B·j) & lane·0x0001_0001`) puts both in the halfwords of one word,
//! ready for `SMLAD` against the inputs `x_j`, `x_{j+H}` as a halfword pair. Each tap's inputs
//! are widened once into those pairs (`H` words per packed word), shared by both rows of a pair
//! and by every pair of the layer: per packed word and row, `H` `and`s and `H` `SMLAD`s for `2H`
//! MACs, where the row-pair bodies of [`super::dot_i8`] take a sign extension, an `and` and a
//! multiply-accumulate per input and pair.
//!
//! Built where `SMLAD` is one instruction (Armv7E-M) and on hosts (`std`, tests: the portable
//! `SMLAD`, so that the host runs the same sums). Each sum is the same i32 as the row-pair
//! bodies' (exact: a tap's sums fit i32, `super::dot_i8::fits_i32`), so outputs are unchanged.

use super::bits::halves_mask;
use super::finish_i8::{Finish, PAIR_BLOCK};
use super::lanes_wide_i8::WIDE_BLOCKS;
use crate::error::Error;
use crate::format::LANE_BLOCK;
use core::num::NonZeroUsize;
use diffq_simd32::{
    halves_pairs_w1_i8, halves_pairs_w2_i8, halves_pairs_w4_i8, halves_rows2_w1_i8, halves_rows2_w2_i8,
    halves_rows2_w4_i8, smlad, NATIVE,
};

/// Whether this build runs fixed-width rows on halfword-paired inputs.
pub(super) const HALVES: bool = NATIVE || cfg!(any(test, feature = "std"));

/// Words of widened inputs on the stack, the lane-pair layers' budget (1 KiB; every build with
/// [`HALVES`] widens lane pairs too): a layer's taps of up to 512 inputs in all.
pub(super) const HALF_WORDS: usize = if HALVES { WIDE_BLOCKS * LANE_BLOCK / 2 } else { 0 };

/// Whether a tensor of width `b`, groups of `group_size` and rows of `in_len` inputs per tap has
/// whole packed words per tap (no padding between groups) for [`halves_rows2_i8`].
pub(super) const fn halves_fit(b: usize, group_size: usize, in_len: usize) -> bool {
    HALVES && whole_words(b, group_size, in_len)
}

/// Whether rows of `in_len` inputs per tap at width `b` (1, 2 or 4), in groups of `group_size`,
/// are whole packed words per tap with no padding between groups: each word's halves then hold
/// levels `j` and `j + 16/b` of the same tap.
pub(super) const fn whole_words(b: usize, group_size: usize, in_len: usize) -> bool {
    matches!(b, 1 | 2 | 4) && (group_size * b) % 8 == 0 && in_len > 0 && in_len % (32 / b) == 0
}

/// `taps` widened into `buf` (`in_len / 2` words each, one after the other; a tap before the
/// stream start as zeros): for each packed word's `2H` inputs, `H` words `x_j | x_{j+H} << 16`
/// (halfwords sign-extended). `None` when they do not fit or [`halves_fit`] does not hold.
pub(super) fn widen_halves<'b, const B: usize>(
    taps: &[Option<&[i8]>],
    in_len: usize,
    group_size: usize,
    buf: &'b mut [u32],
) -> Option<&'b [u32]> {
    if !halves_fit(B, group_size, in_len) {
        return None;
    }
    let per_tap = NonZeroUsize::new(in_len / 2)?;
    let wide = buf.get_mut(..taps.len().checked_mul(per_tap.get())?)?;
    for (tap, now) in taps.iter().zip(wide.chunks_exact_mut(per_tap.get())) {
        let Some(x) = tap else {
            now.fill(0);
            continue;
        };
        widen_tap::<B>(x, now);
    }
    Some(wide)
}

/// One tap's inputs `x` widened into `now` as [`widen_halves`] describes (whole packed words'
/// worth of inputs; the words past `x`'s are left as they are).
#[inline(always)]
pub(super) fn widen_tap<const B: usize>(x: &[i8], now: &mut [u32]) {
    widen_tap_with::<B>(x, now, |l, h| u32::from(l as i16 as u16) | (u32::from(h as i16 as u16) << 16));
}

/// One tap's inputs `x` into `now` in halfword-pair order: for each packed word's `2H` inputs
/// (`H = 16 / B`), `H` words `pair(x_j, x_{j+H})` (whole words' worth; the words past `x`'s are
/// left as they are). By index, `H` a power of two: zipped chunk iterators left an out-of-line
/// division by the chunk length, with its panic, in the RV32 build.
#[inline(always)]
pub(super) fn widen_tap_with<const B: usize>(x: &[i8], now: &mut [u32], pair: impl Fn(i8, i8) -> u32) {
    let half = 16 / B;
    for (k, w) in now.iter_mut().enumerate() {
        let at = 2 * half * (k / half) + k % half;
        if let (Some(&l), Some(&h)) = (x.get(at), x.get(at + half)) {
            *w = pair(l, h);
        }
    }
}

/// Both rows' `Σ x·level` over one tap: `xw` its widened inputs ([`widen_halves`]), `ra`, `rb`
/// the two rows' packed levels of that tap (whole words): [`diffq_simd32`]'s single row pair
/// (one loop in assembly on Armv7E-M).
#[inline(always)]
fn halves_tap2_i8<const B: usize>(xw: &[u32], ra: &[u8], rb: &[u8]) -> (i32, i32) {
    match B {
        1 => halves_rows2_w1_i8(xw, ra, rb),
        2 => halves_rows2_w2_i8(xw, ra, rb),
        4 => halves_rows2_w4_i8(xw, ra, rb),
        _ => (0, 0),
    }
}

/// [`halves_tap2_i8`] in Rust on [`smlad`], for segments of a size known when compiled (the
/// row-pair groups of [`super::pair_runs_i8`]): unrolled whole, with no loop, it takes fewer
/// instructions than the assembly's loop (measured on the 16 kHz model's GRUs: 1,082 and 1,056
/// fewer per frame). `diffq_simd32`'s portable single pair is the same loop on the portable
/// `SMLAD`; one definition taking the native one as an argument measured 324 instructions more
/// per 16 kHz frame on the M4 (`cargo xtask kbench m4`) and 452 on RV32 (`cargo xtask bench`),
/// where this function is not even called.
#[inline(always)]
pub(super) fn halves_rows2_i8<const B: usize>(xw: &[u32], ra: &[u8], rb: &[u8]) -> (i32, i32) {
    let (half, mask) = (16 / B, halves_mask(B));
    // A whole word (`chunks_exact(4)`): one load.
    let word = |w: &[u8]| <[u8; 4]>::try_from(w).map_or(0, u32::from_le_bytes);
    let (mut sa, mut sb) = (0i32, 0i32);
    for ((xs, a), b) in xw.chunks_exact(half).zip(ra.chunks_exact(4)).zip(rb.chunks_exact(4)) {
        let (wa, wb) = (word(a), word(b));
        for (j, &x) in xs.iter().enumerate() {
            sa = smlad((wa >> (B * j)) & mask, x, sa);
            sb = smlad((wb >> (B * j)) & mask, x, sb);
        }
    }
    (sa, sb)
}

/// Every row pair of a one-input tensor on its widened inputs `xw` ([`widen_halves`]): `head`
/// their outputs, `data` the rows from the first (`row_bytes` each, whole packed words). The i32
/// sums of a block of [`PAIR_BLOCK`] pairs at a time from [`diffq_simd32`]'s row-pair kernels
/// (one loop over the block on Armv7E-M), each times the tensor's multiplier `m32` on the base,
/// then finished.
pub(super) fn halves_linear_i8<const B: usize>(
    finish: &Finish<'_, '_>,
    head: &mut [i8],
    data: &[u8],
    xw: &[u32],
    m32: i32,
    row_bytes: NonZeroUsize,
) -> Result<(), Error> {
    // The kernels read `4·⌊xw.len()·B / 16⌋` bytes per row: exactly a row.
    let rows_held = data.len() / row_bytes.get();
    if 4 * row_bytes.get() != B * xw.len() || rows_held < head.len() {
        return Err(Error::KernelShape);
    }
    let (base, m) = (finish.base(), i64::from(m32));
    let (mut raw, mut sums) = ([[0i32; 2]; PAIR_BLOCK], [(0i64, 0i64); PAIR_BLOCK]);
    // (By offset: `chunks` of the rows would keep a panic for a zero length.)
    let block_bytes = 2 * PAIR_BLOCK * row_bytes.get();
    for (j, block) in head.chunks_mut(2 * PAIR_BLOCK).enumerate() {
        let (n, rows) = (block.len() / 2, data.get(j * block_bytes..).unwrap_or_default());
        let (raw, sums) = (raw.get_mut(..n).unwrap_or_default(), sums.get_mut(..n).unwrap_or_default());
        match B {
            1 => halves_pairs_w1_i8(xw, rows, raw),
            2 => halves_pairs_w2_i8(xw, rows, raw),
            4 => halves_pairs_w4_i8(xw, rows, raw),
            _ => return Err(Error::KernelShape),
        }
        for (s, &[a, b]) in sums.iter_mut().zip(raw.iter()) {
            *s = (base.wrapping_add(i64::from(a) * m), base.wrapping_add(i64::from(b) * m));
        }
        finish.pairs(sums, 2 * PAIR_BLOCK * j, block);
    }
    Ok(())
}

/// Both rows' `Σ x·level` over every tap (`wide`: the taps widened by [`widen_halves`]; `ra`, `rb`:
/// the rows, `tap_bytes` per tap), each tap's i32 sums added in i64.
#[inline(always)]
pub(super) fn halves_taps2_i8<const B: usize>(
    taps: &[Option<&[i8]>],
    wide: &[u32],
    (ra, rb): (&[u8], &[u8]),
    tap_bytes: NonZeroUsize,
) -> (i64, i64) {
    let (mut sa, mut sb) = (0i64, 0i64);
    // Each tap's widened inputs: `wide` holds whole taps, `in_len / 2` words each.
    let per_tap = NonZeroUsize::new(wide.len() / taps.len().max(1)).unwrap_or(NonZeroUsize::MIN);
    let (xs, was, wbs) =
        (wide.chunks_exact(per_tap.get()), ra.chunks_exact(tap_bytes.get()), rb.chunks_exact(tap_bytes.get()));
    for (((tap, xw), wa), wb) in taps.iter().zip(xs).zip(was).zip(wbs) {
        if tap.is_some() {
            let (a, b) = halves_tap2_i8::<B>(xw, wa, wb);
            sa += i64::from(a);
            sb += i64::from(b);
        }
    }
    (sa, sb)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::super::dot_i8::dot_rows2_i8;
    use super::super::test_util::Rng;
    use super::*;
    use std::vec;
    use std::vec::Vec;

    fn check<const B: usize>(rng: &mut Rng, in_len: usize, extreme: bool) {
        let bytes = in_len * B / 8;
        let (mut x, mut ra, mut rb) = (rng.i8s(in_len), vec![0u8; bytes], vec![0u8; bytes]);
        for v in ra.iter_mut().chain(rb.iter_mut()) {
            *v = rng.i8s(1)[0] as u8;
        }
        if extreme {
            x.fill(-128);
            ra.fill(0xFF);
        }
        let mut buf = [0u32; HALF_WORDS];
        let wide = widen_halves::<B>(&[Some(&x)], in_len, 64, &mut buf).expect("fits");
        let want = dot_rows2_i8::<B>(&x, &ra, &rb);
        assert_eq!(halves_rows2_i8::<B>(wide, &ra, &rb), want, "{B} bits, {in_len} inputs");
        assert_eq!(halves_tap2_i8::<B>(wide, &ra, &rb), want, "{B} bits, {in_len} inputs");
    }

    #[test]
    fn halfword_pairs_give_the_row_pair_sums() {
        let mut rng = Rng::new(31);
        for in_len in [32, 64, 96, 256, 512] {
            for extreme in [false, true] {
                check::<1>(&mut rng, in_len, extreme);
                check::<2>(&mut rng, in_len, extreme);
                check::<4>(&mut rng, in_len, extreme);
            }
        }
    }

    #[test]
    fn only_whole_words_per_tap_that_fit_are_widened() {
        let x = vec![1i8; 48];
        let mut buf = [0u32; HALF_WORDS];
        assert!(widen_halves::<2>(&[Some(&x)], 48, 48, &mut buf).is_some());
        assert!(widen_halves::<1>(&[Some(&x)], 48, 48, &mut buf).is_none(), "48 1-bit levels: not whole words");
        assert!(widen_halves::<2>(&[Some(&x)], 48, 6, &mut buf).is_none(), "groups of 6 at 2 bits: padded");
        assert!(widen_halves::<2>(&[Some(&x)], 0, 48, &mut buf).is_none());
        let long = vec![1i8; 64];
        let taps: Vec<Option<&[i8]>> = vec![Some(&long); 9];
        assert!(widen_halves::<2>(&taps, 64, 64, &mut buf).is_none(), "576 inputs: more than the buffer");
        let taps: Vec<Option<&[i8]>> = vec![None, Some(&long)];
        let wide = widen_halves::<4>(&taps, 64, 64, &mut buf).expect("fits");
        assert!(wide[..32].iter().all(|&w| w == 0) && wide[32..].iter().all(|&w| w == 0x0001_0001));
    }
}
