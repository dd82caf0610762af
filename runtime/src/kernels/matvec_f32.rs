//! The f32 path's matrix-vector product (cores with an FPU): `y = W·[x_taps] + b` with W packed,
//! f32 or f16, walking the weights row by row and adding each group with [`super::dot_f32`].

use super::bits::{skip_groups, split_group};
use super::dispatch::{built_width, dispatch_built_width, dispatch_fixed_width, pair_bodies_built, row_bodies_built};
use super::dot_f32::{dot_chunks_f32, dot_group_any_f32, dot_group_f32, dot_rows2_f32};
use super::nibble_table_f32::{rows_tables_f32, tables_fit, Tables};
use super::pair_runs_f32::{one_group_pairs_f32, pair_dot_any_f32, pair_dot_f32};
#[cfg(any(feature = "group-96", feature = "any-group-size"))]
use super::shape::LONG_GROUP_SIZE;
#[cfg(any(feature = "group-48", feature = "any-group-size"))]
use super::shape::SHORT_GROUP_SIZE;
use super::shape::{check_shape, non_zero, whole_chunks, FAST_GROUP_SIZE};
use super::widths::Widths;
use crate::error::Error;
use crate::format::{Bias, Layout, Packed, Weights, LANE_BLOCK};
use crate::quant::{group_bytes, scale_for_bits, MAX_BITS};
use core::num::NonZeroUsize;

/// `out[n] = bias[n] + Σ_j W[n, j, :] · taps[j]`, W stored `[out][tap][in]`.
/// A `None` tap is a frame before the start of the stream (all zeros).
pub fn matvec_f32(
    w: &Weights<'_>,
    bias: Option<&Bias<'_>>,
    taps: &[Option<&[f32]>],
    in_len: usize,
    out: &mut [f32],
) -> Result<(), Error> {
    matvec_f32_in(w, bias, taps, in_len, out, &mut Tables::new())
}

/// [`matvec_f32`] with the room for a table of sums shared by the products of a step.
pub(crate) fn matvec_f32_in(
    w: &Weights<'_>,
    bias: Option<&Bias<'_>>,
    taps: &[Option<&[f32]>],
    in_len: usize,
    out: &mut [f32],
    tables: &mut Tables,
) -> Result<(), Error> {
    match w {
        Weights::Packed(p) => {
            check_shape(p.count, taps, in_len, out.len())?;
            let unit = p.layout.group_inputs(usize::from(p.group_size));
            if unit == 0 || in_len == 0 || in_len % unit != 0 {
                return Err(Error::KernelShape);
            }
            match (p.fixed_bits(), p.layout) {
                // Fixed widths up to 8 bits get their own kernel, built for the widths the
                // `fixed-N` features name; 9..=15 the general one. The general one adds the sums
                // in another order: a fixed-width tensor whose kernel this build leaves out is
                // refused (naming the feature), not run to other results.
                (Some(b @ 1..=8), Layout::Rows) => {
                    let missing = crate::Feature::fixed(b).map_or(Error::KernelShape, Error::MissingFeature);
                    dispatch_fixed_width!(b, rows_fixed_f32, Err(missing), (p, taps, in_len, out, tables))?
                }
                // The fast group sizes as constants (see `matvec_i8`).
                _ if usize::from(p.group_size) == FAST_GROUP_SIZE => {
                    rows_var_f32::<FAST_GROUP_SIZE>(p, taps, in_len, out, true, tables)?
                }
                #[cfg(feature = "group-48")]
                _ if usize::from(p.group_size) == SHORT_GROUP_SIZE => {
                    rows_var_f32::<SHORT_GROUP_SIZE>(p, taps, in_len, out, true, tables)?
                }
                #[cfg(all(feature = "any-group-size", not(feature = "group-48")))]
                _ if usize::from(p.group_size) == SHORT_GROUP_SIZE => {
                    return Err(Error::MissingFeature(crate::Feature::Group48))
                }
                #[cfg(feature = "group-96")]
                _ if usize::from(p.group_size) == LONG_GROUP_SIZE => {
                    rows_var_f32::<LONG_GROUP_SIZE>(p, taps, in_len, out, true, tables)?
                }
                #[cfg(all(feature = "any-group-size", not(feature = "group-96")))]
                _ if usize::from(p.group_size) == LONG_GROUP_SIZE => {
                    return Err(Error::MissingFeature(crate::Feature::Group96))
                }
                #[cfg(feature = "any-group-size")]
                _ => rows_var_f32::<0>(p, taps, in_len, out, true, tables)?,
                #[cfg(not(feature = "any-group-size"))]
                _ => {
                    return Err(Error::MissingFeature(
                        crate::Feature::for_group_size(p.group_size).unwrap_or(crate::Feature::AnyGroupSize),
                    ))
                }
            }
        }
        Weights::F32(d) => {
            check_shape((d.len() / 4) as u32, taps, in_len, out.len())?;
            rows_plain_f32(d.chunks_exact(4).map(f32_le), taps, in_len, out);
        }
        Weights::F16(d) => {
            check_shape((d.len() / 2) as u32, taps, in_len, out.len())?;
            let vals = d.chunks_exact(2).map(f16_le);
            rows_plain_f32(vals, taps, in_len, out);
        }
    }
    add_bias(bias, out)
}

/// Reads one little-endian value of a plain tensor.
pub(crate) type ReadValue = fn(&[u8]) -> f32;

/// A plain tensor's bytes, the bytes per value and the reader of one value (`None` for packed
/// weights): the kernels that run both plain kinds through one loop choose the reader here.
pub(crate) fn plain_values<'d>(w: &Weights<'d>) -> Option<(&'d [u8], usize, ReadValue)> {
    match *w {
        Weights::F32(d) => Some((d, 4, f32_le)),
        Weights::F16(d) => Some((d, 2, f16_le)),
        Weights::Packed(_) => None,
    }
}

pub(crate) fn f32_le(c: &[u8]) -> f32 {
    <[u8; 4]>::try_from(c).map(f32::from_le_bytes).unwrap_or(0.0)
}

pub(crate) fn f16_le(c: &[u8]) -> f32 {
    <[u8; 2]>::try_from(c).map(|a| half::f16::from_le_bytes(a).to_f32()).unwrap_or(0.0)
}

/// `c as f32 · scale`: one f32 multiply, so every machine gets the same bias.
fn scaled_i16(c: &[u8], scale: f32) -> f32 {
    let v = <[u8; 2]>::try_from(c).map(i16::from_le_bytes).unwrap_or(0);
    f32::from(v) * scale
}

/// Value `n` of a bias (0 without one or past its end: callers check the length first).
pub(crate) fn bias_value(bias: Option<&Bias<'_>>, n: usize) -> f32 {
    match bias {
        None => 0.0,
        Some(Bias::F32(d)) => d.get(4 * n..4 * n + 4).map_or(0.0, f32_le),
        Some(Bias::F16(d)) => d.get(2 * n..2 * n + 2).map_or(0.0, f16_le),
        Some(&Bias::ScaledI16 { data, scale }) => data.get(2 * n..2 * n + 2).map_or(0.0, |c| scaled_i16(c, scale)),
    }
}

/// Adds a bias of `out.len()` values (f32, f16, or a v4 blob's i16 constants).
pub fn add_bias(bias: Option<&Bias<'_>>, out: &mut [f32]) -> Result<(), Error> {
    match bias {
        None => Ok(()),
        Some(Bias::F32(d)) if d.len() == 4 * out.len() => {
            for (y, c) in out.iter_mut().zip(d.chunks_exact(4)) {
                *y += f32_le(c);
            }
            Ok(())
        }
        Some(Bias::F16(d)) if d.len() == 2 * out.len() => {
            for (y, c) in out.iter_mut().zip(d.chunks_exact(2)) {
                *y += f16_le(c);
            }
            Ok(())
        }
        Some(&Bias::ScaledI16 { data, scale }) if data.len() == 2 * out.len() => {
            for (y, c) in out.iter_mut().zip(data.chunks_exact(2)) {
                *y += scaled_i16(c, scale);
            }
            Ok(())
        }
        Some(_) => Err(Error::KernelShape),
    }
}

fn sum_taps(taps: &[Option<&[f32]>]) -> f32 {
    taps.iter().flatten().map(|t| t.iter().sum::<f32>()).sum()
}

/// Fast path: every group has `B` bits, so one scale per tensor and no per-group dispatch.
fn rows_fixed_f32<const B: usize>(
    p: &Packed<'_>,
    taps: &[Option<&[f32]>],
    in_len: usize,
    out: &mut [f32],
    tables: &mut Tables,
) -> Result<(), Error> {
    let scale = scale_for_bits(p.min, p.max, B as u8);
    let min_term = p.min * sum_taps(taps);
    // Chunk lengths non-zero by type: the loops below hold no panic.
    let tap_bytes = non_zero(group_bytes(in_len, B as u8))?;
    let row_bytes = non_zero(tap_bytes.get() * taps.len())?;
    if let (true, [Some(x)]) = (tables_fit::<B>(in_len, taps.len(), out.len()), taps) {
        if p.data.len() / row_bytes < out.len() {
            return Err(Error::KernelShape);
        }
        rows_tables_f32::<B>(p.data, x, row_bytes, scale, min_term, out, tables);
        return Ok(());
    }
    let tap_bytes = tap_bytes.get();
    let mut rows = p.data.chunks_exact(row_bytes.get());
    if (5..=7).contains(&B) {
        // A chunk is a 64-bit word per row: two rows' words and the inputs do not fit the
        // registers together (kbench, fixed 6-bit linear 256x256: 8.29 instructions / 9.76 est.
        // cycles per MAC in pairs, 7.05 / 8.45 row by row).
        for y in out.iter_mut() {
            let row = rows.next().ok_or(Error::KernelShape)?;
            let mut acc = 0.0f32;
            for (tap, wb) in taps.iter().zip(row.chunks_exact(tap_bytes)) {
                if let Some(x) = tap {
                    acc += dot_group_f32::<B>(x, wb);
                }
            }
            *y = acc * scale + min_term;
        }
        return Ok(());
    }
    // Two rows at a time, each input loaded once for both ([`dot_rows2_f32`]: each row's sum
    // exactly as `dot_group_f32` adds it); the last row of an odd count goes through the same
    // code as a pair with itself (one body in flash).
    for yy in out.chunks_mut(2) {
        let ra = rows.next().ok_or(Error::KernelShape)?;
        let rb = if yy.len() == 2 { rows.next().ok_or(Error::KernelShape)? } else { ra };
        let (mut a, mut b) = (0.0f32, 0.0f32);
        for ((tap, wa), wb) in taps.iter().zip(ra.chunks_exact(tap_bytes)).zip(rb.chunks_exact(tap_bytes)) {
            if let Some(x) = tap {
                let (da, db) = dot_rows2_f32::<B>(x, wa, wb);
                (a, b) = (a + da, b + db);
            }
        }
        for (y, v) in yy.iter_mut().zip([a, b]) {
            *y = v * scale + min_term;
        }
    }
    Ok(())
}

/// One level sum per bit width (index = width).
type Sums = [f32; MAX_BITS as usize + 1];

/// General path: each group's bit width from the table; level sums kept per width and scaled
/// once per row. `G`: the group size when known at compile time (its widths 1..=8 get one
/// unrolled body each), 0 to read it from the tensor (widths 1..=8 then get one body each that
/// loops over a run-time number of 8-level chunks when the groups are whole chunks, and share
/// the any-width body otherwise). `fast == false` runs every group through the any-width body
/// (the tests' reference; the sums are the same bit for bit).
pub(super) fn rows_var_f32<const G: usize>(
    p: &Packed<'_>,
    taps: &[Option<&[f32]>],
    in_len: usize,
    out: &mut [f32],
    fast: bool,
    tables: &mut Tables,
) -> Result<(), Error> {
    let mut scales = [0.0f32; MAX_BITS as usize + 1];
    for (b, s) in scales.iter_mut().enumerate().skip(1) {
        *s = scale_for_bits(p.min, p.max, b as u8);
    }
    let gs = if G == 0 { usize::from(p.group_size) } else { G };
    let group = non_zero(gs)?; // (frees the row loops of divisions by zero)
    let (lo, n_widths) = (usize::from(p.bits_base), 1usize << p.bits_width);
    let min_term = p.min * sum_taps(taps);
    // Reads each width's sum and leaves it zero for the next row: groups write only the
    // table's widths `lo..lo + n_widths` (and width 0 past the table's end, never read when
    // `lo > 0`), so the arrays are zeroed once per call instead of once per row.
    let finish = |sums: &mut Sums| {
        let mut acc = 0.0f32;
        for b in lo..lo + n_widths {
            if let (Some(s), Some(sc)) = (sums.get_mut(b), scales.get(b)) {
                acc += core::mem::take(s) * *sc;
            }
        }
        acc + min_term
    };
    let (mut bits, mut data) = (Widths::<false>::new(p), p.data);
    let (mut sa, mut sb): (Sums, Sums) = ([0.0; MAX_BITS as usize + 1], [0.0; MAX_BITS as usize + 1]);
    let n_out = out.len();
    let lone = match p.layout {
        Layout::Rows => 0..n_out,
        Layout::RowPairs { lanes, .. } => {
            let chunked = fast && (G != 0 || whole_chunks(gs / 2));
            let seg = non_zero(gs / 2)?;
            let (state, sums) = ((&mut bits, &mut data), (&mut sa, &mut sb));
            // One loop per pair layout, each with its own group bodies inlined.
            // (Lane pairs have groups of whole 64-column block pairs: no copy for the other sizes.)
            if lanes && !pair_bodies_built(true) {
                return Err(Error::MissingFeature(crate::Feature::LanePairs));
            } else if lanes && (G == 0 || G % (2 * LANE_BLOCK) == 0) {
                pair_rows_f32::<G, true>(seg, chunked, state, taps, in_len, sums, &finish, out)?;
            } else if lanes {
                return Err(Error::KernelShape);
            } else if let (true, [Some(x)]) =
                (G == super::shape::LONG_GROUP_SIZE && chunked && seg.get() == in_len, taps)
            {
                // One group per pair: by runs of one width, each row finished from its group.
                one_group_pairs_f32(x, state, (&scales, min_term), out, tables)?;
            } else {
                // (Those are the only unrolled bodies of row pairs in groups of 96: their other
                // shapes, several taps or segments per row, take the any-width body.)
                let chunked = chunked && G != super::shape::LONG_GROUP_SIZE;
                pair_rows_f32::<G, false>(seg, chunked, state, taps, in_len, sums, &finish, out)?;
            }
            n_out / 2 * 2..n_out
        }
    };
    // (Without `rows` every row here takes the any-width body: a constant, no unrolled copy.)
    let chunked = fast && row_bodies_built() && (G != 0 || whole_chunks(gs));
    for n in lone {
        row_sums_f32::<G>(group, chunked, &mut bits, &mut data, taps, in_len, &mut sa)?;
        if let Some(y) = out.get_mut(n) {
            *y = finish(&mut sa);
        }
    }
    Ok(())
}

/// Every row pair of a pair tensor (`out`: a lone last row, if any, is left), each pair's sums
/// finished by `finish`. `L`: lane pairs (else row pairs).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn pair_rows_f32<const G: usize, const L: bool>(
    seg: NonZeroUsize,
    chunked: bool,
    (bits, data): (&mut Widths<'_, false>, &mut &[u8]),
    taps: &[Option<&[f32]>],
    in_len: usize,
    (sa, sb): (&mut Sums, &mut Sums),
    finish: &impl Fn(&mut Sums) -> f32,
    out: &mut [f32],
) -> Result<(), Error> {
    for yy in out.chunks_exact_mut(2) {
        row_pair_sums_f32::<G, L>(seg, chunked, bits, data, taps, in_len, (&mut *sa, &mut *sb))?;
        if let [ya, yb] = yy {
            (*ya, *yb) = (finish(sa), finish(sb));
        }
    }
    Ok(())
}

/// Level sums of two rows stored as a pair (`Layout::RowPairs`), one per bit width. `L`: the
/// segments are lane-pair blocks (FORMAT.md layout 2); `chunked`: the segments are whole 8-level
/// chunks, so widths up to 8 take their own bodies.
#[inline(always)]
fn row_pair_sums_f32<const G: usize, const L: bool>(
    seg: NonZeroUsize,
    chunked: bool,
    bits: &mut Widths<'_, false>,
    data: &mut &[u8],
    taps: &[Option<&[f32]>],
    in_len: usize,
    (sa, sb): (&mut Sums, &mut Sums),
) -> Result<(), Error> {
    let (seg, gs) = (seg.get(), 2 * seg.get());
    let chunked = chunked && (L || pair_bodies_built(false)); // (a constant: no copy without them)
    for tap in taps {
        match tap {
            Some(x) => {
                for xs in x.chunks_exact(seg) {
                    let b = bits.next_width();
                    *data = if chunked && built_width(b) {
                        dispatch_built_width!(b, add_pair_dot_f32, [L], None, (xs, *data, sa, sb))
                    } else {
                        add_pair_dot_any_f32::<L>(xs, data, b, sa, sb)
                    }
                    .ok_or(Error::KernelShape)?;
                }
            }
            None => *data = skip_groups(bits, data, in_len / seg, gs)?,
        }
    }
    Ok(())
}

/// Level sums of one row (all taps), one per bit width (`chunked`: as [`row_pair_sums_f32`]).
#[inline(always)]
fn row_sums_f32<const G: usize>(
    gs: NonZeroUsize,
    chunked: bool,
    bits: &mut Widths<'_, false>,
    data: &mut &[u8],
    taps: &[Option<&[f32]>],
    in_len: usize,
    sums: &mut Sums,
) -> Result<(), Error> {
    let gs = gs.get();
    for tap in taps {
        match tap {
            Some(x) => {
                for xg in x.chunks_exact(gs) {
                    let b = bits.next_width();
                    *data = if chunked && built_width(b) {
                        dispatch_built_width!(b, add_dot_f32, [G], None, (xg, *data, sums))
                    } else {
                        add_dot_any_f32(xg, data, b, sums)
                    }
                    .ok_or(Error::KernelShape)?;
                }
            }
            None => *data = skip_groups(bits, data, in_len / gs, gs)?,
        }
    }
    Ok(())
}

/// Adds one `B`-bit group's `Σ x·level` to `sums[B]`; returns the packed bytes after it. `G`: the
/// group size when known at compile time (unrolled), 0 (a loop over its chunks).
#[inline(always)]
fn add_dot_f32<'d, const B: usize, const G: usize>(xg: &[f32], data: &'d [u8], sums: &mut Sums) -> Option<&'d [u8]> {
    let (bytes, rest) = data.split_at_checked(group_bytes(xg.len(), B as u8))?;
    if let Some(s) = sums.get_mut(B) {
        *s += if G == 0 { dot_chunks_f32::<B>(xg, bytes) } else { dot_group_f32::<B>(xg, bytes) };
    }
    Some(rest)
}

/// [`add_dot_f32`] for any width (one body for all): group sizes that are not multiples of 8 and
/// widths 9..=15.
/// Inlined: a call in the group loop makes every caller-saved register spill around it.
#[inline(always)]
fn add_dot_any_f32<'d>(xg: &[f32], data: &'d [u8], b: u8, sums: &mut Sums) -> Option<&'d [u8]> {
    let (bytes, rest) = split_group(data, xg.len(), b)?;
    if let Some(s) = sums.get_mut(usize::from(b)) {
        *s += dot_group_any_f32(xg, bytes, b);
    }
    Some(rest)
}

/// Adds one `B`-bit row-pair group (the segment's levels of row `a`, then of row `b`) to both
/// rows' sums; returns the packed bytes after it.
#[inline(always)]
fn add_pair_dot_f32<'d, const B: usize, const L: bool>(
    xs: &[f32],
    data: &'d [u8],
    sa: &mut Sums,
    sb: &mut Sums,
) -> Option<&'d [u8]> {
    let ((a, b), rest) = pair_dot_f32::<B, L>(xs, data)?;
    if let (Some(x), Some(y)) = (sa.get_mut(B), sb.get_mut(B)) {
        *x += a;
        *y += b;
    }
    Some(rest)
}

/// [`add_pair_dot_f32`] for any width (one body for all; inlined, as [`add_dot_any_f32`]).
#[inline(always)]
fn add_pair_dot_any_f32<'d, const L: bool>(
    xs: &[f32],
    data: &'d [u8],
    b: u8,
    sa: &mut Sums,
    sb: &mut Sums,
) -> Option<&'d [u8]> {
    let ((a, c), rest) = pair_dot_any_f32::<L>(xs, data, b)?;
    if let (Some(x), Some(y)) = (sa.get_mut(usize::from(b)), sb.get_mut(usize::from(b))) {
        *x += a;
        *y += c;
    }
    Some(rest)
}

/// Unquantised weights (the fp32 baseline), read one by one from the blob.
fn rows_plain_f32(mut w: impl Iterator<Item = f32>, taps: &[Option<&[f32]>], in_len: usize, out: &mut [f32]) {
    for y in out.iter_mut() {
        let mut acc = 0.0f32;
        for tap in taps {
            match tap {
                Some(x) => {
                    for xv in x.iter() {
                        acc += *xv * w.next().unwrap_or(0.0);
                    }
                }
                None => {
                    w.by_ref().take(in_len).for_each(drop);
                }
            }
        }
        *y = acc;
    }
}
