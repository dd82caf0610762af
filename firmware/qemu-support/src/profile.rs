//! Segment marks for the instruction profiler (`host-tests/qemu-plugin/insn_profile.c`).
//!
//! `mark(k)` stores one byte to `PROFILE_MARKS[k]`; the plugin, given that array's address (the
//! host finds it in the ELF's symbols), counts every instruction executed after the store in
//! segment `k`, until the next mark. Without the plugin a mark is one byte store.

use core::sync::atomic::{AtomicU8, Ordering};

/// Segments `0..SEGMENTS`; the plugin keeps one more, for what runs before the first mark.
pub const SEGMENTS: usize = 255;

/// One byte per segment; only the address of each store matters. `#[used]` keeps the array and
/// its stores: nothing in the firmware reads it.
#[used]
pub static PROFILE_MARKS: [AtomicU8; SEGMENTS] = [const { AtomicU8::new(0) }; SEGMENTS];

/// Starts segment `k` (ignored for `k >= SEGMENTS`).
#[inline(never)]
pub fn mark(k: usize) {
    if let Some(m) = PROFILE_MARKS.get(k) {
        m.store(0, Ordering::Relaxed);
    }
}
