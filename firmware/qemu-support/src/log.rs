//! defmt over semihosting: QEMU has no RTT, so encoded defmt frames go to the host file
//! `defmt.bin`, which `host-tests` decodes with the ELF's symbol table. Plus the panic handler,
//! which must make QEMU exit non-zero.
#![allow(unsafe_code)]

use crate::semihost::{self, File};
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};

struct State {
    encoder: defmt::Encoder,
    file: Option<File>,
    buf: [u8; 128],
    len: usize,
}

struct Shared(UnsafeCell<State>);
// SAFETY: one core, no interrupt handler logs; `TAKEN` rejects re-entry.
unsafe impl Sync for Shared {}

static STATE: Shared =
    Shared(UnsafeCell::new(State { encoder: defmt::Encoder::new(), file: None, buf: [0; 128], len: 0 }));
static TAKEN: AtomicBool = AtomicBool::new(false);

/// Buffered output: one semihosting call per 128 bytes or per log frame, not per byte.
struct Out<'a> {
    file: &'a mut Option<File>,
    buf: &'a mut [u8; 128],
    len: &'a mut usize,
}

impl Out<'_> {
    fn flush(&mut self) {
        if let (Some(f), Some(b)) = (self.file.as_mut(), self.buf.get(..*self.len)) {
            f.write(b);
        }
        *self.len = 0;
    }
    fn push(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if *self.len == self.buf.len() {
                self.flush();
            }
            if let Some(slot) = self.buf.get_mut(*self.len) {
                *slot = b;
                *self.len += 1;
            }
        }
    }
}

/// Splits the state into the encoder and its output (disjoint borrows).
fn parts(s: &mut State) -> (&mut defmt::Encoder, Out<'_>) {
    let State { encoder, file, buf, len } = s;
    (encoder, Out { file, buf, len })
}

#[defmt::global_logger]
struct Logger;

// SAFETY: defmt calls acquire/write/release in order from one context; TAKEN guards re-entry.
unsafe impl defmt::Logger for Logger {
    fn acquire() {
        if TAKEN.load(Ordering::Acquire) {
            semihost::print0(b"defmt: re-entrant log\n\0");
            semihost::exit(102);
        }
        TAKEN.store(true, Ordering::Release);
        // SAFETY: TAKEN is held.
        let s = unsafe { &mut *STATE.0.get() };
        if s.file.is_none() {
            s.file = File::create(b"defmt.bin\0");
        }
        let (enc, mut out) = parts(s);
        enc.start_frame(|b| out.push(b));
    }

    unsafe fn flush() {
        // SAFETY: called between acquire and release.
        parts(unsafe { &mut *STATE.0.get() }).1.flush();
    }

    unsafe fn release() {
        // SAFETY: called after acquire.
        let (enc, mut out) = parts(unsafe { &mut *STATE.0.get() });
        enc.end_frame(|b| out.push(b));
        out.flush();
        TAKEN.store(false, Ordering::Release);
    }

    unsafe fn write(bytes: &[u8]) {
        // SAFETY: called between acquire and release.
        let (enc, mut out) = parts(unsafe { &mut *STATE.0.get() });
        enc.write(bytes, |b| out.push(b));
    }
}

/// Prints formatted text (up to 255 bytes) on QEMU's console: for a person running
/// `cargo run`, who sees no decoded defmt log.
pub fn console(args: core::fmt::Arguments<'_>) {
    use core::fmt::Write;
    let mut t = Text { buf: [0; 256], len: 0 };
    let _ = t.write_fmt(args);
    semihost::print0(t.buf.get(..=t.len).unwrap_or(b"\0"));
}

/// Formats into a fixed buffer (for the panic message on the console).
struct Text {
    buf: [u8; 256],
    len: usize,
}

impl core::fmt::Write for Text {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for &b in s.as_bytes() {
            // Keep one byte for the NUL.
            if self.len + 1 < self.buf.len() {
                if let Some(slot) = self.buf.get_mut(self.len) {
                    *slot = b;
                    self.len += 1;
                }
            }
        }
        Ok(())
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    use core::fmt::Write;
    let mut t = Text { buf: [0; 256], len: 0 };
    let _ = writeln!(t, "PANIC: {info}");
    semihost::print0(t.buf.get(..=t.len).unwrap_or(b"PANIC\n\0"));
    semihost::exit(101)
}
