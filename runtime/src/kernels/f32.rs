//! f32-activation kernels (cores with an FPU): `y = W·[x_taps] + b` with W packed, f32 or f16.

use super::any_width;
use super::unpack::{dispatch_bits_upto8, le_u128, le_u32, le_u64, skip_groups};
use crate::error::Error;
use crate::format::{Layout, Packed, Weights};
use crate::quant::{group_bytes, scale_for_bits, MAX_BITS};

/// 8 MACs: `x · levels`, the levels LSB-first in `w`. Two accumulators (even and odd levels)
/// halve the floating-point dependency chain.
#[inline(always)]
fn mac8<const B: usize>(xs: &[f32], w: u64, a0: &mut f32, a1: &mut f32) {
    let Ok(&[x0, x1, x2, x3, x4, x5, x6, x7]) = <&[f32; 8]>::try_from(xs) else { return };
    let mask = (1u64 << B) - 1;
    let l = |i: usize| ((w >> (i * B)) & mask) as u32 as f32;
    *a0 += x0 * l(0);
    *a1 += x1 * l(1);
    *a0 += x2 * l(2);
    *a1 += x3 * l(3);
    *a0 += x4 * l(4);
    *a1 += x5 * l(5);
    *a0 += x6 * l(6);
    *a1 += x7 * l(7);
}

/// `Σ x_i·level_i` over `x.len()` levels (a multiple of 8), `B ≤ 8` (wider groups take
/// [`any_width::dot_f32`], which adds the same terms in the same order). The levels are read in
/// blocks of `min(16 / B, 4)` chunks of 8 levels (≤ 16 bytes, whole-word loads).
#[inline(always)]
pub(super) fn dot_group<const B: usize>(x: &[f32], p: &[u8]) -> f32 {
    let (mut a0, mut a1) = (0.0f32, 0.0f32);
    let c = (16 / B).min(4); // B = 1..=8: 4, 4, 5→4, 4, 3, 2, 2, 2 (small enough to unroll)
    let (xb, pb) = (x.chunks_exact(8 * c), p.chunks_exact(B * c));
    let (xr, pr) = (xb.remainder(), pb.remainder());
    for (xs, ps) in xb.zip(pb) {
        let v = le_u128(ps);
        for (j, x8) in xs.chunks_exact(8).enumerate() {
            mac8::<B>(x8, (v >> (8 * B * j)) as u64, &mut a0, &mut a1);
        }
    }
    for (x8, p8) in xr.chunks_exact(8).zip(pr.chunks_exact(B)) {
        mac8::<B>(x8, le_u64(p8), &mut a0, &mut a1);
    }
    a0 + a1
}

/// Checks `taps`/`out`/weights agree: `count = out · taps · in_len`, every tap `in_len` long.
pub(crate) fn check_shape<T>(count: u32, taps: &[Option<&[T]>], in_len: usize, out_len: usize) -> Result<(), Error> {
    let ok = taps.iter().flatten().all(|t| t.len() == in_len)
        && out_len.checked_mul(taps.len()).and_then(|n| n.checked_mul(in_len)) == Some(count as usize);
    if ok {
        Ok(())
    } else {
        Err(Error::KernelShape)
    }
}

/// `out[n] = bias[n] + Σ_j W[n, j, :] · taps[j]`, W stored `[out][tap][in]`.
/// A `None` tap is a frame before the start of the stream (all zeros).
pub fn matvec_f32(
    w: &Weights<'_>,
    bias: Option<&Weights<'_>>,
    taps: &[Option<&[f32]>],
    in_len: usize,
    out: &mut [f32],
) -> Result<(), Error> {
    match w {
        Weights::Packed(p) => {
            check_shape(p.count, taps, in_len, out.len())?;
            if p.group_size == 0 || in_len == 0 || in_len % usize::from(p.group_size) != 0 {
                return Err(Error::KernelShape);
            }
            match (p.fixed_bits(), p.layout) {
                // Fixed widths up to 8 bits get their own kernel; 9..=15 the general one.
                (Some(b @ 1..=8), Layout::Rows) => {
                    dispatch_bits_upto8!(b, rows_fixed, Err(Error::KernelShape), (p, taps, in_len, out))?
                }
                // The trainer's default group size as a constant (see `matvec_i8`).
                _ if p.group_size == 64 => rows_var::<64>(p, taps, in_len, out)?,
                _ => rows_var::<0>(p, taps, in_len, out)?,
            }
        }
        Weights::F32(d) => {
            check_shape((d.len() / 4) as u32, taps, in_len, out.len())?;
            rows_plain(d.chunks_exact(4).map(f32_le), taps, in_len, out);
        }
        Weights::F16(d) => {
            check_shape((d.len() / 2) as u32, taps, in_len, out.len())?;
            let vals = d.chunks_exact(2).map(f16_le);
            rows_plain(vals, taps, in_len, out);
        }
        Weights::ScaledI16 { .. } => return Err(Error::KernelShape),
    }
    add_bias(bias, out)
}

pub(crate) fn f32_le(c: &[u8]) -> f32 {
    <[u8; 4]>::try_from(c).map(f32::from_le_bytes).unwrap_or(0.0)
}

/// `c as f32 · scale`: one f32 multiply, so every machine gets the same bias.
pub(crate) fn scaled_i16(c: &[u8], scale: f32) -> f32 {
    let v = <[u8; 2]>::try_from(c).map(i16::from_le_bytes).unwrap_or(0);
    f32::from(v) * scale
}

pub(crate) fn f16_le(c: &[u8]) -> f32 {
    <[u8; 2]>::try_from(c).map(|a| half::f16::from_le_bytes(a).to_f32()).unwrap_or(0.0)
}

/// Adds a bias vector of `out.len()` values (f32, f16, or a v4 blob's i16 constants).
pub fn add_bias(bias: Option<&Weights<'_>>, out: &mut [f32]) -> Result<(), Error> {
    match bias {
        None => Ok(()),
        Some(Weights::F32(d)) if d.len() == 4 * out.len() => {
            for (y, c) in out.iter_mut().zip(d.chunks_exact(4)) {
                *y += f32_le(c);
            }
            Ok(())
        }
        Some(Weights::F16(d)) if d.len() == 2 * out.len() => {
            for (y, c) in out.iter_mut().zip(d.chunks_exact(2)) {
                *y += f16_le(c);
            }
            Ok(())
        }
        Some(&Weights::ScaledI16 { data, scale }) if data.len() == 2 * out.len() => {
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
fn rows_fixed<const B: usize>(
    p: &Packed<'_>,
    taps: &[Option<&[f32]>],
    in_len: usize,
    out: &mut [f32],
) -> Result<(), Error> {
    let scale = scale_for_bits(p.min, p.max, B as u8);
    let min_term = p.min * sum_taps(taps);
    let tap_bytes = group_bytes(in_len, B as u8);
    let row_bytes = tap_bytes * taps.len();
    if row_bytes == 0 {
        return Err(Error::KernelShape);
    }
    let mut rows = p.data.chunks_exact(row_bytes);
    for y in out.iter_mut() {
        let row = rows.next().ok_or(Error::KernelShape)?;
        let mut acc = 0.0f32;
        for (tap, wb) in taps.iter().zip(row.chunks_exact(tap_bytes)) {
            if let Some(x) = tap {
                acc += dot_group::<B>(x, wb);
            }
        }
        *y = acc * scale + min_term;
    }
    Ok(())
}

/// General path: each group's bit width from the table; level sums kept per width and scaled
/// once per row. `G`: the group size when known at compile time (its widths 1..=8 get one
/// unrolled body each), 0 to read it from the tensor (every width then shares one body).
fn rows_var<const G: usize>(
    p: &Packed<'_>,
    taps: &[Option<&[f32]>],
    in_len: usize,
    out: &mut [f32],
) -> Result<(), Error> {
    let mut scales = [0.0f32; MAX_BITS as usize + 1];
    for (b, s) in scales.iter_mut().enumerate().skip(1) {
        *s = scale_for_bits(p.min, p.max, b as u8);
    }
    let gs = if G == 0 { usize::from(p.group_size) } else { G };
    let (lo, n_widths) = (usize::from(p.bits_base), 1usize << p.bits_width);
    let min_term = p.min * sum_taps(taps);
    let finish = |sums: &Sums| {
        let mut acc = 0.0f32;
        for b in lo..lo + n_widths {
            if let (Some(s), Some(sc)) = (sums.get(b), scales.get(b)) {
                acc += *s * *sc;
            }
        }
        acc + min_term
    };
    let (mut bits, mut data) = (p.bits_iter(), p.data);
    let n_out = out.len();
    let lone = match p.layout {
        Layout::Rows => 0..n_out,
        Layout::RowPairs { .. } => {
            let seg = gs / 2;
            for yy in out.chunks_exact_mut(2) {
                let (mut sa, mut sb) = ([0.0f32; 16], [0.0f32; 16]);
                for tap in taps {
                    match tap {
                        Some(x) => {
                            for xs in x.chunks_exact(seg) {
                                let b = bits.next().unwrap_or(0);
                                data = if G == 0 || b > 8 {
                                    pair_any(xs, data, b, &mut sa, &mut sb)
                                } else {
                                    dispatch_bits_upto8!(b, pair_into, None, (xs, data, &mut sa, &mut sb))
                                }
                                .ok_or(Error::KernelShape)?;
                            }
                        }
                        None => data = skip_groups(&mut bits, data, in_len / seg, gs)?,
                    }
                }
                if let [ya, yb] = yy {
                    (*ya, *yb) = (finish(&sa), finish(&sb));
                }
            }
            n_out / 2 * 2..n_out
        }
    };
    for n in lone {
        let mut sums = [0.0f32; MAX_BITS as usize + 1];
        for tap in taps {
            match tap {
                Some(x) => {
                    for xg in x.chunks_exact(gs) {
                        let b = bits.next().unwrap_or(0);
                        data = if G == 0 || b > 8 {
                            group_any(xg, data, b, &mut sums)
                        } else {
                            dispatch_bits_upto8!(b, group_into, None, (xg, data, &mut sums))
                        }
                        .ok_or(Error::KernelShape)?;
                    }
                }
                None => data = skip_groups(&mut bits, data, in_len / gs, gs)?,
            }
        }
        if let Some(y) = out.get_mut(n) {
            *y = finish(&sums);
        }
    }
    Ok(())
}

/// One level sum per bit width (index = width).
pub(super) type Sums = [f32; MAX_BITS as usize + 1];

/// Adds one `B`-bit group's `Σ x·level` to `sums[B]`; returns the packed bytes after it.
#[inline(always)]
fn group_into<'d, const B: usize>(xg: &[f32], data: &'d [u8], sums: &mut Sums) -> Option<&'d [u8]> {
    let (bytes, rest) = data.split_at_checked(group_bytes(xg.len(), B as u8))?;
    if let Some(s) = sums.get_mut(B) {
        *s += dot_group::<B>(xg, bytes);
    }
    Some(rest)
}

/// [`group_into`] for any width (one body for all): other group sizes and widths 9..=15.
/// Inlined: a call in the group loop makes every caller-saved register spill around it.
#[inline(always)]
fn group_any<'d>(xg: &[f32], data: &'d [u8], b: u8, sums: &mut Sums) -> Option<&'d [u8]> {
    let (bytes, rest) = any_width::split_group(data, xg.len(), b)?;
    if let Some(s) = sums.get_mut(usize::from(b)) {
        *s += any_width::dot_f32(xg, bytes, b);
    }
    Some(rest)
}

/// One group of a row pair (`Layout::RowPairs`, `B ≤ 8`): the segment's levels of row `a`,
/// then of row `b`; each input is loaded once for both rows.
#[inline(always)]
pub(super) fn pair_into<'d, const B: usize>(
    xs: &[f32],
    data: &'d [u8],
    sa: &mut Sums,
    sb: &mut Sums,
) -> Option<&'d [u8]> {
    let half = group_bytes(xs.len(), B as u8);
    let (bytes, rest) = data.split_at_checked(2 * half)?;
    let (pa, pb) = bytes.split_at_checked(half)?;
    let mask = (1u64 << B) - 1;
    let (mut a, mut b) = (0.0f32, 0.0f32);
    for ((x8, ca), cb) in xs.chunks_exact(8).zip(pa.chunks_exact(B)).zip(pb.chunks_exact(B)) {
        // Up to 4 bits a chunk is one 32-bit word per row (cheaper to assemble and shift).
        let (wa, wb) = if B <= 4 { (u64::from(le_u32(ca)), u64::from(le_u32(cb))) } else { (le_u64(ca), le_u64(cb)) };
        for (i, xv) in x8.iter().enumerate() {
            a += *xv * ((wa >> (i * B)) & mask) as u32 as f32;
            b += *xv * ((wb >> (i * B)) & mask) as u32 as f32;
        }
    }
    if let (Some(x), Some(y)) = (sa.get_mut(B), sb.get_mut(B)) {
        *x += a;
        *y += b;
    }
    Some(rest)
}

/// [`pair_into`] for any width (one body for all; inlined, as [`group_any`]).
#[inline(always)]
fn pair_any<'d>(xs: &[f32], data: &'d [u8], b: u8, sa: &mut Sums, sb: &mut Sums) -> Option<&'d [u8]> {
    let (bytes, rest) = any_width::split_group(data, 2 * xs.len(), b)?;
    let (pa, pb) = bytes.split_at_checked(group_bytes(xs.len(), b))?;
    let (a, c) = any_width::pair_f32(xs, pa, pb, b);
    if let (Some(x), Some(y)) = (sa.get_mut(usize::from(b)), sb.get_mut(usize::from(b))) {
        *x += a;
        *y += c;
    }
    Some(rest)
}

/// Unquantised weights (the fp32 baseline), read one by one from the blob.
fn rows_plain(mut w: impl Iterator<Item = f32>, taps: &[Option<&[f32]>], in_len: usize, out: &mut [f32]) {
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

/// Whole-sequence causal conv1d. `x` is time-major `[t_in][in_len]`; `y` is `[t_out][out]` with
/// `t_out = ceil(t_in / stride)`, output `t` reading input frame `t·stride`:
/// `y[t] = b + Σ_j W_j · x[t·stride − (kernel−1−j)·dilation]` (zeros before frame 0).
#[allow(clippy::too_many_arguments)]
pub fn conv1d_seq_f32(
    w: &Weights<'_>,
    bias: Option<&Weights<'_>>,
    in_len: usize,
    kernel: usize,
    dilation: usize,
    stride: usize,
    x: &[f32],
    y: &mut [f32],
) -> Result<(), Error> {
    super::conv1d_seq(in_len, kernel, dilation, stride, x, y, |taps, yt| matvec_f32(w, bias, taps, in_len, yt))
}
