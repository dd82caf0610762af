//! Lane-pair tensors with one block per segment (groups of 64, FORMAT.md layout 2) on the integer
//! path, with the layer's inputs widened once: each tap's int8 inputs become their `SXTB16`
//! pairs (two words per 4 inputs: bytes 0 and 2, then 1 and 3, as halfwords), so that every row
//! pair's 2-, 3- and 4-bit groups load them ready with one `ldrd` per 4 inputs in
//! `diffq_simd32`'s assembly loops instead of one load and two `SXTB16` (16 instructions fewer
//! per group), every tap's after the other. A row pair's groups go by runs of one width (the
//! width table read a run at a time), each run one assembly loop whose sums are scaled once.
//! The widened inputs live on the stack ([`WIDE_BLOCKS`] blocks of 16 words); longer inputs
//! take the int8 bodies, and groups of other widths take them on their inputs taken back out of
//! the pairs.
//!
//! Built where the blocks are assembly (Armv7E-M), on hosts (`std`, tests) and with the
//! `wide-inputs` feature (the blocks' portable code, so that the host runs the same loop). On RV32
//! (and with the `product-pairs` feature) the inputs are widened into product pairs instead and
//! each run is [`super::lanes_product_i8`]'s; other cores keep their two-row SWAR bodies.

use super::finish_i8::{finish_pair_rows, Finish, PAIR_BLOCK};
use super::lanes_i8::{add_scaled, dot_lanes_i8, pair_group_any_i8, Mults};
use super::lanes_product_i8::{product_lanes, product_pair, product_run_i8};
use super::widths::Widths;
use crate::error::Error;
use crate::format::LANE_BLOCK;
use crate::layout::lane_of_column;
use diffq_simd32::{lane_run_w2_i8, lane_run_w3_i8, lane_run_w4_i8, sxtb16, sxtb16_ror8, NATIVE};

/// Whether the widened inputs are product pairs ([`super::lanes_product_i8`]: cores without dual
/// MACs, RV32) rather than `SXTB16` pairs.
pub(super) const PRODUCT: bool = !NATIVE && cfg!(any(target_arch = "riscv32", feature = "product-pairs"));

/// Whether this build runs lane-pair layers on widened inputs.
pub(super) const WIDE: bool = NATIVE || PRODUCT || cfg!(any(test, feature = "std", feature = "wide-inputs"));

/// Blocks of widened inputs on the stack (1 KiB): a layer's taps of up to 512 inputs in all.
pub(super) const WIDE_BLOCKS: usize = if WIDE { 16 } else { 0 };

pub(super) use super::lanes_i8::WideBlock;

/// `taps` widened into `buf`, one after the other (`in_len / 32` blocks each; a tap before the
/// stream start, whose inputs read as zeros, as zero pairs): `SXTB16` pairs, or product pairs
/// ([`PRODUCT`]); `None` when they do not fit (or `in_len` is not whole blocks).
pub(super) fn widen_taps<'b>(
    taps: &[Option<&[i8]>],
    in_len: usize,
    buf: &'b mut [WideBlock],
) -> Option<&'b [WideBlock]> {
    if !WIDE || in_len % LANE_BLOCK != 0 {
        return None;
    }
    let wide = buf.get_mut(..taps.len().checked_mul(in_len / LANE_BLOCK)?)?;
    for (tap, now) in taps.iter().zip(wide.as_flattened_mut().chunks_exact_mut(in_len / 2)) {
        let Some(x) = tap else {
            now.fill(0);
            continue;
        };
        for (x4, w2) in x.chunks_exact(4).zip(now.chunks_exact_mut(2)) {
            let x4 = <[i8; 4]>::try_from(x4).unwrap_or_default();
            w2.copy_from_slice(&if PRODUCT {
                [product_pair(x4[0], x4[2]), product_pair(x4[1], x4[3])]
            } else {
                let xw = u32::from_le_bytes(x4.map(|v| v as u8));
                [sxtb16(xw), sxtb16_ror8(xw)]
            });
        }
    }
    Some(wide)
}

/// Every row pair of a lane-pair tensor with groups of 64 (`rows`: their outputs) over the inputs
/// of every tap widened by [`widen_taps`], finished by blocks of [`PAIR_BLOCK`] pairs.
#[inline(always)]
pub(super) fn lane_rows_wide_i8(
    finish: &Finish<'_, '_>,
    m: &Mults,
    (widths, data): (&mut Widths<'_>, &mut &[u8]),
    wide: &[WideBlock],
    rows: &mut [i8],
) -> Result<(), Error> {
    finish_pair_rows!(finish, rows, |base| lane_pair_sum_wide_i8(base, m, (&mut *widths, &mut *data), wide))
}

/// Both rows' `init + Σ_g m(b_g)·A_g` of one row pair of a lane-pair tensor with groups of 64
/// over the inputs of every tap widened by [`widen_taps`] (`wide`: its groups in storage order),
/// by runs of groups of one width: a run's sums stay in i32 (at most [`WIDE_BLOCKS`] = 16
/// groups of at most 4 bits: |A| < 2^20) and are scaled once, the same integers as group by group.
#[inline(always)]
fn lane_pair_sum_wide_i8(
    init: i64,
    m: &Mults,
    (widths, data): (&mut Widths<'_>, &mut &[u8]),
    wide: &[WideBlock],
) -> Result<(i64, i64), Error> {
    let mut acc = (init, init);
    let mut left = wide;
    while !left.is_empty() {
        let (b, run) = widths.next_run(left.len());
        let (xs, rest) = left.split_at_checked(run).ok_or(Error::KernelShape)?;
        acc = run_sums_i8(acc, xs, data, b, m).ok_or(Error::KernelShape)?;
        left = rest;
    }
    Ok(acc)
}

/// `acc` plus both rows' `m(b)·A` over a run of groups of width `b` (`xs`: their widened inputs),
/// the bytes after them left in `data`.
#[inline(always)]
fn run_sums_i8(acc: (i64, i64), xs: &[WideBlock], data: &mut &[u8], b: u8, m: &Mults) -> Option<(i64, i64)> {
    // One arm per assembly loop, each splitting off its run's groups.
    macro_rules! run {
        ($b:literal, $f:ident) => {{
            let (g, rest) = data.split_at_checked(xs.len() * 8 * $b)?;
            *data = rest;
            let (sa, sb) = if PRODUCT { product_run_i8::<$b>(xs, g) } else { $f(xs, g, (0, 0)) };
            Some(add_scaled(acc, (sa, sb, m.get($b).copied().unwrap_or(0))))
        }};
    }
    match b {
        // The widths of `layout::LANE_RUN_BITS`, one arm each.
        #[cfg(feature = "width-2")]
        2 => run!(2, lane_run_w2_i8),
        #[cfg(feature = "width-3")]
        3 => run!(3, lane_run_w3_i8),
        #[cfg(feature = "width-4")]
        4 => run!(4, lane_run_w4_i8),
        // Other widths group by group (their sums need not fit i32 over a run).
        _ => xs.iter().try_fold(acc, |acc, xp| Some(add_scaled(acc, other_group_i8(xp, data, b, m)?))),
    }
}

/// A group of a width without an assembly block or product body (out of line, so that the group
/// loop's registers serve the blocks): its int8 inputs taken back out of the pairs `xp`, then
/// `(sa, sb, m(b))`, the bytes after it left in `data`.
#[inline(never)]
fn other_group_i8(xp: &[u32], data: &mut &[u8], b: u8, m: &Mults) -> Option<(i32, i32, i32)> {
    // Input `c` is lane `h` (the halfword) of pair `k`, by the format's own map.
    let xs: [i8; LANE_BLOCK] = core::array::from_fn(|c| {
        let (k, h) = lane_of_column(c);
        let w = xp.get(k).copied().unwrap_or(0);
        match (PRODUCT, h) {
            (true, 0) => product_lanes(w).0,
            (true, _) => product_lanes(w).1,
            (false, _) => (w >> (16 * h)) as i8,
        }
    });
    // (Widths 2–4 have their blocks: no second copy of their bodies here.)
    match b {
        #[cfg(feature = "width-1")]
        1 => lane_group_i8::<1>(&xs, data, m),
        #[cfg(feature = "width-5")]
        5 => lane_group_i8::<5>(&xs, data, m),
        #[cfg(feature = "width-6")]
        6 => lane_group_i8::<6>(&xs, data, m),
        #[cfg(feature = "width-7")]
        7 => lane_group_i8::<7>(&xs, data, m),
        #[cfg(feature = "width-8")]
        8 => lane_group_i8::<8>(&xs, data, m),
        _ => pair_group_any_i8(&xs, data, b, m, true),
    }
}

/// [`other_group_i8`] at a width this build has a lane-pair body for.
#[inline(always)]
fn lane_group_i8<const B: usize>(xs: &[i8], data: &mut &[u8], m: &Mults) -> Option<(i32, i32, i32)> {
    let (g, rest) = data.split_at_checked(8 * B)?;
    *data = rest;
    let (sa, sb) = dot_lanes_i8::<B>(xs, g);
    Some((sa, sb, m.get(B).copied().unwrap_or(0)))
}
