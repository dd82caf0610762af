//! The integer path's matrix-vector product (cores without an FPU): int8 activations, int32
//! group sums, int64 accumulation and a fixed-point rescale per output (constants precomputed in
//! the blob), adding each group with [`super::dot_i8`].
//!
//! The names of the `#[inline(always)]` helpers matter for speed: LLVM inlines them in the order
//! of their symbol names, and that order decides the register allocation of the mixed-bit loops.
//! With `add_dot_i8` sorting before `row_sums_i8` and `row_pair_sums_i8` after every other helper
//! of `rows_var_i8`, the M4's row-pair loop keeps every value it needs in registers; other orders
//! cost up to 1.4% more instructions on the default model (`kbench m4`). Check `kbench` after
//! renaming any of them.

use super::bits::{dispatch_bits_upto8, skip_groups, split_group};
use super::dot_i8::{
    dot_group_any_i8, dot_group_any_wide_i8, dot_group_i8, dot_group_wide_i8, dot_pair_any_i8, dot_pair_i8,
    dot_rows2_i8, fits_i32,
};
use super::shape::{check_shape, FAST_GROUP_SIZE};
use crate::error::{Error, Part};
use crate::format::{GroupBits, IntParams, Layout, Packed, Weights};
use crate::quant::{group_bytes, MAX_BITS};

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
    if p.group_size == 0 || in_len == 0 || in_len % usize::from(p.group_size) != 0 || params.bias.len() != out.len() {
        return Err(Error::KernelShape);
    }
    let sum_q: i64 = taps.iter().flatten().map(|t| t.iter().map(|&v| i64::from(v)).sum::<i64>()).sum();
    let min_term = i64::from(params.m_min).wrapping_mul(sum_q);
    match (p.fixed_bits(), p.layout) {
        // Fixed widths up to 8 bits get their own kernel; 9..=15 the general one.
        (Some(b @ 1..=8), Layout::Rows) => {
            dispatch_bits_upto8!(b, rows_fixed_i8, Err(Error::KernelShape), (p, params, taps, in_len, min_term, out))
        }
        // The fast group size as a constant: the group loops unroll fully. Other sizes take the
        // generic loops (same results, slower; one copy of the code per size would cost ~25 KB
        // of flash each).
        _ if usize::from(p.group_size) == FAST_GROUP_SIZE => {
            rows_var_i8::<FAST_GROUP_SIZE, { FAST_GROUP_SIZE / 2 }>(p, params, taps, in_len, min_term, out)
        }
        _ => rows_var_i8::<0, 0>(p, params, taps, in_len, min_term, out),
    }
}

/// `Σ x·level` over one row of the fixed-bit path (all taps).
#[inline(always)]
fn row_sum_fixed_i8<const B: usize>(
    row: &[u8],
    taps: &[Option<&[i8]>],
    tap_bytes: usize,
    gs: usize,
    narrow: bool,
) -> i64 {
    let gb = group_bytes(gs, B as u8);
    let mut acc = 0i64;
    for (tap, wb) in taps.iter().zip(row.chunks_exact(tap_bytes)) {
        if let Some(x) = tap {
            for (xg, pg) in x.chunks_exact(gs).zip(wb.chunks_exact(gb)) {
                acc += if narrow { i64::from(dot_group_i8::<B>(xg, pg)) } else { dot_group_wide_i8::<B>(xg, pg) };
            }
        }
    }
    acc
}

/// Fast path: every group has `B` bits; two rows at once up to 4 bits.
fn rows_fixed_i8<const B: usize>(
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
    let row_bytes = tap_bytes * taps.len();
    if row_bytes == 0 {
        return Err(Error::KernelShape);
    }
    let mut rows = p.data.chunks_exact(row_bytes);
    // One multiplier for the whole tensor: the level sums of a row need no group boundaries.
    let finish =
        |acc: i64, n: usize| params.requant(acc.wrapping_mul(m).wrapping_add(min_term).wrapping_add(params.bias_at(n)));
    let mut done = 0;
    if B <= 4 {
        let mut pairs = out.chunks_exact_mut(2);
        for yy in &mut pairs {
            let (Some(ra), Some(rb)) = (rows.next(), rows.next()) else { return Err(Error::KernelShape) };
            let (mut sa, mut sb) = (0i64, 0i64);
            for ((tap, wa), wb) in taps.iter().zip(ra.chunks_exact(tap_bytes)).zip(rb.chunks_exact(tap_bytes)) {
                if let Some(x) = tap {
                    let (a, b) = dot_rows2_i8::<B>(x, wa, wb);
                    sa += a;
                    sb += b;
                }
            }
            if let [ya, yb] = yy {
                *ya = finish(sa, done);
                *yb = finish(sb, done + 1);
            }
            done += 2;
        }
        for y in pairs.into_remainder() {
            let row = rows.next().ok_or(Error::KernelShape)?;
            *y = finish(row_sum_fixed_i8::<B>(row, taps, tap_bytes, gs, narrow), done);
            done += 1;
        }
    } else {
        for y in out.iter_mut() {
            let row = rows.next().ok_or(Error::KernelShape)?;
            *y = finish(row_sum_fixed_i8::<B>(row, taps, tap_bytes, gs, narrow), done);
            done += 1;
        }
    }
    Ok(())
}

/// One exact i32 level sum per bit width (index = width).
type Sums = [i32; 16];

/// General path: `G` is the group size when known at compile time, 0 to read it from the tensor;
/// `S = G / 2` (the row-pair segment).
fn rows_var_i8<const G: usize, const S: usize>(
    p: &Packed<'_>,
    params: &IntParams<'_>,
    taps: &[Option<&[i8]>],
    in_len: usize,
    min_term: i64,
    out: &mut [i8],
) -> Result<(), Error> {
    let top = p.bits_base + ((1u8 << p.bits_width) - 1);
    // Per-width i32 sums over a whole row are exact when a row of top-width levels fits.
    if !fits_i32(in_len * taps.len(), top.min(MAX_BITS)) {
        return rows_var_wide_i8(p, params, taps, in_len, min_term, out);
    }
    let m: [i64; 16] = core::array::from_fn(|b| if b == 0 { 0 } else { params.m(b as u8) });
    let widths = (p.bits_base, top.min(MAX_BITS));
    let (mut bits, mut data) = (p.bits_iter(), p.data);
    let gs = usize::from(p.group_size);
    let n_out = out.len();
    let lone = match p.layout {
        Layout::Rows => 0..n_out,
        Layout::RowPairs { .. } => {
            for (k, yy) in out.chunks_exact_mut(2).enumerate() {
                let (mut sa, mut sb) = ([0i32; 16], [0i32; 16]);
                row_pair_sums_i8::<S>(gs, &mut bits, &mut data, taps, in_len, &mut sa, &mut sb)?;
                if let [ya, yb] = yy {
                    *ya = finish_sums_i8(params, &m, widths, &sa, min_term, 2 * k);
                    *yb = finish_sums_i8(params, &m, widths, &sb, min_term, 2 * k + 1);
                }
            }
            n_out / 2 * 2..n_out
        }
    };
    for n in lone {
        let mut sums = [0i32; 16];
        row_sums_i8::<G>(gs, &mut bits, &mut data, taps, in_len, &mut sums)?;
        if let Some(y) = out.get_mut(n) {
            *y = finish_sums_i8(params, &m, widths, &sums, min_term, n);
        }
    }
    Ok(())
}

/// Σ_g m(b_g)·A_g = Σ_b m(b)·(Σ_{g: b_g = b} A_g): one i64 multiply per width per row, none
/// per group; then bias, rounding and the int8 clamp.
#[inline(always)]
fn finish_sums_i8(
    params: &IntParams<'_>,
    m: &[i64; 16],
    (lo, hi): (u8, u8),
    sums: &Sums,
    min_term: i64,
    n: usize,
) -> i8 {
    let mut acc = min_term.wrapping_add(params.bias_at(n));
    for b in usize::from(lo)..=usize::from(hi) {
        if let (Some(s), Some(mb)) = (sums.get(b), m.get(b)) {
            acc = acc.wrapping_add(mb.wrapping_mul(i64::from(*s)));
        }
    }
    params.requant(acc)
}

/// Level sums of one row (all taps), one i32 per bit width, from the groups at `bits`/`data`.
#[inline(always)]
fn row_sums_i8<const G: usize>(
    gs: usize,
    bits: &mut GroupBits<'_>,
    data: &mut &[u8],
    taps: &[Option<&[i8]>],
    in_len: usize,
    sums: &mut Sums,
) -> Result<(), Error> {
    let gs = if G == 0 { gs } else { G };
    for tap in taps {
        match tap {
            Some(x) => {
                for xg in x.chunks_exact(gs) {
                    let b = bits.next().unwrap_or(0);
                    *data = if G == 0 || b > 8 {
                        add_dot_any_i8(xg, data, b, sums)
                    } else {
                        dispatch_bits_upto8!(b, add_dot_i8, None, (xg, *data, sums))
                    }
                    .ok_or(Error::KernelShape)?;
                }
            }
            None => *data = skip_groups(bits, data, in_len / gs, gs)?,
        }
    }
    Ok(())
}

/// Adds one `B`-bit group's level sum to `sums[B]`; returns the packed bytes after it.
#[inline(always)]
fn add_dot_i8<'d, const B: usize>(xg: &[i8], data: &'d [u8], sums: &mut Sums) -> Option<&'d [u8]> {
    let (bytes, rest) = data.split_at_checked(group_bytes(xg.len(), B as u8))?;
    if let Some(s) = sums.get_mut(B) {
        *s = s.wrapping_add(dot_group_i8::<B>(xg, bytes));
    }
    Some(rest)
}

/// [`add_dot_i8`] for any width (one body for all): other group sizes and widths 9..=15.
/// Inlined: out of line, the call in the group loop cost RV32 6% on the mixed-bit layers.
#[inline(always)]
fn add_dot_any_i8<'d>(xg: &[i8], data: &'d [u8], b: u8, sums: &mut Sums) -> Option<&'d [u8]> {
    let (bytes, rest) = split_group(data, xg.len(), b)?;
    if let Some(s) = sums.get_mut(usize::from(b)) {
        *s = s.wrapping_add(dot_group_any_i8(xg, bytes, b));
    }
    Some(rest)
}

/// Level sums of two rows stored as a pair (`Layout::RowPairs`): each group is a segment of
/// `S` levels of row `a`, then the same inputs' levels of row `b`, both at the group's width.
/// `S`: the segment length when known at compile time (0: `gs / 2`).
#[inline(always)]
fn row_pair_sums_i8<const S: usize>(
    gs: usize,
    bits: &mut GroupBits<'_>,
    data: &mut &[u8],
    taps: &[Option<&[i8]>],
    in_len: usize,
    sa: &mut Sums,
    sb: &mut Sums,
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
                        dot_pair_any_i8(xs, bytes, b)
                    } else {
                        dispatch_bits_upto8!(b, dot_pair_i8, [S], (0, 0), (xs, bytes))
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
    let (mut bits, mut data) = (p.bits_iter(), p.data);
    let mut n = 0;
    while n < out.len() {
        let rows = if n < paired_rows { 2 } else { 1 };
        let seg = gs / rows;
        let mut acc = [0, 1].map(|j| min_term.wrapping_add(params.bias_at(n + j)));
        for tap in taps {
            for k in 0..in_len / seg {
                let b = bits.next().unwrap_or(0);
                let half = group_bytes(seg, b).max(1);
                let (bytes, rest) = data.split_at_checked(rows * half).ok_or(Error::KernelShape)?;
                data = rest;
                if let Some(xg) = tap.and_then(|x| x.get(k * seg..(k + 1) * seg)) {
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
