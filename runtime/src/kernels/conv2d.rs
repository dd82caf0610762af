//! The walk shared by the conv2d frame kernels: one time column `[C_in][F]` of a `C × F × T`
//! map per tap (time-causal taps as conv1d's), frequency "same" with zero padding and a stride.
//!
//! Weights are stored `[C_out][k_t][C_in/G][k_f]` row-major (one output channel's weights are
//! one row; packed groups are cut from this flat order and may span rows). Output `(c, f)`,
//! `f < F_out = ceil(F / stride_f)`, reads input frequencies `f·stride_f − pad + k`,
//! `pad = (k_f − 1) / 2`, zeros outside `0..F`. Outputs are made in blocks of up to [`BLOCK`]
//! bins of one channel: each weight of the channel's row is read once per block and meets every
//! input of the block it touches, in a tight loop over the block's accumulators (on the stack).
//! Each output still sums its products in storage order.

use core::num::NonZeroUsize;

use crate::error::Error;
use crate::format::node::MAX_KERNEL_H;
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

/// Output bins per block (the kernels' stack accumulators hold this many).
pub(crate) const BLOCK: usize = 32;

/// The inputs one weight meets in a block: block output `lo + i` reads `xs[i·stride]`; the
/// other outputs read zero padding. The walk checks the positions, so the kernels' loops hold
/// no bounds test.
pub(crate) struct Span<'t, T> {
    xs: &'t [T],
    lo: usize,
    stride: NonZeroUsize,
}

impl<T: Copy> Span<'_, T> {
    /// `f(accumulator r, input)` for every block output `r` the weight reaches, in order.
    #[inline(always)]
    pub(crate) fn each<A>(&self, acc: &mut [A], mut f: impl FnMut(&mut A, T)) {
        let acc = acc.get_mut(self.lo..).unwrap_or_default();
        // Strides 1 and 2 (the common ones) with the step a constant: no division for the
        // iteration count.
        match self.stride.get() {
            1 => acc.iter_mut().zip(self.xs).for_each(|(a, x)| f(a, *x)),
            2 => acc.iter_mut().zip(self.xs.iter().step_by(2)).for_each(|(a, x)| f(a, *x)),
            st => acc.iter_mut().zip(self.xs.iter().step_by(st)).for_each(|(a, x)| f(a, *x)),
        }
    }
}

/// What a kernel does as the walk goes: the walk calls `start`, then `weight` for every weight
/// of one channel's row, then `end`, for each block of one channel's outputs.
pub(crate) trait Conv2dSink<W, T> {
    /// A block of `len` outputs (bins `fo0..`) of a channel of group `group` starts; `fresh`:
    /// the group's first channel for these bins (the inputs the outputs read changed).
    fn start(&mut self, group: usize, fo0: usize, len: usize, fresh: bool);
    /// A weight and the inputs it meets (`None`: a tap before the stream start).
    fn weight(&mut self, w: W, xs: Option<Span<'_, T>>);
    /// The block is done: its output `r` is `out[channel·F_out + fo0 + r]`.
    fn end(&mut self, channel: usize, fo0: usize, len: usize);
}

/// Where weight `k` of a row meets the inputs of a block: block outputs `lo..lo + n` read the
/// row from `first` on, `stride` apart (`n = 0`: only padding).
#[derive(Clone, Copy, Default)]
struct Place {
    lo: usize,
    first: usize,
    n: usize,
}

/// The places of the row's `k_f` weights in the block `fo0..fo0 + len` (at most
/// [`MAX_KERNEL_H`] of them).
fn places(s: &Conv2dShape, fo0: usize, len: usize) -> [Place; MAX_KERNEL_H as usize] {
    let (st, pad) = (s.stride_f.max(1), s.k_f.saturating_sub(1) / 2);
    core::array::from_fn(|k| {
        // Output fo reads position fo·st + k − pad: valid for fo ≥ ceil((pad − k)/st) and
        // fo·st + k − pad < F.
        let fo_min = pad.saturating_sub(k).div_ceil(st).max(fo0);
        let fo_end = (s.freq + pad).checked_sub(k).map_or(0, |n| n.div_ceil(st)).min(fo0 + len);
        match fo_end.checked_sub(fo_min) {
            Some(n) if n > 0 => Place { lo: fo_min - fo0, first: fo_min * st + k - pad, n },
            _ => Place::default(),
        }
    })
}

/// The inputs a weight at `place` of input row `row` meets.
#[inline(always)]
fn span<T>(row: &[T], place: Place, stride: NonZeroUsize) -> Result<Span<'_, T>, Error> {
    let last = place.first + place.n.saturating_sub(1) * stride.get();
    let xs = if place.n == 0 { row.get(..0) } else { row.get(place.first..=last) };
    Ok(Span { xs: xs.ok_or(Error::KernelShape)?, lo: place.lo, stride })
}

/// Walks every output `(c, f)`: per channel group, per block of [`BLOCK`] bins, per channel of
/// the group, the channel's row of weights from `src` (`next` reads one weight), replayed once
/// per block.
pub(crate) fn conv2d_walk<S: Clone, W, T: Copy>(
    mut src: S,
    next: impl Fn(&mut S) -> Result<W, Error>,
    taps: &[Option<&[T]>],
    s: &Conv2dShape,
    c_out: usize,
    sink: &mut impl Conv2dSink<W, T>,
) -> Result<(), Error> {
    let (ipg, opg, f_out) = (per_group(s.c_in, s)?, per_group(c_out, s)?, s.f_out());
    let stride = NonZeroUsize::new(s.stride_f).ok_or(Error::KernelShape)?;
    if s.k_f > usize::from(MAX_KERNEL_H) {
        return Err(Error::KernelShape);
    }
    for g in 0..s.groups {
        let start = src.clone();
        for fo0 in (0..f_out).step_by(BLOCK) {
            src = start.clone();
            let len = BLOCK.min(f_out - fo0);
            let at = places(s, fo0, len);
            for c in g * opg..(g + 1) * opg {
                sink.start(g, fo0, len, c == g * opg);
                for tap in taps {
                    for ci in g * ipg..(g + 1) * ipg {
                        let row = tap.and_then(|t| t.get(ci * s.freq..(ci + 1) * s.freq));
                        for place in at.iter().take(s.k_f) {
                            let w = next(&mut src)?;
                            let xs = match row {
                                Some(r) => Some(span(r, *place, stride)?),
                                None => None,
                            };
                            sink.weight(w, xs);
                        }
                    }
                }
                sink.end(c, fo0, len);
            }
        }
    }
    Ok(())
}

/// `n / groups` (checked by [`Conv2dShape::check`]; an error, never a panic, otherwise).
fn per_group(n: usize, s: &Conv2dShape) -> Result<usize, Error> {
    n.checked_div(s.groups).ok_or(Error::KernelShape)
}

/// `sums[r]`: the sum of the inputs block output `r` of group `g` reads (`None` taps and
/// padding add nothing), exact in i32 for rows of up to `2^23` weights; `sums` is the block.
pub(crate) fn input_sums(taps: &[Option<&[i8]>], s: &Conv2dShape, g: usize, fo0: usize, sums: &mut [i32]) {
    sums.fill(0);
    let (Ok(ipg), Some(stride)) = (per_group(s.c_in, s), NonZeroUsize::new(s.stride_f)) else { return };
    let at = places(s, fo0, sums.len());
    for tap in taps.iter().flatten() {
        for ci in g * ipg..(g + 1) * ipg {
            let Some(row) = tap.get(ci * s.freq..(ci + 1) * s.freq) else { continue };
            for place in at.iter().take(s.k_f) {
                if let Ok(sp) = span(row, *place, stride) {
                    sp.each(sums, |a, x| *a += i32::from(x));
                }
            }
        }
    }
}
