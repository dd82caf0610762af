//! The halfword pairing of [`super::halves_fixed_i8`] on cores without dual multiply-accumulates
//! (RV32: [`PRODUCT`]), for the row-pair runs of [`super::pair_runs_i8`] at 2 and 4 bits.
//!
//! A packed word's halves hold levels `j` and `j + H` (`H = 16 / B`) at the same bit offset, so
//! one shift and one `and` make `V = l_j + 2^16·l_{j+H}`. The inputs are widened once per
//! product into the product pairs of [`super::lanes_product_i8`], `W = x_{j+H} + 2^16·x_j`, and
//! `W·V` holds `x_j·l_j + x_{j+H}·l_{j+H}` in its middle field: per two MACs of a row a shift, an
//! `and`, a `mul` and an `add`, the input word loaded once for both rows, where the row-pair
//! bodies take a load, a shift, an `and` and a multiply-accumulate per MAC. Summed over `F`
//! pairs (wrapping) the low field stays below `F·128·(2^B − 1)` and the middle one below twice
//! that, both under 2^15 for `F` = 42 at 2 bits and 8 at 4 ([`flush_every`]), when the middle
//! field is taken out ([`middle`]). The sums are the same i32 as the row-pair bodies'.

use super::bits::halves_mask;
use super::halves_fixed_i8::widen_tap_with;
use super::lanes_product_i8::{middle, product_pair};
#[cfg(doc)]
use super::lanes_wide_i8::PRODUCT;

/// Pairs summed between two takings of the middle field at `B` bits: `F·256·(2^B − 1) < 2^15`.
const fn flush_every(b: usize) -> usize {
    32_767 / (256 * ((1 << b) - 1))
}

/// One tap's inputs `x` as product pairs in halfword-pair order ([`widen_tap_with`]): for each
/// packed word's `2H` inputs, `H` words `W = x_{j+H} + 2^16·x_j`.
#[inline(always)]
pub(super) fn widen_tap_product<const B: usize>(x: &[i8], now: &mut [u32]) {
    widen_tap_with::<B>(x, now, product_pair);
}

/// Both rows' `Σ x·level` over one tap: `xw` its inputs widened by [`widen_tap_product`], `ra`,
/// `rb` the two rows' packed levels of that tap (whole words), read a word at a time; `None`
/// where a row does not lie on a 4-byte boundary (the caller takes the row-pair body: with a
/// fallback from bytes in the same loop, the compiled RV32 code read the words from bytes always).
#[inline(always)]
pub(super) fn product_rows2_i8<const B: usize>(xw: &[u32], ra: &[u8], rb: &[u8]) -> Option<(i32, i32)> {
    let (wa, wb) = (bytemuck::try_cast_slice::<u8, u32>(ra).ok()?, bytemuck::try_cast_slice::<u8, u32>(rb).ok()?);
    let (half, mask, f) = (16 / B, halves_mask(B), flush_every(B));
    let (mut sa, mut sb, mut aa, mut ab, mut n) = (0i32, 0i32, 0i32, 0i32, 0usize);
    for ((xs, wa), wb) in xw.chunks_exact(half).zip(wa).zip(wb) {
        let (wa, wb) = (u32::from_le(*wa), u32::from_le(*wb));
        if n + half > f {
            (sa, sb) = (sa.wrapping_add(middle(aa)), sb.wrapping_add(middle(ab)));
            (aa, ab, n) = (0, 0, 0);
        }
        for (j, &x) in xs.iter().enumerate() {
            let x = x as i32;
            aa = aa.wrapping_add(x.wrapping_mul(((wa >> (B * j)) & mask) as i32));
            ab = ab.wrapping_add(x.wrapping_mul(((wb >> (B * j)) & mask) as i32));
        }
        n += half;
    }
    Some((sa.wrapping_add(middle(aa)), sb.wrapping_add(middle(ab))))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing)]
    use super::super::dot_i8::dot_rows2_i8;
    use super::super::test_util::Rng;
    use super::*;
    use alloc::vec;

    /// One tap of `in_len` inputs: random, or the extremes (every input −128, every level the
    /// largest), the levels on a word boundary (the sums) and one byte off it (`None`).
    fn check<const B: usize>(rng: &mut Rng, in_len: usize, extreme: bool) {
        let bytes = in_len * B / 8;
        let mut x = rng.i8s(in_len);
        let mut buf = vec![0u8; 2 * bytes + 8];
        for v in buf.iter_mut() {
            *v = rng.i8s(1)[0] as u8;
        }
        if extreme {
            x.fill(-128);
            buf.fill(0xFF);
        }
        let mut xw = vec![0u32; in_len / 2];
        widen_tap_product::<B>(&x, &mut xw);
        let mut words = vec![0u32; (2 * bytes + 8) / 4 + 1];
        let store = bytemuck::cast_slice_mut::<u32, u8>(&mut words);
        for at in [0, 1] {
            store[at..at + 2 * bytes].copy_from_slice(&buf[..2 * bytes]);
            let (ra, rb) = store[at..at + 2 * bytes].split_at(bytes);
            let want = (at == 0).then(|| dot_rows2_i8::<B>(&x, ra, rb));
            assert_eq!(product_rows2_i8::<B>(&xw, ra, rb), want, "{B} bits, {in_len} inputs, at {at}");
        }
    }

    #[test]
    fn product_pairs_in_halfword_order_give_the_row_pair_sums() {
        let mut rng = Rng::new(43);
        for in_len in [16, 32, 48, 96, 256] {
            for extreme in [false, true] {
                check::<2>(&mut rng, in_len, extreme);
                check::<4>(&mut rng, in_len, extreme);
            }
        }
    }
}
