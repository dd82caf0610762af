//! The integer path's matrix-vector product for a tensor whose groups all have one width `B`
//! (features `fixed-1` … `fixed-8`): one multiplier for the whole tensor, so a row's level sums
//! need no group boundaries, and two rows at once up to 4 bits.

use super::dot_i8::{dot_group_i8, dot_group_wide_i8, dot_rows2_i8, fits_i32};
use super::finish_i8::{finish_pair_rows, Finish, PAIR_BLOCK};
use super::halves_fixed_i8::{halves_linear_i8, halves_taps2_i8, widen_halves, HALF_WORDS};
use super::shape::non_zero;
use crate::error::Error;
use crate::format::{IntParams, Packed};
use crate::quant::group_bytes;
use core::num::NonZeroUsize;
use core::slice::ChunksExact;

/// `Σ x·level` over one row of the fixed-bit path (all taps).
#[inline(always)]
fn row_sum_fixed_i8<const B: usize>(
    row: &[u8],
    taps: &[Option<&[i8]>],
    (tap_bytes, gs, gb): (NonZeroUsize, NonZeroUsize, NonZeroUsize),
    narrow: bool,
) -> i64 {
    let mut acc = 0i64;
    for (tap, wb) in taps.iter().zip(row.chunks_exact(tap_bytes.get())) {
        if let Some(x) = tap {
            for (xg, pg) in x.chunks_exact(gs.get()).zip(wb.chunks_exact(gb.get())) {
                acc += if narrow { i64::from(dot_group_i8::<B>(xg, pg)) } else { dot_group_wide_i8::<B>(xg, pg) };
            }
        }
    }
    acc
}

/// Both rows' sums of a row pair of the fixed-bit path over every tap (rows `ra`, `rb`).
#[inline(always)]
fn rows2_taps_i8<const B: usize>(taps: &[Option<&[i8]>], ra: &[u8], rb: &[u8], tap_bytes: NonZeroUsize) -> (i64, i64) {
    let (mut sa, mut sb) = (0i64, 0i64);
    let tap_bytes = tap_bytes.get();
    for ((tap, wa), wb) in taps.iter().zip(ra.chunks_exact(tap_bytes)).zip(rb.chunks_exact(tap_bytes)) {
        if let Some(x) = tap {
            let (a, b) = dot_rows2_i8::<B>(x, wa, wb);
            sa += i64::from(a);
            sb += i64::from(b);
        }
    }
    (sa, sb)
}

/// [`pairs_fixed_i8`] where the inputs are not widened (cores without `SMLAD`, widths other than 1,
/// 2 and 4, shapes that do not fit): each row pair through the two-row bodies of
/// [`super::dot_i8`], both tap cases in one loop.
#[inline(always)]
fn pairs_rows2_i8<const B: usize>(
    finish: &Finish<'_, '_>,
    head: &mut [i8],
    rows: &mut ChunksExact<'_, u8>,
    taps: &[Option<&[i8]>],
    (m, scale32): (i64, impl Fn(i64, (i32, i32)) -> (i64, i64)),
    tap_bytes: NonZeroUsize,
) -> Result<(), Error> {
    let (mut sums, mut done) = ([(0i64, 0i64); PAIR_BLOCK], 0);
    for block in head.chunks_mut(2 * PAIR_BLOCK) {
        let sums = sums.get_mut(..block.len() / 2).unwrap_or_default();
        for s in sums.iter_mut() {
            let (Some(ra), Some(rb)) = (rows.next(), rows.next()) else { return Err(Error::KernelShape) };
            let base = finish.base();
            *s = match taps {
                [Some(x)] => scale32(base, dot_rows2_i8::<B>(x, ra, rb)),
                _ => {
                    let (a, b) = rows2_taps_i8::<B>(taps, ra, rb, tap_bytes);
                    (base.wrapping_add(a.wrapping_mul(m)), base.wrapping_add(b.wrapping_mul(m)))
                }
            };
        }
        finish.pairs(sums, done, block);
        done += block.len();
    }
    Ok(())
}

/// Every row pair of the fixed-bit path at `B ≤ 4` but those of one-input tensors on widened
/// inputs (`head`: their outputs; `wide`: the inputs widened by [`widen_halves`] where they fit),
/// two rows' sums at a time.
#[inline(always)]
fn pairs_fixed_i8<const B: usize>(
    finish: &Finish<'_, '_>,
    head: &mut [i8],
    rows: &mut ChunksExact<'_, u8>,
    taps: &[Option<&[i8]>],
    wide: Option<&[u32]>,
    m32: i32,
    tap_bytes: NonZeroUsize,
) -> Result<(), Error> {
    let m = i64::from(m32);
    // One input (linear layers): no tap walk, an i32 × i32 product per row.
    let scale32 = |base: i64, (a, b): (i32, i32)| {
        (base.wrapping_add(i64::from(a) * i64::from(m32)), base.wrapping_add(i64::from(b) * i64::from(m32)))
    };
    let Some(xw) = wide else {
        return pairs_rows2_i8::<B>(finish, head, rows, taps, (m, scale32), tap_bytes);
    };
    let mut pair = || rows.next().zip(rows.next()).ok_or(Error::KernelShape);
    finish_pair_rows!(finish, head, |base| pair().map(|(ra, rb)| {
        let (a, b) = halves_taps2_i8::<B>(taps, xw, (ra, rb), tap_bytes);
        (base.wrapping_add(a.wrapping_mul(m)), base.wrapping_add(b.wrapping_mul(m)))
    }))
}

/// Fast path: every group has `B` bits; two rows at once up to 4 bits (at 1, 2 and 4 bits on
/// halfword-paired inputs where the build and the shape allow, [`super::halves_fixed_i8`]).
pub(super) fn rows_fixed_i8<const B: usize>(
    p: &Packed<'_>,
    params: &IntParams<'_>,
    taps: &[Option<&[i8]>],
    in_len: usize,
    min_term: i64,
    out: &mut [i8],
) -> Result<(), Error> {
    let m = params.m(B as u8);
    let gs = usize::from(p.group_size);
    let narrow = fits_i32(gs, B as u8);
    let tap_bytes = group_bytes(in_len, B as u8);
    // Every chunk length below, non-zero by type: the loops hold no panic.
    let sizes = (non_zero(tap_bytes)?, non_zero(gs)?, non_zero(group_bytes(gs, B as u8))?);
    let mut rows = p.data.chunks_exact(non_zero(tap_bytes * taps.len())?.get());
    // One multiplier for the whole tensor: the level sums of a row need no group boundaries.
    let finish = Finish::new(params, min_term);
    let mut done = 0;
    if B <= 4 {
        let paired = out.len() / 2 * 2;
        let (head, tail) = out.split_at_mut(paired);
        let m32 = params.m32(B as u8);
        let mut buf = [0u32; HALF_WORDS];
        let wide = if paired > 0 { widen_halves::<B>(taps, in_len, gs, &mut buf) } else { None };
        match (taps, wide) {
            // One-input layers: the row pairs a block at a time, then the last row if odd.
            ([Some(_)], Some(xw)) => {
                halves_linear_i8::<B>(&finish, head, p.data, xw, m32, sizes.0)?;
                let rest = p.data.get(paired * sizes.0.get()..).ok_or(Error::KernelShape)?;
                rows = rest.chunks_exact(sizes.0.get());
            }
            _ => pairs_fixed_i8::<B>(&finish, head, &mut rows, taps, wide, m32, sizes.0)?,
        }
        done = paired;
        for y in tail {
            let row = rows.next().ok_or(Error::KernelShape)?;
            *y = finish.one(row_sum_fixed_i8::<B>(row, taps, sizes, narrow).wrapping_mul(m), done);
            done += 1;
        }
    } else {
        for y in out.iter_mut() {
            let row = rows.next().ok_or(Error::KernelShape)?;
            *y = finish.one(row_sum_fixed_i8::<B>(row, taps, sizes, narrow).wrapping_mul(m), done);
            done += 1;
        }
    }
    Ok(())
}
