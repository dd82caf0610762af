//! Row-pair tensors (FORMAT.md layout 1) in groups of 96 whose pairs are one group each, on the
//! integer path: a single tap of one segment (`row_len = group_size / 2`: one whole 48-input row
//! of each of a pair, the 16 kHz model's GRUs), taken by runs of pairs whose groups share a width.
//!
//! The general row-pair loop ([`super::matvec_i8`]) reads each group's width, dispatches on it and
//! walks the pair's taps and segments per group; with one group per pair that is a width decode,
//! a table branch and the tap loop's checks per pair, and the group body's registers spilled around
//! them. Here the width table is read a run at a time ([`Widths::next_run`]) and each width's loop
//! runs its body pair after pair, so the dispatch is paid once per run. The sums are the same
//! integers, added in the same order. These are the only unrolled bodies of row pairs in groups
//! of 96: their other shapes (several taps or segments per row) take the any-width body.

use super::dot_i8::dot_pair_i8;
use super::finish_i8::{Finish, PAIR_BLOCK};
use super::lanes_i8::{add_scaled, pair_group_any_i8, Mults};
use super::widths::Widths;
use crate::error::Error;
use crate::quant::group_bytes;

/// The outputs `rows` (whole pairs) of a row-pair tensor whose pairs are one group of `2·S`
/// levels each over the inputs `x` (`S` of them), finished by blocks of [`PAIR_BLOCK`] pairs;
/// `S` is not 0. The groups' widths from `widths`, their bytes from `data` (left after them).
#[inline(always)]
pub(super) fn one_group_pairs_i8<const S: usize>(
    finish: &Finish<'_, '_>,
    m: &Mults,
    (widths, data): (&mut Widths<'_>, &mut &[u8]),
    x: &[i8],
    rows: &mut [i8],
) -> Result<(), Error> {
    let mut sums = [(0i64, 0i64); PAIR_BLOCK];
    for (j, block) in rows.chunks_mut(2 * PAIR_BLOCK).enumerate() {
        let sums = sums.get_mut(..block.len() / 2).unwrap_or_default();
        let mut left = &mut sums[..];
        while !left.is_empty() {
            let (b, n) = widths.next_run(left.len());
            let (run, rest) = left.split_at_mut(n.min(left.len()));
            run_sums_i8::<S>(b, x, data, m, finish.base(), run).ok_or(Error::KernelShape)?;
            left = rest;
        }
        finish.pairs(sums, 2 * PAIR_BLOCK * j, block);
    }
    Ok(())
}

/// `run`'s pair sums, `base + m(b)·A` for each row, of consecutive pairs whose groups are `b` bits
/// wide; `None` when `data` is short.
#[inline(always)]
fn run_sums_i8<const S: usize>(
    b: u8,
    x: &[i8],
    data: &mut &[u8],
    m: &Mults,
    base: i64,
    run: &mut [(i64, i64)],
) -> Option<()> {
    // One loop per width this build has bodies for, its multiplier read once per run.
    macro_rules! pairs {
        ($b:literal) => {{
            let mb = m.get($b).copied().unwrap_or(0);
            for s in run.iter_mut() {
                let (g, rest) = data.split_at_checked(group_bytes(2 * S, $b))?;
                *data = rest;
                let (sa, sb) = dot_pair_i8::<$b, S>(x, g);
                *s = add_scaled((base, base), (sa, sb, mb));
            }
            Some(())
        }};
    }
    match b {
        #[cfg(feature = "width-1")]
        1 => pairs!(1),
        #[cfg(feature = "width-2")]
        2 => pairs!(2),
        #[cfg(feature = "width-3")]
        3 => pairs!(3),
        #[cfg(feature = "width-4")]
        4 => pairs!(4),
        #[cfg(feature = "width-5")]
        5 => pairs!(5),
        #[cfg(feature = "width-6")]
        6 => pairs!(6),
        #[cfg(feature = "width-7")]
        7 => pairs!(7),
        #[cfg(feature = "width-8")]
        8 => pairs!(8),
        _ => {
            for s in run.iter_mut() {
                *s = add_scaled((base, base), pair_group_any_i8(x, data, b, m, false)?);
            }
            Some(())
        }
    }
}
