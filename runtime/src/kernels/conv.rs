//! Whole-sequence causal conv1d: builds each output frame's taps and hands them to the
//! matrix-vector kernels.

use super::matvec_f32::matvec_f32;
use super::matvec_i8::matvec_i8;
use crate::error::Error;
use crate::format::{Bias, IntParams, Weights, MAX_KERNEL};

/// The driver shared by both paths: `x` time-major `[t_in][in_len]`, each output frame's taps
/// (`None` before frame 0) handed to `matvec`. `t_out = ceil(t_in / stride)`; output `t` reads
/// input frame `t·stride`.
fn conv1d_seq<T>(
    in_len: usize,
    kernel: usize,
    dilation: usize,
    stride: usize,
    x: &[T],
    y: &mut [T],
    mut matvec: impl FnMut(&[Option<&[T]>], &mut [T]) -> Result<(), Error>,
) -> Result<(), Error> {
    if in_len == 0 || stride == 0 || kernel == 0 || kernel > MAX_KERNEL || x.len() % in_len != 0 {
        return Err(Error::KernelShape);
    }
    let t_out = (x.len() / in_len).div_ceil(stride);
    if t_out == 0 || y.len() % t_out != 0 {
        return Err(Error::KernelShape);
    }
    let out_len = y.len() / t_out;
    if out_len == 0 {
        return Err(Error::KernelShape);
    }
    for (t, yt) in y.chunks_exact_mut(out_len).enumerate() {
        let mut taps: [Option<&[T]>; MAX_KERNEL] = [None; MAX_KERNEL];
        for (j, tap) in taps.iter_mut().take(kernel).enumerate() {
            let back = (kernel - 1 - j).checked_mul(dilation).ok_or(Error::KernelShape)?;
            *tap = t
                .checked_mul(stride)
                .and_then(|ts| ts.checked_sub(back))
                .and_then(|s| x.get(s * in_len..(s + 1) * in_len));
        }
        matvec(taps.get(..kernel).ok_or(Error::KernelShape)?, yt)?;
    }
    Ok(())
}

/// Whole-sequence causal conv1d on the f32 path. `x` is time-major `[t_in][in_len]`; `y` is
/// `[t_out][out]` with `t_out = ceil(t_in / stride)`, output `t` reading input frame `t·stride`:
/// `y[t] = b + Σ_j W_j · x[t·stride − (kernel−1−j)·dilation]` (zeros before frame 0).
#[allow(clippy::too_many_arguments)]
pub fn conv1d_seq_f32(
    w: &Weights<'_>,
    bias: Option<&Bias<'_>>,
    in_len: usize,
    kernel: usize,
    dilation: usize,
    stride: usize,
    x: &[f32],
    y: &mut [f32],
) -> Result<(), Error> {
    conv1d_seq(in_len, kernel, dilation, stride, x, y, |taps, yt| matvec_f32(w, bias, taps, in_len, yt))
}

/// Whole-sequence causal conv1d on the integer path (same conventions as [`conv1d_seq_f32`]).
#[allow(clippy::too_many_arguments)]
pub fn conv1d_seq_i8(
    w: &Weights<'_>,
    params: &IntParams<'_>,
    in_len: usize,
    kernel: usize,
    dilation: usize,
    stride: usize,
    x: &[i8],
    y: &mut [i8],
) -> Result<(), Error> {
    conv1d_seq(in_len, kernel, dilation, stride, x, y, |taps, yt| matvec_i8(w, params, taps, in_len, yt))
}
