//! The walk shared by the conv2d frame kernels: one time column `[C_in][F]` of a `C × F × T`
//! map per tap (time-causal taps as conv1d's), frequency "same" with zero padding and a stride.
//!
//! Weights are stored `[C_out][k_t][C_in/G][k_f]` row-major (one output channel's weights are
//! one row; packed groups are cut from this flat order and may span rows). Output `(c, f)`,
//! `f < F_out = ceil(F / stride_f)`, reads input frequencies `f·stride_f − pad + k`,
//! `pad = (k_f − 1) / 2`, zeros outside `0..F`. Each output re-reads its channel's row from a
//! saved position of the weight walk, so no accumulator buffer is needed.

use crate::error::Error;
use crate::format::MAX_KERNEL;

/// A conv2d frame's geometry (the taps give `k_t`, the output `C_out · F_out`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv2dShape {
    /// Input channels `C_in`.
    pub c_in: usize,
    /// Frequency bins `F` of the input.
    pub freq: usize,
    /// Kernel size along frequency `k_f`.
    pub k_f: usize,
    /// Stride along frequency.
    pub stride_f: usize,
    /// Channel groups `G` (`C_in` for depthwise).
    pub groups: usize,
}

impl Conv2dShape {
    /// Output bins `F_out = ceil(F / stride_f)`.
    pub fn f_out(&self) -> usize {
        self.freq.div_ceil(self.stride_f.max(1))
    }

    /// Checks the frame against the shape and `count` weights; returns `C_out`.
    pub(crate) fn check<T>(&self, count: usize, taps: &[Option<&[T]>], out_len: usize) -> Result<usize, Error> {
        let s = self;
        let dims_ok = s.c_in.checked_rem(s.groups) == Some(0) && s.freq > 0 && s.k_f > 0 && s.stride_f > 0;
        let frame = s.c_in.checked_mul(s.freq);
        let taps_ok = (1..=MAX_KERNEL).contains(&taps.len()) && taps.iter().flatten().all(|t| Some(t.len()) == frame);
        if !dims_ok || !taps_ok || out_len.checked_rem(s.f_out()) != Some(0) {
            return Err(Error::KernelShape);
        }
        let c_out = out_len.checked_div(s.f_out()).ok_or(Error::KernelShape)?;
        let per_group = s.c_in.checked_div(s.groups);
        let row = taps.len().checked_mul(s.k_f).zip(per_group).and_then(|(n, c)| n.checked_mul(c));
        if c_out.checked_rem(s.groups) != Some(0) || row.and_then(|r| r.checked_mul(c_out)) != Some(count) {
            return Err(Error::KernelShape);
        }
        Ok(c_out)
    }
}

/// What the walk hands the kernel: a weight with its input (`None`: zero padding or a tap
/// before the stream start), or the end of output `index` of channel `channel`.
pub(crate) enum Visit<W, T> {
    Weight(W, Option<T>),
    End { channel: usize, index: usize },
}

/// Walks every output `(c, f)` in order (`index = c·F_out + f`), replaying channel `c`'s row of
/// weights from `src` (`next` reads one weight) once per output bin.
pub(crate) fn conv2d_walk<S: Clone, W, T: Copy>(
    mut src: S,
    next: impl Fn(&mut S) -> Result<W, Error>,
    taps: &[Option<&[T]>],
    s: &Conv2dShape,
    c_out: usize,
    mut f: impl FnMut(Visit<W, T>),
) -> Result<(), Error> {
    let (ipg, opg, f_out, pad) = (s.c_in / s.groups, c_out / s.groups, s.f_out(), (s.k_f - 1) / 2);
    for c in 0..c_out {
        let first_in = (c / opg.max(1)) * ipg;
        let start = src.clone();
        for fo in 0..f_out {
            src = start.clone();
            for tap in taps {
                for ci in first_in..first_in + ipg {
                    let row = tap.and_then(|t| t.get(ci * s.freq..(ci + 1) * s.freq));
                    for k in 0..s.k_f {
                        let w = next(&mut src)?;
                        let x = (fo * s.stride_f + k).checked_sub(pad).and_then(|p| row.and_then(|r| r.get(p)));
                        f(Visit::Weight(w, x.copied()));
                    }
                }
            }
            f(Visit::End { channel: c, index: c * f_out + fo });
        }
    }
    Ok(())
}
