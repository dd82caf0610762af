//! Lane-pair blocks (FORMAT.md layout 2) on cores without dual multiply-accumulates (RV32): one
//! 32-bit multiply does both MACs of a pair. A block's input pair `k` is widened once per layer
//! into the word `W = x₁ + 2^16·x₀` (`x₀`, `x₁`: the inputs of lanes 0 and 1), whose product
//! with the pair's levels `V = l₀ + 2^16·l₁` (one shift and one `and` of the row's word) is
//! `x₁·l₀ + 2^16·(x₀·l₀ + x₁·l₁) + 2^32·x₀·l₁`: its middle field is the pair's two MACs. Summed
//! over `F` pairs (wrapping), `acc = L + 2^16·M` with `|L| ≤ F·128·(2^B − 1)` and `|M|` twice
//! that, both below 2^15, so `M = (acc − L) >> 16` with `L` the low half sign-extended. Per pair
//! and row that is a shift, an `and`, a `mul` and an `add`, and the input word is loaded once for
//! both rows.

use super::lanes_i8::{block_words, lane_pair, unroll8, WideBlock};

/// Pairs summed between flushes at `B` bits: `F·256·(2^B − 1) < 2^15`, at most a block's 16.
const fn flush_pairs(b: usize) -> usize {
    let f = 32_767 / (256 * ((1 << b) - 1));
    if f > 16 {
        16
    } else {
        f
    }
}

/// The product-pair word of lanes `(x₀, x₁)`: `x₁ + 2^16·x₀`, exactly, as a 32-bit word.
#[inline(always)]
pub(super) fn product_pair(x0: i8, x1: i8) -> u32 {
    (i32::from(x1) + (i32::from(x0) << 16)) as u32
}

/// The lanes `(x₀, x₁)` of a [`product_pair`] word.
#[inline(always)]
pub(super) fn product_lanes(w: u32) -> (i8, i8) {
    let x1 = i32::from(w as i16);
    (((w as i32).wrapping_sub(x1) >> 16) as i8, x1 as i8)
}

/// The middle field `M` of a flushed sum (see the module).
#[inline(always)]
pub(super) fn middle(acc: i32) -> i32 {
    acc.wrapping_sub(i32::from(acc as i16)) >> 16
}

/// Both rows' sums over one block at `B ≤ 4` bits (`xp`: its product pairs; `wa`, `wb`: each
/// row's `B` words).
#[inline(always)]
fn product_block_i8<const B: usize>(xp: &WideBlock, wa: [u32; B], wb: [u32; B]) -> (i32, i32) {
    let f = flush_pairs(B);
    let (mut sa, mut sb, mut aa, mut ab) = (0i32, 0i32, 0i32, 0i32);
    unroll8!(Q => {
        for k in [2 * Q, 2 * Q + 1] {
            let x = xp.get(k).copied().unwrap_or(0) as i32;
            aa = aa.wrapping_add(x.wrapping_mul(lane_pair::<B>(&wa, k) as i32));
            ab = ab.wrapping_add(x.wrapping_mul(lane_pair::<B>(&wb, k) as i32));
            if (k + 1) % f == 0 || k == 15 {
                (sa, sb) = (sa.wrapping_add(middle(aa)), sb.wrapping_add(middle(ab)));
                (aa, ab) = (0, 0);
            }
        }
    });
    (sa, sb)
}

/// Both rows' sums over a run of `B`-bit blocks (`xs`: their product pairs; `g`: each block's
/// row a's words, then row b's, `8·B` bytes a block), over the blocks both hold whole. Word
/// loads where `g` lies on a 4-byte boundary (the writer puts lane-pair levels there), else each
/// word put together from its bytes.
#[inline(always)]
pub(super) fn product_run_i8<const B: usize>(xs: &[WideBlock], g: &[u8]) -> (i32, i32) {
    let add = |(sa, sb): (i32, i32), (a, b): (i32, i32)| (sa.wrapping_add(a), sb.wrapping_add(b));
    let mut sums = (0, 0);
    if let Ok(words) = bytemuck::try_cast_slice::<u8, u32>(g) {
        for (xp, blk) in xs.iter().zip(words.chunks_exact(2 * B)) {
            let w = |i: usize| u32::from_le(blk.get(i).copied().unwrap_or(0));
            let (wa, wb) = (core::array::from_fn(w), core::array::from_fn(|i| w(B + i)));
            sums = add(sums, product_block_i8::<B>(xp, wa, wb));
        }
    } else {
        for (xp, blk) in xs.iter().zip(g.chunks_exact(8 * B)) {
            sums = add(sums, product_block_i8::<B>(xp, block_words::<B>(blk, 0), block_words::<B>(blk, 1)));
        }
    }
    sums
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing)]
    use super::*;
    use crate::kernels::test_util::{lane_pair_group, Rng};
    use crate::layout::lane_column;
    use alloc::vec;

    fn check<const B: usize>(rng: &mut Rng, x: &[i8; 32]) {
        let top = x[0] == x[1] && x[0] != 0; // the extreme rounds: every level the largest
        let levels: [[u16; 64]; 2] = core::array::from_fn(|_| {
            core::array::from_fn(|_| if top { (1 << B) - 1 } else { rng.below(1 << B) as u16 })
        });
        let bytes = lane_pair_group(&levels, 32, B as u8);
        let want = [0, 1].map(|r| x.iter().zip(levels[r]).map(|(&v, l)| i32::from(v) * i32::from(l)).sum::<i32>());
        let xp: WideBlock = core::array::from_fn(|k| product_pair(x[lane_column(k, 0)], x[lane_column(k, 1)]));
        for (k, w) in xp.iter().enumerate() {
            assert_eq!(product_lanes(*w), (x[lane_column(k, 0)], x[lane_column(k, 1)]));
        }
        // A run of two blocks as words (a `u32` buffer: on a word boundary) and one byte later.
        let mut words = vec![0u32; 4 * B + 1];
        let bytes_of = bytemuck::cast_slice_mut::<u32, u8>(&mut words);
        for at in [0, 1] {
            bytes_of[at..at + 8 * B].copy_from_slice(&bytes);
            bytes_of[at + 8 * B..at + 16 * B].copy_from_slice(&bytes);
            let run = &bytes_of[at..at + 16 * B];
            assert_eq!(bytemuck::try_cast_slice::<u8, u32>(run).is_ok(), at == 0, "the path under test");
            assert_eq!(product_run_i8::<B>(&[xp; 2], run), (2 * want[0], 2 * want[1]), "B={B}, at {at}");
        }
    }

    /// Random blocks, and the extremes (every input −128 or 127, every level the largest), with
    /// the levels on a word boundary (word loads) and off it (words from bytes).
    #[test]
    fn product_blocks_equal_the_reference() {
        let mut rng = Rng::new(17);
        for round in 0..2_000 {
            let x: [i8; 32] = match round {
                0 => [-128; 32],
                1 => [127; 32],
                _ => core::array::from_fn(|_| rng.next_u32() as i8),
            };
            check::<1>(&mut rng, &x);
            check::<2>(&mut rng, &x);
            check::<3>(&mut rng, &x);
            check::<4>(&mut rng, &x);
        }
    }
}
