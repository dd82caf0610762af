//! What every matrix-vector kernel checks first, and the group size the fast paths are
//! compiled for.

use crate::error::Error;

/// The group size the mixed-bit kernels are compiled for (one fully unrolled body per width
/// 1..=8). Other sizes (multiples of 8, as the format requires) share one copy whose per-width
/// bodies loop over a run-time number of 8-level chunks; widths 9..=15 share any-width loops.
/// The trainer's default group size.
pub const FAST_GROUP_SIZE: usize = 64;

/// Whether a run of `len` levels is whole chunks of 8 (`B` bytes at every width `B`), so the
/// per-width bodies for widths up to 8 can read it.
#[inline]
pub(crate) fn whole_chunks(len: usize) -> bool {
    len != 0 && len % 8 == 0
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
