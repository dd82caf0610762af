//! Row-pair tensors (FORMAT.md layout 1) in groups of 96 whose pairs are one group each, on the
//! integer path: a single tap of one segment (`row_len = group_size / 2`: one whole 48-input row
//! of each of a pair, the 16 kHz model's GRUs), taken by runs of pairs whose groups share a width.
//!
//! The general row-pair loop ([`super::matvec_i8`]) reads each group's width, dispatches on it and
//! walks the pair's taps and segments per group; with one group per pair that is a width decode,
//! a table branch and the tap loop's checks per pair, and the group body's registers spilled around
//! them. Here the width table is read a run at a time ([`Widths::next_run`]) and each width's loop
//! runs its body pair after pair, so the dispatch is paid once per run. Where `SMLAD` is one
//! instruction (Armv7E-M; hosts, to test it), the 2- and 4-bit groups read each row's packed
//! words as the fixed-width kernels do ([`super::halves_fixed_i8`]): a segment of 48 levels is
//! whole words at those widths, each word's halves hold levels `j` and `j + 16/B`, and the inputs
//! are widened once per product into those halfword pairs, so one `and` and one `SMLAD` take two
//! MACs of a row. The sums are the same integers, added in the same order. These are the only
//! unrolled bodies of row pairs in groups of 96: their other shapes (several taps or segments per
//! row) take the any-width body.

use super::dot_i8::dot_pair_i8;
use super::finish_i8::{Finish, PAIR_BLOCK};
use super::halves_fixed_i8::{halves_rows2_i8, widen_tap, HALVES};
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
    let wide = widen_pairs::<S>(x).ok_or(Error::KernelShape)?;
    let mut sums = [(0i64, 0i64); PAIR_BLOCK];
    for (j, block) in rows.chunks_mut(2 * PAIR_BLOCK).enumerate() {
        let sums = sums.get_mut(..block.len() / 2).unwrap_or_default();
        let mut left = &mut sums[..];
        while !left.is_empty() {
            let (b, n) = widths.next_run(left.len());
            let (run, rest) = left.split_at_mut(n.min(left.len()));
            run_sums_i8::<S>(b, (x, &wide), data, m, finish.base(), run).ok_or(Error::KernelShape)?;
            left = rest;
        }
        finish.pairs(sums, 2 * PAIR_BLOCK * j, block);
    }
    Ok(())
}

/// Whether the 2- and 4-bit groups run on halfword pairs: where `SMLAD` is one instruction (and
/// on hosts, to test it), and the segments are whole packed words at both widths.
const HALF_PAIRS: bool = HALVES;

/// The inputs `x` (`S` of them, `S` a multiple of 16) as halfword pairs for the 2- and 4-bit
/// groups' [`halves_rows2_i8`] ([`widen_tap`]): words `0..S/2` for 2 bits, `S/2..S` for 4.
/// `None` when `x` is not `S` inputs (every word must be filled).
#[inline(always)]
fn widen_pairs<const S: usize>(x: &[i8]) -> Option<[u32; S]> {
    let mut wide = [0u32; S];
    if HALF_PAIRS && S % 16 == 0 {
        if x.len() != S {
            return None;
        }
        let (w2, w4) = wide.split_at_mut(S / 2);
        widen_tap::<2>(x, w2);
        widen_tap::<4>(x, w4);
    }
    Some(wide)
}

/// `run`'s pair sums, `base + m(b)·A` for each row, of consecutive pairs whose groups are `b` bits
/// wide; `None` when `data` is short.
#[inline(always)]
fn run_sums_i8<const S: usize>(
    b: u8,
    (x, wide): (&[i8], &[u32; S]),
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
                let (sa, sb) = if HALF_PAIRS && S % 16 == 0 && ($b == 2 || $b == 4) {
                    // This width's half of `wide` (see `widen_pairs`), each row's segment whole words.
                    let xw = wide.get(if $b == 2 { 0..S / 2 } else { S / 2..S }).unwrap_or_default();
                    let (ga, gb) = g.split_at(group_bytes(S, $b));
                    halves_rows2_i8::<$b>(xw, ga, gb)
                } else {
                    dot_pair_i8::<$b, S>(x, g)
                };
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
