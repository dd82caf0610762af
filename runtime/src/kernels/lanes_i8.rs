//! Lane-pair groups on the integer path (FORMAT.md, layout 2): both rows' level sums of one
//! row-pair group whose segments are stored as lane-pair blocks (32 columns in `B` words).
//!
//! On Armv7E-M one `and` of a word with a shifted operand gives a pair's two levels as the two
//! lanes of an `SMLAD` operand, and `SXTB16` splits 4 inputs into the matching input pairs, so a
//! block costs per 4 inputs one word load, two `SXTB16` and, per row, two `and` and two `SMLAD`
//! ([`diffq_simd32`]; one-block groups at 2, 3 and 4 bits run its assembly blocks on inputs
//! widened once per layer, [`super::lanes_wide_i8`]). Elsewhere the same lanes of both rows are
//! put side by side (row `a` low, row `b` high) and one 32-bit multiply by each input does two
//! MACs, as the row-pair bodies do.

use super::bits::{le_u32, split_group};
use super::dot_i8::dot_pair_any_i8;
use crate::layout::{lane_column, lane_level, LANE_BLOCK};
use diffq_simd32::{smlad, sxtb16, sxtb16_ror8, NATIVE};

/// Runs `$body` 8 times with `$q` a constant 0..8: the block's 8 quads of inputs, so that every
/// shift and mask of [`lane_pair`] folds (LLVM does not unroll the loop by itself, and a run-time
/// `k` costs a division and stack-held words per pair).
macro_rules! unroll8 {
    ($q:ident => $body:block) => {{
        {
            const $q: usize = 0;
            $body
        }
        {
            const $q: usize = 1;
            $body
        }
        {
            const $q: usize = 2;
            $body
        }
        {
            const $q: usize = 3;
            $body
        }
        {
            const $q: usize = 4;
            $body
        }
        {
            const $q: usize = 5;
            $body
        }
        {
            const $q: usize = 6;
            $body
        }
        {
            const $q: usize = 7;
            $body
        }
    }};
}
pub(super) use unroll8;

/// The pair `k` of a `B`-bit block (`w`: its words): lane 0's level in the low halfword, lane
/// 1's in the high one. The regular slots are one shift and one `and`; a level in the spare
/// bits (widths 3, 5, 6, 7) gathers its runs from several words. All constants fold when `B` and
/// `k` are known at compile time.
#[inline(always)]
pub(crate) fn lane_pair<const B: usize>(w: &[u32; B], k: usize) -> u32 {
    let (l, both) = (16 / B, 0x0001_0001u32);
    let m = ((1u32 << B) - 1) * both;
    let word = |j: usize| w.get(j).copied().unwrap_or(0);
    if k < B * l {
        return (word(k / l) >> ((k % l) * B)) & m;
    }
    let (spare, e) = (16 - B * l, k - B * l);
    let mut v = 0;
    for j in 0..B {
        // Word `j` holds bits [j·spare, (j+1)·spare) of each lane's spare stream; this level
        // is bits [e·B, e·B + B) of it.
        let (lo, hi) = ((j * spare).max(e * B), ((j + 1) * spare).min(e * B + B));
        if lo < hi {
            let (src, dst) = (B * l + lo - j * spare, lo - e * B);
            v |= (word(j) >> (src - dst)) & ((((1u32 << (hi - lo)) - 1) * both) << dst);
        }
    }
    v
}

/// Block `j`'s `B` words of a row's segment (`bytes`), little-endian: one (unaligned) word load
/// each on the Armv7E-M, put together from bytes on cores without unaligned loads.
#[inline(always)]
pub(crate) fn block_words<const B: usize>(bytes: &[u8], j: usize) -> [u32; B] {
    core::array::from_fn(|i| le_u32(bytes.get(4 * (B * j + i)..4 * (B * j + i + 1)).unwrap_or_default()))
}

/// Both rows' level sums of one lane-pair group (`bytes`: row `a`'s blocks, then row `b`'s) over
/// the inputs `xs` (a whole number of blocks), `B ≤ 8`. Exact in i32 where the caller's
/// `fits_i32` holds for the group.
#[inline(always)]
pub(crate) fn dot_lanes_i8<const B: usize>(xs: &[i8], bytes: &[u8]) -> (i32, i32) {
    let half = xs.len() / 8 * B; // bytes of one row's segment
    let (pa, pb) = (bytes.get(..half).unwrap_or_default(), bytes.get(half..2 * half).unwrap_or_default());
    let (mut sa, mut sb) = (0i32, 0i32);
    for (j, xb) in xs.chunks_exact(LANE_BLOCK).enumerate() {
        let (ya, yb) = if NATIVE {
            let at = 4 * B * j..4 * B * (j + 1);
            let (ba, bb) = (pa.get(at.clone()).unwrap_or_default(), pb.get(at).unwrap_or_default());
            block_smlad::<B>(xb, ba, bb)
        } else {
            block_i8::<B>(xb, &block_words::<B>(pa, j), &block_words::<B>(pb, j))
        };
        sa = sa.wrapping_add(ya);
        sb = sb.wrapping_add(yb);
    }
    (sa, sb)
}

/// One block on Armv7E-M (`pa`, `pb`: the block's `4·B` bytes of each row): per 4 inputs one
/// word, its two input pairs, and per row two dual MACs. Each row's words are loaded as the
/// pairs reach them and the spare-bit pairs gathered from each word as it is loaded: two words
/// live at a time instead of `2·B`, which leaves the group loop its registers.
#[inline(always)]
fn block_smlad<const B: usize>(xb: &[i8], pa: &[u8], pb: &[u8]) -> (i32, i32) {
    let l = 16 / B; // regular pairs per word
    let (regular, both) = (B * l, 0x0001_0001u32);
    let (mask, spare) = (((1u32 << B) - 1) * both, 16 - B * l);
    let word = |p: &[u8], j: usize| le_u32(p.get(4 * j..4 * j + 4).unwrap_or_default());
    // Spare-bit pairs (at most 4, at 6 bits), built from each word as it is loaded: the bit
    // map of [`lane_pair`]'s spare slots, word by word (a helper shared by both compiled this
    // body to 3.7% more instructions on the 8 kHz model, kbench).
    let (mut spa, mut spb) = ([0u32; 4], [0u32; 4]);
    let gather = |sp: &mut [u32; 4], w: u32, j: usize| {
        for (e, v) in sp.iter_mut().enumerate().take(LANE_BLOCK / 2 - regular) {
            let (lo, hi) = ((j * spare).max(e * B), ((j + 1) * spare).min(e * B + B));
            if lo < hi {
                let (src, dst) = (regular + lo - j * spare, lo - e * B);
                *v |= (w >> (src - dst)) & ((((1u32 << (hi - lo)) - 1) * both) << dst);
            }
        }
    };
    let (mut sa, mut sb, mut wa, mut wb) = (0i32, 0i32, 0u32, 0u32);
    unroll8!(Q => {
        let x4 = xb.get(4 * Q..4 * Q + 4).and_then(|x| <[i8; 4]>::try_from(x).ok());
        let xw = x4.map_or(0, |b| u32::from_le_bytes(b.map(|v| v as u8)));
        for (k, x) in [(2 * Q, sxtb16(xw)), (2 * Q + 1, sxtb16_ror8(xw))] {
            if k < regular {
                if k % l == 0 {
                    (wa, wb) = (word(pa, k / l), word(pb, k / l));
                    gather(&mut spa, wa, k / l);
                    gather(&mut spb, wb, k / l);
                }
                sa = smlad((wa >> ((k % l) * B)) & mask, x, sa);
                sb = smlad((wb >> ((k % l) * B)) & mask, x, sb);
            } else {
                let e = k - regular;
                sa = smlad(spa.get(e).copied().unwrap_or(0), x, sa);
                sb = smlad(spb.get(e).copied().unwrap_or(0), x, sb);
            }
        }
    });
    (sa, sb)
}

/// One block of both rows on cores without dual MACs.
#[inline(always)]
fn block_i8<const B: usize>(xb: &[i8], wa: &[u32; B], wb: &[u32; B]) -> (i32, i32) {
    if B <= 4 {
        block_swar::<B>(xb, wa, wb)
    } else {
        block_plain::<B>(xb, wa, wb)
    }
}

/// One block without dual MACs (`B ≤ 4`): lane `h` of both rows side by side (row `a` low, row
/// `b` high), so each input multiplies two rows' levels at once: `acc = A + 2^16·B`. Between
/// flushes `|A| ≤ n·128·(2^B − 1) < 2^15` (`n` terms), so `A` is `acc`'s low half
/// sign-extended and `B = (acc − A) >> 16`, exactly.
#[inline(always)]
fn block_swar<const B: usize>(xb: &[i8], wa: &[u32; B], wb: &[u32; B]) -> (i32, i32) {
    let at = |w: &[u32; B], j: usize| w.get(j).copied().unwrap_or(0);
    let lanes: [[u32; B]; 2] = [
        core::array::from_fn(|j| (at(wa, j) & 0xFFFF) | (at(wb, j) << 16)),
        core::array::from_fn(|j| (at(wa, j) >> 16) | (at(wb, j) & 0xFFFF_0000)),
    ];
    let flush_every = (32_767 / (128 * ((1usize << B) - 1))).min(LANE_BLOCK); // terms: 32, 32, 32, 17
    let (mut sa, mut sb, mut acc) = (0i32, 0i32, 0i32);
    unroll8!(Q => {
        for t in 0..4 {
            // Input 4Q + t: pair 2Q + t % 2, lane t / 2.
            let (k, h) = (2 * Q + t % 2, t / 2);
            let x = xb.get(lane_column(k, h)).copied().map_or(0, i32::from);
            let lw = if h == 0 { &lanes[0] } else { &lanes[1] };
            acc = acc.wrapping_add(x.wrapping_mul(lane_pair::<B>(lw, k) as i32));
            let n = 4 * Q + t + 1;
            if n % flush_every == 0 || n == LANE_BLOCK {
                let lo = i32::from(acc as i16);
                (sa, sb, acc) = (sa.wrapping_add(lo), sb.wrapping_add(acc.wrapping_sub(lo) >> 16), 0);
            }
        }
    });
    (sa, sb)
}

/// One block, level by level (portable targets, `B > 4`).
#[inline(always)]
fn block_plain<const B: usize>(xb: &[i8], wa: &[u32; B], wb: &[u32; B]) -> (i32, i32) {
    let (mut sa, mut sb) = (0i32, 0i32);
    unroll8!(Q => {
        for k in [2 * Q, 2 * Q + 1] {
            let (pa, pb) = (lane_pair::<B>(wa, k), lane_pair::<B>(wb, k));
            for h in 0..2 {
                let x = xb.get(lane_column(k, h)).copied().map_or(0, i32::from);
                sa = sa.wrapping_add(x.wrapping_mul(((pa >> (16 * h)) & 0xFFFF) as i32));
                sb = sb.wrapping_add(x.wrapping_mul(((pb >> (16 * h)) & 0xFFFF) as i32));
            }
        }
    });
    (sa, sb)
}

/// [`dot_lanes_i8`] for any width `b` (1..=15) known only at run time, level by level through
/// the format's bit map, in i64 (exact for any group).
pub(crate) fn dot_lanes_any_i8(xs: &[i8], bytes: &[u8], b: u8) -> (i64, i64) {
    let block = 4 * usize::from(b);
    let half = xs.len() / LANE_BLOCK * block;
    let (pa, pb) = (bytes.get(..half).unwrap_or_default(), bytes.get(half..2 * half).unwrap_or_default());
    let (mut sa, mut sb) = (0i64, 0i64);
    for (c, x) in xs.iter().enumerate() {
        let (at, col) = (c / LANE_BLOCK * block, c % LANE_BLOCK);
        let (la, lb) = (
            lane_level(pa.get(at..).unwrap_or_default(), b, col),
            lane_level(pb.get(at..).unwrap_or_default(), b, col),
        );
        sa = sa.wrapping_add(i64::from(*x) * i64::from(la));
        sb = sb.wrapping_add(i64::from(*x) * i64::from(lb));
    }
    (sa, sb)
}

/// The widened inputs of one block of [`LANE_BLOCK`] inputs: its 16 input pairs, one word each
/// (`SXTB16` pairs, or RV32's product pairs: [`super::lanes_wide_i8`]).
pub(super) type WideBlock = [u32; LANE_BLOCK / 2];

/// The multiplier of each width's level sums, indexed by width (0 for width 0). i32, widened
/// where it is used, so the fold is one 32×32→64 multiply-accumulate.
pub(super) type Mults = [i32; 16];

/// `acc` plus `m·sa` and `m·sb` (a group's or a run's two row sums scaled by its width's
/// multiplier), wrapping.
#[inline(always)]
pub(super) fn add_scaled((a, c): (i64, i64), (sa, sb, m): (i32, i32, i32)) -> (i64, i64) {
    let m = i64::from(m);
    (a.wrapping_add(m.wrapping_mul(i64::from(sa))), c.wrapping_add(m.wrapping_mul(i64::from(sb))))
}

/// One row-pair group of any width (the widths this build has no body for, and segments that
/// are not whole 8-level chunks): `(sa, sb, m(b))`, the bytes after it left in `data`. Out of
/// line, so that the group loop's registers serve the unrolled bodies.
#[inline(never)]
pub(super) fn pair_group_any_i8(xs: &[i8], data: &mut &[u8], b: u8, m: &Mults, lanes: bool) -> Option<(i32, i32, i32)> {
    let (g, rest) = split_group(data, 2 * xs.len(), b)?;
    *data = rest;
    // (The caller checked that a group's sums fit i32.)
    let (sa, sb) = if lanes {
        let (a, c) = dot_lanes_any_i8(xs, g, b);
        (a as i32, c as i32)
    } else {
        dot_pair_any_i8(xs, g, b)
    };
    Some((sa, sb, m.get(usize::from(b)).copied().unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing)]
    use super::*;
    use crate::kernels::test_util::{lane_pair_group, Rng};

    fn check<const B: usize>(x: &[i8], levels: &[[u16; 64]; 2]) {
        let n = x.len();
        let (bytes, half) = (lane_pair_group(levels, n, B as u8), n / 8 * B);
        let want = [0, 1].map(|r| x.iter().zip(levels[r]).map(|(&v, l)| i64::from(v) * i64::from(l)).sum::<i64>());
        let (a, b) = dot_lanes_i8::<B>(x, &bytes);
        assert_eq!((i64::from(a), i64::from(b)), (want[0], want[1]), "B={B} n={n}");
        let first =
            [0, 1].map(|r| x[..32].iter().zip(levels[r]).map(|(&v, l)| i32::from(v) * i32::from(l)).sum::<i32>());
        let (wa, wb) = (block_words::<B>(&bytes, 0), block_words::<B>(&bytes[half..], 0));
        let lanes = [block_swar::<B>, block_plain::<B>];
        for (i, f) in lanes.iter().enumerate().filter(|(i, _)| *i != 0 || B <= 4) {
            assert_eq!(f(&x[..32], &wa, &wb), (first[0], first[1]), "body {i}, B={B}");
        }
        let smlad = block_smlad::<B>(&x[..32], &bytes[..4 * B], &bytes[half..half + 4 * B]);
        assert_eq!(smlad, (first[0], first[1]), "dual MACs, B={B}");
        assert_eq!(dot_lanes_any_i8(x, &bytes, B as u8), (want[0], want[1]), "any, B={B}");
    }

    /// Every body (dual MACs in portable form, two-row SWAR, level by level, the any-width
    /// reader) against i64 sums on random inputs, −128 included, every width up to 8.
    #[test]
    fn lane_bodies_equal_the_reference() {
        let mut rng = Rng::new(0x1A9E);
        let mut next = move || rng.next_u32();
        for round in 0..200 {
            let x: [i8; 64] = core::array::from_fn(|i| if round % 7 == 0 && i % 3 == 0 { -128 } else { next() as i8 });
            let levels: [[u16; 64]; 2] = core::array::from_fn(|_| core::array::from_fn(|_| next() as u16));
            let top =
                |b: u32| levels.map(|r| r.map(|l| if round % 5 == 0 { (1 << b) - 1 } else { l & ((1 << b) - 1) }));
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
