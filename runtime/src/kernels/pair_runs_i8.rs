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
//! MACs of a row. On cores with product pairs instead (RV32) the same pairing runs one 32-bit
//! multiply per two MACs of a row ([`super::halves_product_i8`]) where the group lies on a 4-byte
//! boundary (the writer puts such tensors there in a blob laid out for lane pairs), else the
//! row-pair body. The sums are the same integers, added in the same order. These are the only
//! unrolled bodies of row pairs in groups of 96: their other shapes (several taps or segments per
//! row) take the any-width body.

use super::dispatch::dispatch_built_width;
use super::dot_i8::dot_pair_i8;
use super::finish_i8::{Finish, PAIR_BLOCK};
use super::halves_fixed_i8::{halves_rows2_i8, whole_words, widen_tap, HALVES};
use super::halves_product_i8::{product_rows2_i8, widen_tap_product};
use super::lanes_i8::{add_scaled, pair_group_any_i8, Mults};
use super::lanes_wide_i8::PRODUCT;
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
            let (base, args) = (finish.base(), (x, &wide));
            dispatch_built_width!(
                b,
                run_sums_i8,
                [S],
                run_sums_any_i8(b, x, data, m, base, run),
                (args, data, m, base, run)
            )
            .ok_or(Error::KernelShape)?;
            left = rest;
        }
        finish.pairs(sums, 2 * PAIR_BLOCK * j, block);
    }
    Ok(())
}

/// Whether the 2- and 4-bit groups of segments of `s` inputs run on halfword pairs: where this
/// build has them (`SMLAD` is one instruction, or a host: [`HALVES`]; a core with product pairs
/// instead: [`PRODUCT`]) and a segment is whole packed words at both widths ([`whole_words`]).
const fn half_pairs(s: usize) -> bool {
    (HALVES || PRODUCT) && whole_words(2, 2 * s, s) && whole_words(4, 2 * s, s)
}

/// The inputs `x` (`S` of them) widened for the 2- and 4-bit groups' halfword pairs: words
/// `0..S/2` for 2 bits, `S/2..S` for 4 (all zero where [`half_pairs`] does not hold: unused);
/// `SMLAD`'s pairs ([`widen_tap`]) or, on a core with [`PRODUCT`] pairs, those
/// ([`widen_tap_product`]). `None` when `x` is not `S` inputs (every word must be filled).
#[inline(always)]
fn widen_pairs<const S: usize>(x: &[i8]) -> Option<[u32; S]> {
    let mut wide = [0u32; S];
    if half_pairs(S) {
        if x.len() != S {
            return None;
        }
        let (w2, w4) = wide.split_at_mut(S / 2);
        if PRODUCT {
            widen_tap_product::<2>(x, w2);
            widen_tap_product::<4>(x, w4);
        } else {
            widen_tap::<2>(x, w2);
            widen_tap::<4>(x, w4);
        }
    }
    Some(wide)
}

/// `run`'s pair sums, `base + m(B)·A` for each row, of consecutive pairs whose groups are `B` bits
/// wide (a width this build has bodies for, [`dispatch_built_width`]); `None` when `data` is short.
#[inline(always)]
fn run_sums_i8<const B: usize, const S: usize>(
    (x, wide): (&[i8], &[u32; S]),
    data: &mut &[u8],
    m: &Mults,
    base: i64,
    run: &mut [(i64, i64)],
) -> Option<()> {
    let mb = m.get(B).copied().unwrap_or(0); // read once per run
    for s in run.iter_mut() {
        let (g, rest) = data.split_at_checked(group_bytes(2 * S, B as u8))?;
        *data = rest;
        let (sa, sb) = if half_pairs(S) && (B == 2 || B == 4) {
            // This width's half of `wide` (see `widen_pairs`), each row's segment whole words.
            let xw = wide.get(if B == 2 { 0..S / 2 } else { S / 2..S }).unwrap_or_default();
            let (ga, gb) = g.split_at_checked(group_bytes(S, B as u8))?;
            if !PRODUCT {
                halves_rows2_i8::<B>(xw, ga, gb)
            } else if let Some(sums) = product_rows2_i8::<B>(xw, ga, gb) {
                sums
            } else {
                dot_pair_i8::<B, S>(x, g)
            }
        } else {
            dot_pair_i8::<B, S>(x, g)
        };
        *s = add_scaled((base, base), (sa, sb, mb));
    }
    Some(())
}

/// [`run_sums_i8`] for a width without bodies in this build: group by group on the any-width body.
#[inline(always)]
fn run_sums_any_i8(b: u8, x: &[i8], data: &mut &[u8], m: &Mults, base: i64, run: &mut [(i64, i64)]) -> Option<()> {
    for s in run.iter_mut() {
        *s = add_scaled((base, base), pair_group_any_i8(x, data, b, m, false)?);
    }
    Some(())
}
