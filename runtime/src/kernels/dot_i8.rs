//! Per-group dot products of the integer path: `Σ q_i·level_i` over one group's packed levels,
//! for a width known at compile time (`B ≤ 8`; unrolled for a constant length, or one 8-level
//! chunk per iteration for a run-time one) and for any width; and the two-rows-at-once
//! variants ("SWAR": two rows' levels in one 32-bit word, one multiply for two MACs) for the
//! fixed-bit path and for row-pair groups.

use super::bits::{halves_mask, le_u128, le_u32, le_u64, le_words_u128, unpack8, LevelReader};
use super::pair_bytes::{pair_bytes_fit, pair_bytes_i8};
use crate::quant::group_bytes;

/// Whether `Σ q·level` over `group_size` levels of `bits` bits fits i32 for any i8 input.
pub(crate) fn fits_i32(group_size: usize, bits: u8) -> bool {
    // 128, not 127: callers and hostile LUTs can feed −128 (e.g. 1032 × 128 × 16383 ≥ 2^31).
    (group_size as u64) * 128 * ((1u64 << bits) - 1) < (1u64 << 31)
}

/// 8 MACs, the levels LSB-first in `w` (`B ≤ 8`).
#[inline(always)]
fn mac8_i8<const B: usize>(xs: &[i8], w: u64) -> i32 {
    let Ok(&[x0, x1, x2, x3, x4, x5, x6, x7]) = <&[i8; 8]>::try_from(xs) else { return 0 };
    let mask = (1u64 << B) - 1;
    let l = |i: usize| ((w >> (i * B)) & mask) as i32;
    i32::from(x0) * l(0)
        + i32::from(x1) * l(1)
        + i32::from(x2) * l(2)
        + i32::from(x3) * l(3)
        + i32::from(x4) * l(4)
        + i32::from(x5) * l(5)
        + i32::from(x6) * l(6)
        + i32::from(x7) * l(7)
}

/// `Σ q_i·level_i` over one group in i32 (exact when [`fits_i32`] holds for the group).
/// Widths up to 7 bits read the levels in blocks of `min(16 / B, 4)` chunks (≤ 16 bytes, word
/// loads); 8 bits is byte-aligned already (and vectorises on hosts as it is).
#[inline(always)]
pub(crate) fn dot_group_i8<const B: usize>(x: &[i8], p: &[u8]) -> i32 {
    let mut a = 0i32;
    if B <= 7 {
        let c = (16 / B).min(4); // small enough to unroll: constant shifts
        let (xb, pb) = (x.chunks_exact(8 * c), p.chunks_exact(B * c));
        let (xr, pr) = (xb.remainder(), pb.remainder());
        for (xs, ps) in xb.zip(pb) {
            let v = le_u128(ps);
            for (j, x8) in xs.chunks_exact(8).enumerate() {
                a += mac8_i8::<B>(x8, (v >> (8 * B * j)) as u64);
            }
        }
        for (x8, p8) in xr.chunks_exact(8).zip(pr.chunks_exact(B)) {
            a += mac8_i8::<B>(x8, le_u64(p8));
        }
        return a;
    }
    for (xs, ps) in x.chunks_exact(8).zip(p.chunks_exact(B)) {
        let l = unpack8::<B>(ps);
        for (xv, lv) in xs.iter().zip(l.iter()) {
            a += i32::from(*xv) * (*lv as i32);
        }
    }
    a
}

/// [`dot_group_i8`] for a run-time number of chunks (`x.len() / 8`, `B ≤ 8`): one chunk of 8
/// levels (`B` bytes) per iteration, so each width's body stays one chunk long whatever the group
/// size (the kernels' path for group sizes other than the unrolled one).
#[inline(always)]
pub(crate) fn dot_chunks_i8<const B: usize>(x: &[i8], p: &[u8]) -> i32 {
    let mut a = 0i32;
    for (x8, p8) in x.chunks_exact(8).zip(p.chunks_exact(B)) {
        a += mac8_i8::<B>(x8, chunk_word::<B>(p8));
    }
    a
}

/// One chunk's `B` bytes as a little-endian word (32-bit up to 4 bytes).
#[inline(always)]
fn chunk_word<const B: usize>(p: &[u8]) -> u64 {
    if B <= 4 {
        u64::from(le_u32(p))
    } else {
        le_u64(p)
    }
}

/// [`dot_group_i8`] for groups whose sum may not fit i32: summed in i32 8 levels at a time,
/// widened per chunk.
#[inline(always)]
pub(crate) fn dot_group_wide_i8<const B: usize>(x: &[i8], p: &[u8]) -> i64 {
    let mut acc = 0i64;
    for (xs, ps) in x.chunks_exact(8).zip(p.chunks_exact(B)) {
        let l = unpack8::<B>(ps);
        let mut a = 0i32;
        for (xv, lv) in xs.iter().zip(l.iter()) {
            a += i32::from(*xv) * (*lv as i32);
        }
        acc += i64::from(a);
    }
    acc
}

/// [`dot_group_i8`] for a width `bits` (1..=15) known only at run time (wrapping when
/// [`fits_i32`] does not hold, never a panic).
pub(crate) fn dot_group_any_i8(x: &[i8], p: &[u8], bits: u8) -> i32 {
    let mut r = LevelReader::new(p, bits);
    x.iter().fold(0i32, |a, xv| a.wrapping_add(i32::from(*xv) * r.next_level() as i32))
}

/// [`dot_group_any_i8`] in i64, for groups whose sum may not fit i32.
pub(crate) fn dot_group_any_wide_i8(x: &[i8], p: &[u8], bits: u8) -> i64 {
    let mut r = LevelReader::new(p, bits);
    x.iter().fold(0i64, |a, xv| a.wrapping_add(i64::from(*xv) * i64::from(r.next_level())))
}

/// 8 MACs of each of two rows (`B ≤ 4`; `wa`, `wb`: the rows' 8 levels, LSB-first): the levels
/// of row `a` go to the low 16 bits of a word, those of row `b` to the high 16, so one 32-bit
/// multiply-accumulate by `x_i` does two MACs.
#[inline(always)]
fn mac8x2_i8<const B: usize>(xs: &[i8], wa: u32, wb: u32) -> i32 {
    let Ok(&[x0, x1, x2, x3, x4, x5, x6, x7]) = <&[i8; 8]>::try_from(xs) else { return 0 };
    let mask = halves_mask(B);
    let lo = (wa & 0xFFFF) | (wb << 16);
    let hi = ((wa >> (4 * B)) & 0xFFFF) | ((wb >> (4 * B)) << 16);
    let l = |w: u32, i: usize| ((w >> (i * B)) & mask) as i32;
    i32::from(x0) * l(lo, 0)
        + i32::from(x1) * l(lo, 1)
        + i32::from(x2) * l(lo, 2)
        + i32::from(x3) * l(lo, 3)
        + i32::from(x4) * l(hi, 0)
        + i32::from(x5) * l(hi, 1)
        + i32::from(x6) * l(hi, 2)
        + i32::from(x7) * l(hi, 3)
}

/// Two output rows at once for `B ≤ 4`, each row's levels stored on their own: blocks of
/// [`ROWS2_BLOCK`] levels go through the row-pair body ([`pair_body_i8`]: a row-pair segment's
/// two halves are two rows' levels of the same inputs), the rest (fewer than a block) 8 levels at
/// a time through [`pair_chunks_i8`]. The sums are i32, exact where [`fits_i32`] holds for the
/// input's length (the callers check).
#[inline(always)]
pub(crate) fn dot_rows2_i8<const B: usize>(x: &[i8], pa: &[u8], pb: &[u8]) -> (i32, i32) {
    let (mut sa, mut sb) = (0i32, 0i32);
    let block_bytes = ROWS2_BLOCK * B / 8;
    let (xb, ab, bb) = (x.chunks_exact(ROWS2_BLOCK), pa.chunks_exact(block_bytes), pb.chunks_exact(block_bytes));
    let (xr, ar, br) = (xb.remainder(), ab.remainder(), bb.remainder());
    for ((xs, a), b) in xb.zip(ab).zip(bb) {
        let (ya, yb) = pair_body_i8::<B, ROWS2_BLOCK>(xs, a, b);
        sa = sa.wrapping_add(ya);
        sb = sb.wrapping_add(yb);
    }
    if xr.is_empty() {
        return (sa, sb);
    }
    let (ya, yb) = pair_chunks_i8::<B>(xr, ar, br);
    (sa.wrapping_add(ya), sb.wrapping_add(yb))
}

/// The levels per block of [`dot_rows2_i8`]: 2 chunks of 8 (at most 8 bytes per row at `B ≤ 4`).
/// Measured on the M4 (the 16 kHz model's 2-bit 257 × 48 mask layer): blocks of 16 leave no
/// 8-level remainder for lengths of whole 16s: 0.4% fewer instructions per frame and 4.9 KB less
/// code than blocks of 32, 1.6% fewer instructions than blocks of 8.
const ROWS2_BLOCK: usize = 16;

/// Both rows' level sums of one row-pair group (`bytes`: row `a`'s `B`-bit levels, then row
/// `b`'s; `S`: the segment length; inlined into the group loop, out of line on Armv6-M). Widths
/// up to 4 bits with segments of at most 16 bytes put row `a`'s levels in the low half of a
/// word and the same inputs' levels of row `b` in the high half, so one multiply-accumulate by
/// `x_i` does two MACs: `acc = A + 2^16·B`. Between flushes `|A| ≤ F·128·(2^B − 1) < 2^15` (`F`
/// levels), so `A` is `acc`'s low half sign-extended and `B = (acc − A) >> 16`, exactly (and
/// `|acc| < 2^31` for any `i8` input, −128 included). Each row's segment is read as whole words
/// ([`pair_words_i8`]), except on Armv6-M (8 low registers, no shifted operands), which takes 8
/// levels at a time out of line ([`pair_chunks_i8`]: fewer live registers; the words body cost
/// it 1% more instructions per frame), and on RV32 at 3 and 4 bits, whose words are put together
/// from bytes only where their lanes start ([`pair_bytes_i8`]: 2% fewer instructions per frame). Armv6-M is told apart as the Arm target without 32-bit
/// atomics (stable Rust exposes no Arm architecture features to `cfg`).
#[cfg_attr(not(all(target_arch = "arm", not(target_has_atomic = "32"))), inline(always))]
#[cfg_attr(all(target_arch = "arm", not(target_has_atomic = "32")), inline(never))]
pub(crate) fn dot_pair_i8<const B: usize, const S: usize>(xs: &[i8], bytes: &[u8]) -> (i32, i32) {
    let half = group_bytes(S, B as u8);
    let split = S > PAIR_BODY_MAX && S % 16 == 0; // two bodies of S/2 levels (whole bytes)
    if B > 4 || (half > 16 && !split) || xs.len() != S {
        return dot_pair_anylen_i8::<B>(xs, bytes);
    }
    let (Some(pa), Some(pb)) = (bytes.get(..half), bytes.get(half..2 * half)) else { return (0, 0) };
    if split {
        let (hx, hb) = (S / 2, half / 2);
        let ((x1, x2), (a1, a2), (b1, b2)) = (xs.split_at(hx), pa.split_at(hb), pb.split_at(hb));
        // `S` picks the target's body as for the whole segment (its halves are whole bytes too).
        let (s1, t1) = pair_body_i8::<B, S>(x1, a1, b1);
        let (s2, t2) = pair_body_i8::<B, S>(x2, a2, b2);
        return (s1.wrapping_add(s2), t1.wrapping_add(t2));
    }
    pair_body_i8::<B, S>(xs, pa, pb)
}

/// The longest segment [`dot_pair_i8`] runs as one body: LLVM unrolls the body's loop over 32
/// levels (the groups of 64) but not over 48 (the groups of 96), whose segments run as two
/// bodies of 24 levels (a generic loop instead cost the 16 kHz model's M4 integer frame 17% more
/// instructions).
const PAIR_BODY_MAX: usize = 32;

/// The level sums of two rows over the same `S` inputs (`B ≤ 4`, `pa`, `pb`: each row's packed
/// levels, at most 16 bytes), by target as [`dot_pair_i8`] describes.
#[inline(always)]
fn pair_body_i8<const B: usize, const S: usize>(xs: &[i8], pa: &[u8], pb: &[u8]) -> (i32, i32) {
    if cfg!(all(target_arch = "arm", not(target_has_atomic = "32"))) {
        pair_chunks_i8::<B>(xs, pa, pb)
    } else if cfg!(target_arch = "riscv32") && pair_bytes_fit::<B>(S) {
        pair_bytes_i8::<B>(xs, pa, pb)
    } else {
        pair_words_i8::<B>(xs, pa, pb)
    }
}

/// [`dot_pair_i8`]'s body: one word holds `16 / B` levels of each row (a halfword
/// pack: `pkhbt`/`pkhtb`), and an `and` with a shifted operand extracts two levels.
#[inline(always)]
fn pair_words_i8<const B: usize>(xs: &[i8], pa: &[u8], pb: &[u8]) -> (i32, i32) {
    let (va, vb) = (le_words_u128(pa), le_words_u128(pb));
    let per_word = 16 / B; // levels of each row in a packed word
    let mask = halves_mask(B);
    // Packed words between flushes: B = 1..=4 → 15, 10, 7, 4 (240, 80, 35, 16 levels).
    let flush_every = ((32_767 / (128 * ((1 << B) - 1))) / per_word).max(1);
    let (mut sa, mut sb, mut acc) = (0i32, 0i32, 0i32);
    let mut flush = |acc: &mut i32| {
        let lo = i32::from(*acc as i16);
        (sa, sb, *acc) = (sa + lo, sb + ((*acc - lo) >> 16), 0);
    };
    let word = |c: usize| {
        let at = c * per_word * B;
        ((va >> at) as u32 & 0xFFFF) | (((vb >> at) as u32) << 16)
    };
    if xs.len() % 4 == 0 && !cfg!(target_arch = "riscv32") {
        // Inputs 4 at a time: one (unaligned) word load each, then one sign-extending extract
        // per input (`sxtb` with a rotation, `asr` for the top byte), where a byte load each
        // costs the M4 2 cycles apiece between the multiplies. RV32 has no unaligned word loads
        // (and spills more with this loop's shape).
        for (q, xq) in xs.chunks_exact(4).enumerate() {
            let xw = <[i8; 4]>::try_from(xq).map_or(0, |b| u32::from_le_bytes(b.map(|v| v as u8)));
            for k in 0..4 {
                let (c, j) = ((4 * q + k) / per_word, (4 * q + k) % per_word);
                acc += (((xw << (24 - 8 * k)) as i32) >> 24) * ((word(c) >> (j * B)) & mask) as i32;
                if j + 1 == per_word && (c + 1) % flush_every == 0 {
                    flush(&mut acc);
                }
            }
        }
    } else {
        for (c, xw) in xs.chunks(per_word).enumerate() {
            let w = word(c);
            for (j, x) in xw.iter().enumerate() {
                acc += i32::from(*x) * ((w >> (j * B)) & mask) as i32;
            }
            if (c + 1) % flush_every == 0 {
                flush(&mut acc);
            }
        }
    }
    let lo = i32::from(acc as i16);
    (sa + lo, sb + ((acc - lo) >> 16))
}

/// [`dot_pair_i8`]'s body on Armv6-M: one chunk of 8 levels (`B` bytes per row) at a time through
/// [`mac8x2_i8`], flushed every `F` chunks (`|A| ≤ F·8·128·(2^B − 1) < 2^15`).
#[inline(always)]
fn pair_chunks_i8<const B: usize>(xs: &[i8], pa: &[u8], pb: &[u8]) -> (i32, i32) {
    let f: usize = ((32_767 / (128 * ((1 << B) - 1))) / 8).clamp(1, 4);
    let (mut sa, mut sb, mut acc) = (0i32, 0i32, 0i32);
    for (c, ((x8, ca), cb)) in xs.chunks_exact(8).zip(pa.chunks_exact(B)).zip(pb.chunks_exact(B)).enumerate() {
        acc += mac8x2_i8::<B>(x8, le_u32(ca), le_u32(cb));
        if (c + 1) % f == 0 {
            let lo = i32::from(acc as i16);
            (sa, sb, acc) = (sa + lo, sb + ((acc - lo) >> 16), 0);
        }
    }
    let lo = i32::from(acc as i16);
    (sa + lo, sb + ((acc - lo) >> 16))
}

/// [`dot_pair_i8`] for any segment length (of whole chunks), `B ≤ 8`: the `S = 0` body (run-time
/// segment lengths), blocks of chunks and then single chunks ([`dot_rows2_i8`], [`dot_group_i8`]).
#[inline(always)]
fn dot_pair_anylen_i8<const B: usize>(xs: &[i8], bytes: &[u8]) -> (i32, i32) {
    let Some((pa, pb)) = bytes.split_at_checked(group_bytes(xs.len(), B as u8)) else { return (0, 0) };
    if B <= 4 {
        dot_rows2_i8::<B>(xs, pa, pb)
    } else {
        (dot_group_i8::<B>(xs, pa), dot_group_i8::<B>(xs, pb))
    }
}

/// [`dot_pair_i8`] for any segment length and width: the widths a build has no body for, in
/// [`pair_group_any_i8`](super::lanes_i8::pair_group_any_i8), itself out of line (one copy of the
/// any-width body for both rows).
#[inline(always)]
pub(crate) fn dot_pair_any_i8(xs: &[i8], bytes: &[u8], b: u8) -> (i32, i32) {
    let Some((pa, pb)) = bytes.split_at_checked(group_bytes(xs.len(), b)) else { return (0, 0) };
    (dot_group_any_cold_i8(xs, pa, b), dot_group_any_cold_i8(xs, pb, b))
}

/// [`dot_group_any_i8`] out of line: one copy for the two rows of a pair on the paths for the
/// widths a build has no body for.
#[inline(never)]
fn dot_group_any_cold_i8(x: &[i8], p: &[u8], bits: u8) -> i32 {
    dot_group_any_i8(x, p, bits)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::kernels::test_util::Rng;
    use crate::quant::pack_levels;
    use std::vec::Vec;
    extern crate std;

    /// One row-pair group: `seg` random levels of `b` bits per row, packed row `a` then row `b`
    /// (as the format stores them), with the plain `Σ x·level` of each row.
    pub(crate) fn pair_case(rng: &mut Rng, x: &[i8], b: u8) -> (Vec<u8>, (i32, i32)) {
        let top = (1u32 << b) - 1;
        let mut bytes = Vec::new();
        let mut sums = [0i32; 2];
        for sum in &mut sums {
            let levels: Vec<u16> = (0..x.len())
                .map(|_| if rng.below(4) == 0 { top as u16 } else { rng.below(top as usize + 1) as u16 })
                .collect();
            let mut row = std::vec![0u8; group_bytes(x.len(), b)];
            assert_eq!(pack_levels(&levels, b, &mut row), Some(row.len()));
            bytes.extend_from_slice(&row);
            *sum = x.iter().zip(&levels).map(|(xv, l)| i32::from(*xv) * i32::from(*l)).sum();
        }
        (bytes, (sums[0], sums[1]))
    }

    /// Inputs with the extremes (−128 included) mixed in.
    pub(crate) fn inputs(rng: &mut Rng, n: usize) -> Vec<i8> {
        (0..n).map(|_| [i8::MIN, i8::MAX, rng.below(256) as u8 as i8][rng.below(3)]).collect()
    }

    /// The inlined pair bodies (`dot_pair_i8::<B, S>`: whole words for `B ≤ 4` and segments of at
    /// most 16 bytes, the any-length bodies otherwise, as for `S = 0`: a run-time length) and the
    /// one-chunk-at-a-time row body agree with the plain sums at every width 1..=8 and segment
    /// lengths of whole bytes at every width.
    #[test]
    fn dot_pair_matches_reference_at_every_width() {
        fn check<const B: usize, const S: usize>(rng: &mut Rng) {
            for _ in 0..20 {
                let x = inputs(rng, S);
                let (bytes, want) = pair_case(rng, &x, B as u8);
                assert_eq!(dot_pair_i8::<B, S>(&x, &bytes), want, "B={B} S={S}");
                assert_eq!(dot_pair_i8::<B, 0>(&x, &bytes), want, "B={B}, {S} levels, run-time length");
                let (pa, pb) = bytes.split_at(bytes.len() / 2);
                let rows = (dot_chunks_i8::<B>(&x, pa), dot_chunks_i8::<B>(&x, pb));
                assert_eq!(rows, want, "B={B}, {S} levels, one chunk at a time");
            }
        }
        macro_rules! each_width {
            ($s:literal, $rng:expr) => {
                check::<1, $s>($rng);
                check::<2, $s>($rng);
                check::<3, $s>($rng);
                check::<4, $s>($rng);
                check::<5, $s>($rng);
                check::<6, $s>($rng);
                check::<7, $s>($rng);
                check::<8, $s>($rng);
            };
        }
        let mut rng = Rng::new(11);
        each_width!(32, &mut rng);
        each_width!(16, &mut rng);
        each_width!(8, &mut rng);
        each_width!(24, &mut rng);
        each_width!(40, &mut rng);
        each_width!(64, &mut rng);
        each_width!(48, &mut rng);
    }

    /// The run-time-width pair body agrees with the plain sums for random widths 1..=8 and random
    /// segment lengths (multiples of 8: whole bytes at every width).
    #[test]
    fn dot_pair_any_matches_reference_for_random_widths_and_lengths() {
        let mut rng = Rng::new(12);
        for _ in 0..500 {
            let b = 1 + rng.below(8) as u8;
            let seg = 8 * (1 + rng.below(12));
            let x = inputs(&mut rng, seg);
            let (bytes, want) = pair_case(&mut rng, &x, b);
            assert_eq!(dot_pair_any_i8(&x, &bytes, b), want, "b={b} seg={seg}");
        }
    }
}
