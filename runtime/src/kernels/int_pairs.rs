//! Two output rows per pass over the inputs (integer path): the SWAR multiply that puts two
//! rows' levels in one 32-bit word, used by the fixed-bit kernels, and the walk over
//! `Layout::RowPairs` groups, where one bit width covers the same inputs of two rows.

use super::any_width;
use super::int::dot_group32;
use super::unpack::{dispatch_bits_upto8, le_u128, le_u32, le_u64, skip_groups};
use crate::error::Error;
use crate::format::GroupBits;
use crate::quant::{group_bytes, MAX_BITS};

/// 8 MACs of each of two rows (`B ≤ 4`; `wa`, `wb`: the rows' 8 levels, LSB-first): the levels
/// of row `a` go to the low 16 bits of a word, those of row `b` to the high 16, so one 32-bit
/// multiply-accumulate by `x_i` does two MACs.
#[inline(always)]
pub(super) fn chunk2<const B: usize>(xs: &[i8], wa: u32, wb: u32) -> i32 {
    let Ok(&[x0, x1, x2, x3, x4, x5, x6, x7]) = <&[i8; 8]>::try_from(xs) else { return 0 };
    let lane = (1u32 << B) - 1;
    let mask = lane | (lane << 16);
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

/// Two output rows at once for `B ≤ 4` ("SWAR", see [`chunk2`]): `acc = A + 2^16·B`. Over a
/// block of `F` chunks of 8 levels `|A| ≤ F·8·128·(2^B−1) ≤ 30 720 < 2^15`, so `A` is `acc`'s
/// low half sign-extended and `B = (acc − A) >> 16`, exactly (and `|acc| < 2^31` for any `i8`
/// input, −128 included). A block's levels (`F·B ≤ 16` bytes) are read as whole words.
#[inline(always)]
pub(super) fn dot2_swar<const B: usize>(x: &[i8], pa: &[u8], pb: &[u8]) -> (i64, i64) {
    let f: usize = ((32_767 / (128 * ((1 << B) - 1))) / 8).min(16 / B).min(4); // B = 1..=4: 4, 4, 4, 2
    let (mut sa, mut sb) = (0i64, 0i64);
    let mut flush = |acc: i32| {
        let lo = i32::from(acc as i16);
        sa += i64::from(lo);
        sb += i64::from((acc - lo) >> 16);
    };
    let (xb, ab, bb) = (x.chunks_exact(8 * f), pa.chunks_exact(B * f), pb.chunks_exact(B * f));
    let (xr, ar, br) = (xb.remainder(), ab.remainder(), bb.remainder());
    for ((xs, a), b) in xb.zip(ab).zip(bb) {
        let (va, vb) = (le_u128(a), le_u128(b));
        let mut acc = 0i32;
        for (c, x8) in xs.chunks_exact(8).enumerate() {
            acc += chunk2::<B>(x8, (va >> (8 * B * c)) as u32, (vb >> (8 * B * c)) as u32);
        }
        flush(acc);
    }
    let mut acc = 0i32;
    for ((x8, a8), b8) in xr.chunks_exact(8).zip(ar.chunks_exact(B)).zip(br.chunks_exact(B)) {
        acc += chunk2::<B>(x8, le_u64(a8) as u32, le_u64(b8) as u32);
    }
    flush(acc);
    (sa, sb)
}

/// Level sums of two rows stored as a pair (`Layout::RowPairs`): each group is a segment of
/// `S` levels of row `a`, then the same inputs' levels of row `b`, both at the group's width.
/// `S`: the segment length when known at compile time (0: `gs / 2`).
#[inline(always)]
pub(super) fn pair_sums<const S: usize>(
    gs: usize,
    bits: &mut GroupBits<'_>,
    data: &mut &[u8],
    taps: &[Option<&[i8]>],
    in_len: usize,
    sa: &mut [i32; 16],
    sb: &mut [i32; 16],
) -> Result<(), Error> {
    let seg = if S == 0 { gs / 2 } else { S };
    for tap in taps {
        match tap {
            Some(x) => {
                for xs in x.chunks_exact(seg) {
                    let b = bits.next().unwrap_or(0);
                    let (bytes, rest) = data.split_at_checked(group_bytes(2 * seg, b)).ok_or(Error::KernelShape)?;
                    *data = rest;
                    if b == 0 || b > MAX_BITS {
                        return Err(Error::KernelShape);
                    }
                    let (a, c) = if S == 0 || b > 8 {
                        pair_any(xs, bytes, b)
                    } else {
                        dispatch_bits_upto8!(b, pair_dot, [S], (0, 0), (xs, bytes))
                    };
                    if let (Some(x), Some(y)) = (sa.get_mut(usize::from(b)), sb.get_mut(usize::from(b))) {
                        *x = x.wrapping_add(a);
                        *y = y.wrapping_add(c);
                    }
                }
            }
            None => *data = skip_groups(bits, data, in_len / seg, 2 * seg)?,
        }
    }
    Ok(())
}

/// Both rows' level sums of one pair group (`bytes`: row `a`'s `B`-bit levels, then row `b`'s).
/// Kept out of line: one small, register-friendly body per width instead of eight inlined
/// into the group loop. Widths up to 4 bits with segments of at most 16 bytes read each row's
/// levels as one 128-bit value and multiply both rows' levels with one instruction ([`chunk2`]).
/// `bytes` must be the group's `2·S·B/8` bytes (the caller splits them off); the result is
/// returned in registers, not through memory.
#[cfg_attr(target_arch = "riscv32", inline(always))]
#[cfg_attr(not(target_arch = "riscv32"), inline(never))]
fn pair_dot<const B: usize, const S: usize>(xs: &[i8], bytes: &[u8]) -> (i32, i32) {
    let half = group_bytes(S, B as u8);
    if B > 4 || half > 16 || xs.len() != S {
        return pair_dot_any::<B>(xs, bytes);
    }
    let (Some(pa), Some(pb)) = (bytes.get(..half), bytes.get(half..2 * half)) else { return (0, 0) };
    // Chunks between flushes: |A| ≤ F·8·128·(2^B − 1) < 2^15 (as in `dot2_swar`).
    let f: usize = ((32_767 / (128 * ((1 << B) - 1))) / 8).min(4);
    let (mut sa, mut sb, mut acc) = (0i32, 0i32, 0i32);
    // One chunk (8 levels = B bytes per row, one word each) at a time: few live registers, so
    // the out-of-line body needs no callee-saved registers on RISC-V.
    for (c, ((x8, ca), cb)) in xs.chunks_exact(8).zip(pa.chunks_exact(B)).zip(pb.chunks_exact(B)).enumerate() {
        acc += chunk2::<B>(x8, le_u32(ca), le_u32(cb));
        if (c + 1) % f == 0 {
            let lo = i32::from(acc as i16);
            (sa, sb, acc) = (sa + lo, sb + ((acc - lo) >> 16), 0);
        }
    }
    let lo = i32::from(acc as i16);
    (sa + lo, sb + ((acc - lo) >> 16))
}

/// Both rows' level sums for any segment length and width (one body for all; inlined, see
/// `int::group_any`).
#[inline(always)]
fn pair_any(xs: &[i8], bytes: &[u8], b: u8) -> (i32, i32) {
    let Some((pa, pb)) = bytes.split_at_checked(group_bytes(xs.len(), b)) else { return (0, 0) };
    (any_width::dot_i32(xs, pa, b), any_width::dot_i32(xs, pb, b))
}

/// [`pair_dot`] for any segment length, `B ≤ 8`.
#[inline(always)]
fn pair_dot_any<const B: usize>(xs: &[i8], bytes: &[u8]) -> (i32, i32) {
    let Some((pa, pb)) = bytes.split_at_checked(group_bytes(xs.len(), B as u8)) else { return (0, 0) };
    if B <= 4 {
        let (a, b) = dot2_swar::<B>(xs, pa, pb);
        (a as i32, b as i32) // |a|, |b| ≤ seg·128·15: row sums fit i32 (checked by the caller)
    } else {
        (dot_group32::<B>(xs, pa), dot_group32::<B>(xs, pb))
    }
}
