//! What every matrix-vector kernel checks first, and the group sizes the fast paths are
//! compiled for.

use crate::error::Error;
use core::num::NonZeroUsize;

/// The group size the mixed-bit kernels are compiled for (one fully unrolled body per width
/// 1..=8; [`SHORT_GROUP_SIZE`] too, with feature `group-48`). Other sizes (multiples of 8,
/// as the format requires) share one copy whose per-width bodies loop over a run-time number of
/// 8-level chunks (feature `any-group-size`); widths 9..=15 share any-width loops. The trainer's default group size.
pub const FAST_GROUP_SIZE: usize = 64;

/// The second group size the integer and f32 mixed-bit kernels unroll, with feature
/// `group-48`: for rows of 48 inputs (one row-major group per row, or two 24-input segments per
/// row pair) and other multiples of 48 (one more copy of the per-width bodies, ~20 KB of flash
/// per path; the run-time chunk loops take ~35% more instructions per MAC on such rows).
pub const SHORT_GROUP_SIZE: usize = 48;

/// The third group size the mixed-bit kernels unroll, with feature `group-96`: row-pair groups
/// of 96 over rows of 48 inputs, one whole row of each of the pair per group (the 16 kHz model's
/// GRUs: half as many groups as groups of 48, so half the per-group width decoding and dispatch;
/// on its M4 integer frame, 3.6% fewer estimated cycles).
pub const LONG_GROUP_SIZE: usize = 96;

/// Whether a run of `len` levels is whole chunks of 8 (`B` bytes at every width `B`), so the
/// per-width bodies for widths up to 8 can read it.
#[inline]
pub(crate) fn whole_chunks(len: usize) -> bool {
    len != 0 && len % 8 == 0
}

/// `n` as a [`NonZeroUsize`] (a chunk or group length), [`Error::KernelShape`] for 0. A kernel
/// takes its lengths through this once per call, so that its loops hold no division by zero and
/// no `chunks_exact(0)` panic.
#[inline(always)]
pub(crate) fn non_zero(n: usize) -> Result<NonZeroUsize, Error> {
    NonZeroUsize::new(n).ok_or(Error::KernelShape)
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
