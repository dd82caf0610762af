//! Compute kernels over weights still packed in flash.
//!
//! A conv1d frame and a linear layer are the same operation: a matrix-vector product whose
//! input is the concatenation of `kernel` time-shifted frames ("taps"). The kernels walk the
//! packed levels once, row by row, unpacking 8 levels at a time inside the inner loop:
//! `y[n] = bias[n] + min·Σx + Σ_groups scale_{b_g} · Σ_{i∈g} x_i·level_i`.

pub mod act;
mod any_width;
pub mod f32;
pub mod int;
mod int_pairs;
pub(crate) mod unpack;

pub use act::{add, mul, relu, relu_i8, sigmoid, tanh};
pub use f32::{conv1d_seq_f32, matvec_f32};
pub use int::{conv1d_seq_i8, matvec_i8, BiasQ, IntParams};

use crate::error::Error;
use crate::format::MAX_KERNEL;

/// Whole-sequence causal conv1d driver shared by both paths: builds each output frame's taps
/// (`x` time-major `[t_in][in_len]`, `None` before frame 0) and hands them to `matvec`.
/// `t_out = ceil(t_in / stride)`; output `t` reads input frame `t·stride`.
pub(crate) fn conv1d_seq<T>(
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
