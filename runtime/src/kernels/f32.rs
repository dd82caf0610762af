//! f32-activation kernels (cores with an FPU): `y = W·[x_taps] + b` with W packed, f32 or f16.

use super::unpack::{dispatch_bits, unpack8};
use crate::error::Error;
use crate::format::{Packed, Weights};
use crate::quant::{group_bytes, scale_for_bits, MAX_BITS};

/// `Σ x_i·level_i` over one group, 8 levels (`B` bytes) at a time.
#[inline(always)]
fn dot_group<const B: usize>(x: &[f32], p: &[u8]) -> f32 {
    let mut acc = 0.0f32;
    for (xs, ps) in x.chunks_exact(8).zip(p.chunks_exact(B)) {
        let l = unpack8::<B>(ps);
        for (xv, lv) in xs.iter().zip(l.iter()) {
            acc += *xv * (*lv as f32);
        }
    }
    acc
}

/// Checks `taps`/`out`/weights agree: `count = out · taps · in_len`, every tap `in_len` long.
pub(crate) fn check_shape<T>(count: u32, taps: &[Option<&[T]>], in_len: usize, out_len: usize) -> Result<(), Error> {
    let ok = taps.iter().flatten().all(|t| t.len() == in_len)
        && (count as usize) == out_len * taps.len() * in_len;
    if ok { Ok(()) } else { Err(Error::KernelShape) }
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
            if in_len % usize::from(p.group_size) != 0 {
                return Err(Error::KernelShape);
            }
            match p.fixed_bits() {
                Some(b) => dispatch_bits!(b, rows_fixed, Err(Error::KernelShape), (p, taps, in_len, out))?,
                None => rows_var(p, taps, in_len, out)?,
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
    }
    add_bias(bias, out)
}

pub(crate) fn f32_le(c: &[u8]) -> f32 {
    <[u8; 4]>::try_from(c).map(f32::from_le_bytes).unwrap_or(0.0)
}

pub(crate) fn f16_le(c: &[u8]) -> f32 {
    <[u8; 2]>::try_from(c).map(|a| half::f16::from_le_bytes(a).to_f32()).unwrap_or(0.0)
}

/// Adds an f32/f16 bias vector of `out.len()` values.
pub(crate) fn add_bias(bias: Option<&Weights<'_>>, out: &mut [f32]) -> Result<(), Error> {
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
        Some(_) => Err(Error::KernelShape),
    }
}

fn sum_taps(taps: &[Option<&[f32]>]) -> f32 {
    taps.iter().flatten().map(|t| t.iter().sum::<f32>()).sum()
}

/// Fast path: every group has `B` bits, so one scale per tensor and no per-group dispatch.
fn rows_fixed<const B: usize>(p: &Packed<'_>, taps: &[Option<&[f32]>], in_len: usize, out: &mut [f32]) -> Result<(), Error> {
    let scale = scale_for_bits(p.min, p.max, B as u8);
    let min_term = p.min * sum_taps(taps);
    let tap_bytes = group_bytes(in_len, B as u8);
    let mut rows = p.data.chunks_exact(tap_bytes * taps.len());
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

/// General path: each group's bit width from the table, one multiply by its scale per group.
fn rows_var(p: &Packed<'_>, taps: &[Option<&[f32]>], in_len: usize, out: &mut [f32]) -> Result<(), Error> {
    let mut scales = [0.0f32; MAX_BITS as usize + 1];
    for (b, s) in scales.iter_mut().enumerate().skip(1) {
        *s = scale_for_bits(p.min, p.max, b as u8);
    }
    let gs = usize::from(p.group_size);
    let min_term = p.min * sum_taps(taps);
    let (mut g, mut cur) = (0usize, 0usize);
    for y in out.iter_mut() {
        let mut acc = 0.0f32;
        for tap in taps {
            for k in 0..in_len / gs {
                let b = p.group_bits(g);
                let nb = group_bytes(gs, b);
                let bytes = p.data.get(cur..cur + nb).ok_or(Error::KernelShape)?;
                if let Some(xg) = tap.and_then(|x| x.get(k * gs..(k + 1) * gs)) {
                    let s = scales.get(usize::from(b)).copied().unwrap_or(0.0);
                    acc += s * dispatch_bits!(b, dot_group, 0.0, (xg, bytes));
                }
                g += 1;
                cur += nb;
            }
        }
        *y = acc + min_term;
    }
    Ok(())
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
    if in_len == 0 || stride == 0 || kernel == 0 || kernel > crate::format::MAX_KERNEL || x.len() % in_len != 0 {
        return Err(Error::KernelShape);
    }
    let t_in = x.len() / in_len;
    let t_out = t_in.div_ceil(stride);
    if t_out == 0 || y.len() % t_out != 0 {
        return Err(Error::KernelShape);
    }
    let out_len = y.len() / t_out;
    for (t, yt) in y.chunks_exact_mut(out_len).enumerate() {
        let mut taps: [Option<&[f32]>; crate::format::MAX_KERNEL] = [None; crate::format::MAX_KERNEL];
        for (j, tap) in taps.iter_mut().take(kernel).enumerate() {
            let back = (kernel - 1 - j) * dilation;
            *tap = (t * stride).checked_sub(back).and_then(|s| x.get(s * in_len..(s + 1) * in_len));
        }
        matvec_f32(w, bias, taps.get(..kernel).ok_or(Error::KernelShape)?, in_len, yt)?;
    }
    Ok(())
}
