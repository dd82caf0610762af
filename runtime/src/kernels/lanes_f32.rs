//! Lane-pair groups on the f32 path (FORMAT.md, layout 2): both rows' level sums of one row-pair
//! group whose segments are stored as lane-pair blocks. Each row's terms are added in column
//! order into one sum, as the row-pair bodies add them, so a tensor gives the same f32 results
//! bit for bit in either layout.

use super::dot_f32::level_pair_f32;
use super::lanes_i8::{block_words, lane_pair, unroll8};
use crate::layout::{lane_level, LANE_BLOCK};

/// The levels of columns `4q..4q+4` of a `B`-bit block (`w`: its words) as f32. Columns `4q` and
/// `4q+1` are pairs `2q` and `2q+1` of lane 0, columns `4q+2` and `4q+3` the same pairs of lane
/// 1: where both pairs sit in adjacent slots of one word, 2- to 4-bit levels come two at a
/// time from the tables (as the row-pair bodies read them), else each is a field extract and a
/// conversion.
#[inline(always)]
fn levels4_f32<const B: usize>(w: &[u32; B], q: usize) -> [f32; 4] {
    let (l, k) = (16 / B, 2 * q);
    if (2..=4).contains(&B) && k + 1 < B * l && k / l == (k + 1) / l {
        let word = w.get(k / l).copied().unwrap_or(0) >> ((k % l) * B);
        let field = |h: u32| ((word >> (16 * h)) & ((1 << (2 * B)) - 1)) as usize;
        let ([a, b], [c, d]) = (level_pair_f32::<B>(field(0)), level_pair_f32::<B>(field(1)));
        return [a, b, c, d];
    }
    let (p0, p1) = (lane_pair::<B>(w, k), lane_pair::<B>(w, k + 1));
    [p0 & 0xFFFF, p1 & 0xFFFF, p0 >> 16, p1 >> 16].map(|v| v as f32)
}

/// Both rows' `Σ x·level` of one lane-pair group (`bytes`: row `a`'s blocks, then row `b`'s),
/// `B ≤ 8`, each row's terms in column order in one sum.
#[inline(always)]
pub(crate) fn dot_lanes_f32<const B: usize>(xs: &[f32], bytes: &[u8]) -> (f32, f32) {
    let half = xs.len() / 8 * B;
    let (pa, pb) = (bytes.get(..half).unwrap_or_default(), bytes.get(half..2 * half).unwrap_or_default());
    let (mut a, mut b) = (0.0f32, 0.0f32);
    for (j, xb) in xs.chunks_exact(LANE_BLOCK).enumerate() {
        let (wa, wb) = (block_words::<B>(pa, j), block_words::<B>(pb, j));
        unroll8!(Q => {
            let (la, lb) = (levels4_f32::<B>(&wa, Q), levels4_f32::<B>(&wb, Q));
            for ((x, va), vb) in xb.get(4 * Q..4 * Q + 4).unwrap_or_default().iter().zip(la).zip(lb) {
                a += *x * va;
                b += *x * vb;
            }
        });
    }
    (a, b)
}

/// [`dot_lanes_f32`] for any width `b` (1..=15) known only at run time, level by level through
/// the format's bit map, adding as the row-pair bodies of the same width do (the same sums, bit
/// for bit): one sum per row up to 8 bits, above that even and odd columns in two sums, added at
/// the end (as `dot_pair_any_f32` does).
pub(crate) fn dot_lanes_any_f32(xs: &[f32], bytes: &[u8], b: u8) -> (f32, f32) {
    let block = 4 * usize::from(b);
    let half = xs.len() / LANE_BLOCK * block;
    let (pa, pb) = (bytes.get(..half).unwrap_or_default(), bytes.get(half..2 * half).unwrap_or_default());
    let mut sums = [[0.0f32; 2]; 2]; // [row][even, odd column]
    for (c, x) in xs.iter().enumerate() {
        let (at, col, odd) = (c / LANE_BLOCK * block, c % LANE_BLOCK, usize::from(b > 8 && c % 2 == 1));
        for (s, p) in sums.iter_mut().zip([pa, pb]) {
            if let Some(s) = s.get_mut(odd) {
                *s += *x * f32::from(lane_level(p.get(at..).unwrap_or_default(), b, col));
            }
        }
    }
    let [[a0, a1], [b0, b1]] = sums;
    if b > 8 {
        (a0 + a1, b0 + b1)
    } else {
        (a0, b0)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing)]
    use super::*;
    use crate::kernels::test_util::{lane_pair_group, Rng};
    use crate::quant::group_bytes;

    /// The lane-pair sums equal the row-pair stream's (the same levels stored LSB-first) bit for
    /// bit, at every width up to 8 and through the any-width reader.
    fn check<const B: usize>(x: &[f32], levels: &[[u16; 64]; 2]) {
        let n = x.len();
        let bytes = lane_pair_group(levels, n, B as u8);
        let want = [0, 1].map(|r| x.iter().zip(levels[r]).fold(0.0f32, |s, (&v, l)| s + v * f32::from(l)));
        let (a, b) = dot_lanes_f32::<B>(x, &bytes);
        assert_eq!((a.to_bits(), b.to_bits()), (want[0].to_bits(), want[1].to_bits()), "B={B} n={n}");
        let (a, b) = dot_lanes_any_f32(x, &bytes, B as u8);
        assert_eq!((a.to_bits(), b.to_bits()), (want[0].to_bits(), want[1].to_bits()), "any B={B} n={n}");
    }

    /// Widths 9..=15 (any-width bodies only): the lane-pair sums equal `dot_pair_any_f32`'s on
    /// the same levels stored as row pairs, bit for bit.
    #[test]
    fn wide_lane_sums_equal_the_row_pair_bodies_bit_for_bit() {
        use crate::kernels::dot_f32::dot_pair_any_f32;
        use crate::quant::pack_levels;
        let x: [f32; 64] = core::array::from_fn(|i| ((i * 7919 % 113) as f32 - 56.0) * 0.0173);
        for b in 9..=15u8 {
            let levels: [[u16; 64]; 2] =
                core::array::from_fn(|r| core::array::from_fn(|c| ((c * 977 + r * 31 + 5) % (1 << b)) as u16));
            let (half, lanes) = (group_bytes(64, b), lane_pair_group(&levels, 64, b));
            let mut stream = [0u8; 2 * 120];
            for (r, row) in levels.iter().enumerate() {
                pack_levels(row, b, &mut stream[r * half..(r + 1) * half]).unwrap();
            }
            let (a, c) = dot_lanes_any_f32(&x, &lanes[..2 * half], b);
            let (ra, rc) = dot_pair_any_f32(&x, &stream[..half], &stream[half..2 * half], b);
            assert_eq!((a.to_bits(), c.to_bits()), (ra.to_bits(), rc.to_bits()), "b={b}");
        }
    }

    #[test]
    fn lane_sums_equal_the_row_pair_order_bit_for_bit() {
        let mut rng = Rng::new(0x1A9E);
        let mut next = move || rng.next_u32();
        for _ in 0..100 {
            let x: [f32; 64] = core::array::from_fn(|_| (next() as i32 as f32) * 1e-9);
            let levels: [[u16; 64]; 2] = core::array::from_fn(|_| core::array::from_fn(|_| next() as u16));
            let top = |b: u32| levels.map(|r| r.map(|l| l & ((1 << b) - 1)));
            for n in [32, 64] {
                check::<1>(&x[..n], &top(1));
                check::<2>(&x[..n], &top(2));
                check::<3>(&x[..n], &top(3));
                check::<4>(&x[..n], &top(4));
                check::<5>(&x[..n], &top(5));
                check::<6>(&x[..n], &top(6));
                check::<7>(&x[..n], &top(7));
                check::<8>(&x[..n], &top(8));
            }
        }
    }
}
