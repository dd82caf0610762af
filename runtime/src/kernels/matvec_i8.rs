//! The integer path's matrix-vector product (cores without an FPU): int8 activations, int32
//! group sums, int64 accumulation and a fixed-point rescale per output (constants precomputed in
//! the blob), adding each group with [`super::dot_i8`].
//!
//! Mixed widths: each group's exact i32 level sum is multiplied by its width's constant and added
//! to its row's i64 sum at once; the group bodies (one per width up to 8 bits) are inlined into
//! the group loop, and the loop reads the widths from the bit-width table a word at a time.

use super::bits::{skip_groups, split_group};
use super::dispatch::{
    built_width, dispatch_built_width, dispatch_fixed_width, fixed_width_built, pair_bodies_built, row_bodies_built,
};
use super::dot_i8::{dot_chunks_i8, dot_group_any_i8, dot_group_any_wide_i8, dot_group_i8, dot_pair_i8, fits_i32};
use super::finish_i8::{finish_pair_rows, Finish, PAIR_BLOCK};
use super::lanes_i8::{add_scaled, dot_lanes_any_i8, dot_lanes_i8, pair_group_any_i8, Mults};
use super::lanes_wide_i8::{lane_rows_wide_i8, widen_taps, WideBlock, WIDE, WIDE_BLOCKS};
use super::matvec_fixed_i8::rows_fixed_i8;
use super::pair_runs_i8::one_group_pairs_i8;
#[cfg(any(feature = "group-96", feature = "any-group-size"))]
use super::shape::LONG_GROUP_SIZE;
#[cfg(any(feature = "group-48", feature = "any-group-size"))]
use super::shape::SHORT_GROUP_SIZE;
use super::shape::{check_shape, non_zero, whole_chunks, FAST_GROUP_SIZE};
use super::widths::Widths;
use crate::error::{Error, Part};
use crate::format::{IntParams, Layout, Packed, Weights, LANE_BLOCK};
use crate::quant::{group_bytes, MAX_BITS};
use core::num::NonZeroUsize;

/// Integer `out = requant(W·[x_taps] + b)`; weights must be packed.
pub fn matvec_i8(
    w: &Weights<'_>,
    params: &IntParams<'_>,
    taps: &[Option<&[i8]>],
    in_len: usize,
    out: &mut [i8],
) -> Result<(), Error> {
    let Weights::Packed(p) = w else {
        return Err(Error::Unsupported(Part::Header));
    };
    check_shape(p.count, taps, in_len, out.len())?;
    let unit = p.layout.group_inputs(usize::from(p.group_size));
    if unit == 0 || in_len == 0 || in_len % unit != 0 || params.bias.len() != out.len() {
        return Err(Error::KernelShape);
    }
    let sum_q: i64 = taps.iter().flatten().map(|t| input_sum(t)).sum();
    let min_term = params.min_term(sum_q);
    match (p.fixed_bits(), p.layout) {
        // Fixed widths this build has kernels for (features `fixed-1` … `fixed-8`) get their
        // own (its two-row sums are i32: inputs whose sums `fits_i32` holds); other widths and
        // longer inputs the general one (the same sums, bit-identical results).
        (Some(b), Layout::Rows) if fixed_width_built(b) && fits_i32(in_len, b) => {
            dispatch_fixed_width!(b, rows_fixed_i8, Err(Error::KernelShape), (p, params, taps, in_len, min_term, out))
        }
        // The fast group sizes as constants: the group loops unroll fully. Other sizes share one
        // copy whose per-width bodies take a run-time count of 8-level chunks (see
        // `shape::whole_chunks`); one copy per size would cost ~25 KB of flash each.
        _ if usize::from(p.group_size) == FAST_GROUP_SIZE => {
            rows_var_i8::<FAST_GROUP_SIZE, { FAST_GROUP_SIZE / 2 }>(p, params, taps, in_len, min_term, out, true)
        }
        #[cfg(feature = "group-48")]
        _ if usize::from(p.group_size) == SHORT_GROUP_SIZE => {
            rows_var_i8::<SHORT_GROUP_SIZE, { SHORT_GROUP_SIZE / 2 }>(p, params, taps, in_len, min_term, out, true)
        }
        #[cfg(all(feature = "any-group-size", not(feature = "group-48")))]
        _ if usize::from(p.group_size) == SHORT_GROUP_SIZE => Err(Error::MissingFeature(crate::Feature::Group48)),
        #[cfg(feature = "group-96")]
        _ if usize::from(p.group_size) == LONG_GROUP_SIZE => {
            rows_var_i8::<LONG_GROUP_SIZE, { LONG_GROUP_SIZE / 2 }>(p, params, taps, in_len, min_term, out, true)
        }
        #[cfg(all(feature = "any-group-size", not(feature = "group-96")))]
        _ if usize::from(p.group_size) == LONG_GROUP_SIZE => Err(Error::MissingFeature(crate::Feature::Group96)),
        #[cfg(feature = "any-group-size")]
        _ => rows_var_i8::<0, 0>(p, params, taps, in_len, min_term, out, true),
        #[cfg(not(feature = "any-group-size"))]
        _ => Err(Error::MissingFeature(
            crate::Feature::for_group_size(p.group_size).unwrap_or(crate::Feature::AnyGroupSize),
        )),
    }
}

/// `Σ x` over one input, in i32 over runs of 2^16 values (each run's sum fits: `diffq_simd32`'s
/// `USADA8` loop on the M4 and M7), then i64.
#[inline(always)]
fn input_sum(x: &[i8]) -> i64 {
    x.chunks(1 << 16).map(|run| i64::from(diffq_simd32::sum_i8(run))).sum()
}

/// General path: `G` is the group size when known at compile time, 0 to read it from the tensor;
/// `S = G / 2` (the row-pair segment). Each group's exact i32 level sum is multiplied by its
/// width's constant and added to the row's i64 sum right away (a long multiply-accumulate):
/// `Σ_g m(b_g)·A_g`, no per-width sums to keep. `fast`: widths up to 8 take their own bodies
/// wherever the groups (row pairs: the segments) are whole 8-level chunks; `false` runs every
/// group through the any-width body (the tests' reference).
pub(super) fn rows_var_i8<const G: usize, const S: usize>(
    p: &Packed<'_>,
    params: &IntParams<'_>,
    taps: &[Option<&[i8]>],
    in_len: usize,
    min_term: i64,
    out: &mut [i8],
    fast: bool,
) -> Result<(), Error> {
    let top = p.bits_base + ((1u8 << p.bits_width) - 1);
    if matches!(p.layout, Layout::RowPairs { lanes: true, .. }) && !pair_bodies_built(true) {
        return Err(Error::MissingFeature(crate::Feature::LanePairs));
    }
    let gs = usize::from(p.group_size);
    if G != 0 && gs != G {
        return Err(Error::KernelShape);
    }
    // A group's i32 level sum is exact when a group of top-width levels fits (a pair group's
    // rows have half as many levels each). The unrolled sizes' sums fit at every width (a
    // constant: no copy of the wide path for them).
    let sums_fit = (G != 0 && fits_i32(G, MAX_BITS)) || fits_i32(gs, top.min(MAX_BITS));
    if !sums_fit {
        return rows_var_wide_i8(p, params, taps, in_len, min_term, out);
    }
    let m: Mults = core::array::from_fn(|b| params.m_bits.get(b.wrapping_sub(1)).copied().unwrap_or(0));
    let (mut widths, mut data) = (Widths::new(p), p.data);
    let finish = Finish::new(params, min_term);
    let paired = match p.layout {
        Layout::Rows => 0,
        Layout::RowPairs { lanes, .. } => {
            let chunked = fast && (S != 0 || whole_chunks(gs / 2));
            let paired = out.len() / 2 * 2;
            let (rows, state) = (out.get_mut(..paired).unwrap_or_default(), (&mut widths, &mut data));
            // One loop per pair layout, each with its own group bodies inlined.
            // (Lane pairs have segments of whole 32-column blocks: no copy for the other sizes.)
            if lanes && pair_bodies_built(true) && (S == 0 || S % LANE_BLOCK == 0) {
                pair_rows_i8::<S, true>(&finish, gs, chunked, &m, state, taps, in_len, rows)?;
            } else if lanes {
                return Err(Error::KernelShape);
            } else {
                pair_rows_i8::<S, false>(&finish, gs, chunked, &m, state, taps, in_len, rows)?;
            }
            paired
        }
    };
    // (Without `rows` every row here takes the any-width body: a constant, no unrolled copy.)
    let chunked = fast && row_bodies_built() && (G != 0 || whole_chunks(gs));
    for (n, y) in out.iter_mut().enumerate().skip(paired) {
        // Made non-zero here, for the rows that need it: checked before the row-pair loop, it
        // cost that loop about 3% more instructions per MAC on the M4 (kbench).
        let group = non_zero(gs)?; // (frees the row loop of a division by zero)
        *y = finish.one(row_sum_i8::<G>(group, chunked, &m, &mut widths, &mut data, taps, in_len)?, n);
    }
    Ok(())
}

/// The segment of the row-pair groups that [`one_group_pairs_i8`] runs: groups of 96, one whole
/// 48-input row of each of a pair (the 16 kHz model's GRUs).
const ONE_GROUP_SEG: usize = super::shape::LONG_GROUP_SIZE / 2;

/// Every row pair of a pair tensor (`rows`: their outputs), finished by blocks of
/// [`PAIR_BLOCK`] pairs. `L`: lane pairs (else row pairs); lane pairs with groups of 64 run on
/// inputs widened once for the layer where they fit ([`lanes_wide_i8`](super::lanes_wide_i8)).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn pair_rows_i8<const S: usize, const L: bool>(
    finish: &Finish<'_, '_>,
    gs: usize,
    chunked: bool,
    m: &Mults,
    (widths, data): (&mut Widths<'_>, &mut &[u8]),
    taps: &[Option<&[i8]>],
    in_len: usize,
    rows: &mut [i8],
) -> Result<(), Error> {
    if L && WIDE && S == LANE_BLOCK && chunked {
        let mut buf = [WideBlock::default(); WIDE_BLOCKS];
        if let Some(wide) = widen_taps(taps, in_len, &mut buf) {
            return lane_rows_wide_i8(finish, m, (widths, data), wide, rows);
        }
    }
    // Groups of 96 in row pairs of one group each (one tap of one segment): by runs of one width.
    if let (false, true, [Some(x)]) =
        (L, S == ONE_GROUP_SEG && S == in_len && chunked && pair_bodies_built(false), taps)
    {
        return one_group_pairs_i8::<S>(finish, m, (widths, data), x, rows);
    }
    finish_pair_rows!(finish, rows, |base| row_pair_sum_i8::<S, L>(base, gs, chunked, m, widths, data, taps, in_len))
}

/// `Σ_g m(b_g)·A_g` over one row (all taps) from the groups at `widths`/`data`. `chunked`: the
/// groups are whole 8-level chunks, so widths up to 8 take their own bodies.
#[inline(always)]
fn row_sum_i8<const G: usize>(
    gs: NonZeroUsize,
    chunked: bool,
    m: &Mults,
    widths: &mut Widths<'_>,
    data: &mut &[u8],
    taps: &[Option<&[i8]>],
    in_len: usize,
) -> Result<i64, Error> {
    let gs = if G == 0 { gs.get() } else { G };
    let mut acc = 0i64;
    for tap in taps {
        let Some(x) = tap else {
            *data = skip_groups(widths, data, in_len / gs, gs)?;
            continue;
        };
        for xg in x.chunks_exact(gs) {
            let b = widths.next_width();
            *data = if chunked && built_width(b) {
                dispatch_built_width!(b, add_group_i8, [G], None, (xg, *data, m, &mut acc))
            } else {
                add_group_any_i8(xg, data, b, m, &mut acc)
            }
            .ok_or(Error::KernelShape)?;
        }
    }
    Ok(acc)
}

/// Adds `m(B)·Σ x·level` of one `B`-bit group to `acc`; returns the packed bytes after it. `G`:
/// the group size when known at compile time (unrolled), 0 (a loop over its chunks).
#[inline(always)]
fn add_group_i8<'d, const B: usize, const G: usize>(
    xg: &[i8],
    data: &'d [u8],
    m: &Mults,
    acc: &mut i64,
) -> Option<&'d [u8]> {
    let (bytes, rest) = data.split_at_checked(group_bytes(xg.len(), B as u8))?;
    let mb = i64::from(m.get(B).copied().unwrap_or(0));
    let dot = if G == 0 { dot_chunks_i8::<B>(xg, bytes) } else { dot_group_i8::<B>(xg, bytes) };
    *acc = acc.wrapping_add(mb.wrapping_mul(i64::from(dot)));
    Some(rest)
}

/// [`add_group_i8`] for any width (one body for all): group sizes that are not multiples of 8
/// and widths 9..=15.
#[inline(always)]
fn add_group_any_i8<'d>(xg: &[i8], data: &'d [u8], b: u8, m: &Mults, acc: &mut i64) -> Option<&'d [u8]> {
    let (bytes, rest) = split_group(data, xg.len(), b)?;
    let mb = i64::from(m.get(usize::from(b)).copied().unwrap_or(0));
    *acc = acc.wrapping_add(mb.wrapping_mul(i64::from(dot_group_any_i8(xg, bytes, b))));
    Some(rest)
}

/// The sums of two rows stored as a pair (`Layout::RowPairs`), each starting from `init`: each
/// group is a segment of `S` levels of row `a`, then the same inputs' levels of row `b`, both at
/// the group's width.
/// `S`: the segment length when known at compile time (0: `gs / 2`); `L`: the segments are
/// lane-pair blocks (FORMAT.md layout 2), else LSB-first streams; `chunked`: segments are whole
/// 8-level chunks, so widths up to 8 take their own bodies.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn row_pair_sum_i8<const S: usize, const L: bool>(
    init: i64,
    gs: usize,
    chunked: bool,
    m: &Mults,
    widths: &mut Widths<'_>,
    data: &mut &[u8],
    taps: &[Option<&[i8]>],
    in_len: usize,
) -> Result<(i64, i64), Error> {
    let seg = if S == 0 { gs / 2 } else { S };
    if seg == 0 {
        return Err(Error::KernelShape);
    }
    // (Constants: no copy of the bodies without them, nor for the row pairs of groups of 96, whose
    // bodies are [`one_group_pairs_i8`]'s: their other shapes take the any-width body.)
    let chunked = chunked && (L || (pair_bodies_built(false) && S != ONE_GROUP_SEG));
    let mut acc = (init, init);
    for tap in taps {
        let Some(x) = tap else {
            *data = skip_groups(widths, data, in_len / seg, 2 * seg)?;
            continue;
        };
        // Segment by segment without `chunks_exact`, whose count would take a division per tap
        // and row pair (the caller checked that `seg` divides the input).
        let mut rest = *x;
        while let Some((xs, after)) = rest.split_at_checked(seg) {
            rest = after;
            let b = widths.next_width();
            // One arm per width, each splitting off its constant-size group (a short group
            // returns the error from the arm) and reading its width's multiplier at a constant
            // offset into `m` (the width need not live through the group).
            macro_rules! pair {
                ($b:literal) => {{
                    let (g, rest) = data.split_at_checked(group_bytes(2 * seg, $b)).ok_or(Error::KernelShape)?;
                    *data = rest;
                    let (sa, sb) = if L { dot_lanes_i8::<$b>(xs, g) } else { dot_pair_i8::<$b, S>(xs, g) };
                    (sa, sb, m.get($b).copied().unwrap_or(0))
                }};
            }
            let (sa, sb, mb) = match b {
                #[cfg(feature = "width-1")]
                1 if chunked => pair!(1),
                #[cfg(feature = "width-2")]
                2 if chunked => pair!(2),
                #[cfg(feature = "width-3")]
                3 if chunked => pair!(3),
                #[cfg(feature = "width-4")]
                4 if chunked => pair!(4),
                #[cfg(feature = "width-5")]
                5 if chunked => pair!(5),
                #[cfg(feature = "width-6")]
                6 if chunked => pair!(6),
                #[cfg(feature = "width-7")]
                7 if chunked => pair!(7),
                #[cfg(feature = "width-8")]
                8 if chunked => pair!(8),
                _ => pair_group_any_i8(xs, data, b, m, L).ok_or(Error::KernelShape)?,
            };
            acc = add_scaled(acc, (sa, sb, mb));
        }
    }
    Ok(acc)
}

/// Mixed widths whose row sums could overflow i32 (wide groups at high bit widths): i64 sums
/// per group, in either layout (a pair group feeds two rows, a row group one).
fn rows_var_wide_i8(
    p: &Packed<'_>,
    params: &IntParams<'_>,
    taps: &[Option<&[i8]>],
    in_len: usize,
    min_term: i64,
    out: &mut [i8],
) -> Result<(), Error> {
    let gs = usize::from(p.group_size);
    let paired_rows = if matches!(p.layout, Layout::RowPairs { .. }) { out.len() / 2 * 2 } else { 0 };
    // (Lane pairs reach here only in a build with their kernels: no copy of this branch without.)
    let lanes = matches!(p.layout, Layout::RowPairs { lanes: true, .. }) && pair_bodies_built(true);
    let (mut bits, mut data) = (p.bits_iter(), p.data);
    let mut n = 0;
    while n < out.len() {
        let rows = if n < paired_rows { 2 } else { 1 };
        let seg = non_zero(gs / rows)?.get();
        let mut acc = [0, 1].map(|j| min_term.wrapping_add(params.bias_at(n + j)));
        for tap in taps {
            for k in 0..in_len / seg {
                let b = bits.next().unwrap_or(0);
                let half = group_bytes(seg, b).max(1);
                let (bytes, rest) = data.split_at_checked(rows * half).ok_or(Error::KernelShape)?;
                data = rest;
                if let (Some(xg), true, 2) = (tap.and_then(|x| x.get(k * seg..(k + 1) * seg)), lanes, rows) {
                    let (da, db) = dot_lanes_any_i8(xg, bytes, b);
                    for (a, dot) in acc.iter_mut().zip([da, db]) {
                        *a = a.wrapping_add(params.m(b).wrapping_mul(dot));
                    }
                } else if let Some(xg) = tap.and_then(|x| x.get(k * seg..(k + 1) * seg)) {
                    for (a, pr) in acc.iter_mut().zip(bytes.chunks_exact(half)) {
                        let dot = dot_group_any_wide_i8(xg, pr, b);
                        *a = a.wrapping_add(params.m(b).wrapping_mul(dot));
                    }
                }
            }
        }
        for (y, a) in out.iter_mut().skip(n).zip(acc.iter()).take(rows) {
            *y = params.requant(*a);
        }
        n += rows;
    }
    Ok(())
}
