//! Row-pair tensors (FORMAT.md layout 1) whose pairs are one group each, on the f32 path: a
//! single tap of one segment (`in_len = group_size / 2`: one whole row of each of a pair, the
//! 16 kHz model's GRUs in groups of 96), taken by runs of pairs whose groups share a width.
//!
//! The general pair loop ([`super::matvec_f32`]) reads each group's width, adds the group's sums
//! to per-width arrays and finishes each row by scaling every width of the table (`acc = 0`, then
//! `acc += s_b·scale_b` over the table's widths in order, then `acc + min_term`). With one group
//! per pair only that group's width `b` has a sum (`0 + a`); every other width adds `±0`, which
//! leaves a sum as it is (the first `0 + s_b·scale_b` already made a `−0` into `+0`). So each row
//! here is `(0 + (0 + a)·scale_b) + min_term`: the same f32 operations in the same order, the same
//! bits. The width table is read a run at a time ([`Widths::next_run`]) and each width's body runs
//! pair after pair, so the dispatch is paid once per run and no per-width array is touched.
//!
//! 2-bit pairs of a tensor with the shape of [`tables_fit`] (at most 64 inputs, at least
//! `TABLE_MIN_ROWS` rows: the 16 kHz GRUs) take their sums `a` from a table of each nibble's
//! sums instead ([`super::nibble_table_f32`], built at the first 2-bit run of a call): one load
//! and one add per two MACs of a row. Those sums add in the table's order, not the general
//! loop's; host and target run the same choice, so they agree bit for bit.

use super::bits::split_group;
use super::dispatch::{built_width, dispatch_built_width};
use super::dot_f32::{dot_pair_any_f32, dot_pair_f32, dot_pair_table_f32};
use super::lanes_f32::{dot_lanes_any_f32, dot_lanes_f32};
use super::nibble_table_f32::{row_sum, tables_fit, Table, Tables};
use super::widths::Widths;
use crate::error::Error;
use crate::quant::group_bytes;

/// The row pairs of `out` (a lone last row is left) of a row-pair tensor whose pairs are one
/// group each over the inputs `x`, finished with `scales` (indexed by width) and `min_term`.
#[inline(always)]
pub(super) fn one_group_pairs_f32(
    x: &[f32],
    (bits, data): (&mut Widths<'_, false>, &mut &[u8]),
    (scales, min_term): (&[f32], f32),
    out: &mut [f32],
    space: &mut Tables,
) -> Result<(), Error> {
    let (tables, half2) = (tables_fit::<2>(x.len(), 1, out.len()), group_bytes(x.len(), 2));
    // The room until the first 2-bit run fills it, then the filled table.
    let mut tab2: Result<&Table, &mut Tables> = Err(space);
    let mut pairs = out.chunks_exact_mut(2);
    let mut left = pairs.len();
    while left > 0 {
        let (b, n) = bits.next_run(left);
        left -= n.min(left);
        let run = pairs.by_ref().take(n);
        let finish = |a: f32| row_f32(a, scales.get(usize::from(b)).copied(), min_term);
        let done = if b == 2 && tables {
            // 2-bit pairs by the table of each nibble's sums, built at the first such run.
            let tab = match tab2 {
                Ok(tab) => tab,
                Err(room) => room.fill::<2>(x),
            };
            tab2 = Ok(tab);
            run.into_iter().try_for_each(|yy| {
                let (_, (pa, pb), rest) = pair_rows(half2, data)?;
                *data = rest;
                put_pair(yy, finish(row_sum(tab, pa)), finish(row_sum(tab, pb)));
                Some(())
            })
        } else if built_width(b) {
            dispatch_built_width!(b, run_f32, [], None, (x, data, &finish, run))
        } else {
            run.into_iter().try_for_each(|yy| {
                let ((a, c), rest) = pair_dot_any_f32::<false>(x, data, b)?;
                *data = rest;
                put_pair(yy, finish(a), finish(c));
                Some(())
            })
        };
        done.ok_or(Error::KernelShape)?;
    }
    Ok(())
}

/// A run of pairs whose groups are `B` bits wide (a width this build has a body for).
#[inline(always)]
fn run_f32<'y, const B: usize>(
    x: &[f32],
    data: &mut &[u8],
    finish: &impl Fn(f32) -> f32,
    run: impl Iterator<Item = &'y mut [f32]>,
) -> Option<()> {
    for yy in run {
        let ((a, c), rest) = pair_dot_f32::<B, false>(x, data)?;
        *data = rest;
        put_pair(yy, finish(a), finish(c));
    }
    Some(())
}

/// A row's output from its one group's sum `a`: what the general loop's finish gives (see the
/// module); a width without a scale (past the table's arrays) has no sum there.
#[inline(always)]
fn row_f32(a: f32, scale: Option<f32>, min_term: f32) -> f32 {
    let acc = match scale {
        Some(sc) => 0.0 + (0.0 + a) * sc,
        None => 0.0,
    };
    acc + min_term
}

/// Both outputs of a pair.
#[inline(always)]
fn put_pair(yy: &mut [f32], a: f32, c: f32) {
    if let [ya, yb] = yy {
        (*ya, *yb) = (a, c);
    }
}

/// Both rows' `Σ x·level` of one `B`-bit row-pair group at the start of `data`, and the packed
/// bytes after it.
#[inline(always)]
pub(super) fn pair_dot_f32<'d, const B: usize, const L: bool>(
    xs: &[f32],
    data: &'d [u8],
) -> Option<((f32, f32), &'d [u8])> {
    let half = group_bytes(xs.len(), B as u8);
    let (bytes, (pa, pb), rest) = pair_rows(half, data)?;
    // At 3 bits the table body reads one byte past each row (`dot_pair_table_f32`): not at the
    // end of the tensor's data.
    let sums = match (B, data.get(..2 * half + 1)) {
        _ if L => dot_lanes_f32::<B>(xs, bytes),
        (2 | 4, _) => dot_pair_table_f32::<B>(xs, pa, pb),
        (3, Some(ext)) => dot_pair_table_f32::<B>(xs, ext.get(..half + 1)?, ext.get(half..)?),
        _ => dot_pair_f32::<B>(xs, pa, pb),
    };
    Some((sums, rest))
}

/// A row-pair group's bytes, its two rows (row A's levels, then row B's) and the bytes after it.
type PairRows<'d> = (&'d [u8], (&'d [u8], &'d [u8]), &'d [u8]);

/// One row-pair group of `half` bytes per row at the start of `data`.
#[inline(always)]
fn pair_rows(half: usize, data: &[u8]) -> Option<PairRows<'_>> {
    let (bytes, rest) = data.split_at_checked(2 * half)?;
    Some((bytes, bytes.split_at_checked(half)?, rest))
}

/// [`pair_dot_f32`] for any width `b`.
#[inline(always)]
pub(super) fn pair_dot_any_f32<'d, const L: bool>(xs: &[f32], data: &'d [u8], b: u8) -> Option<((f32, f32), &'d [u8])> {
    let (bytes, rest) = split_group(data, 2 * xs.len(), b)?;
    let (pa, pb) = bytes.split_at_checked(group_bytes(xs.len(), b))?;
    let sums = if L { dot_lanes_any_f32(xs, bytes, b) } else { dot_pair_any_f32(xs, pa, pb, b) };
    Some((sums, rest))
}
