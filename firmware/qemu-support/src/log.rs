//! defmt over semihosting: QEMU has no RTT, so encoded defmt frames go to the host file
//! `defmt.bin`, which `host-tests` decodes with the ELF's symbol table.

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};
use semihosting::fs::File;
use semihosting::io::Write as _;

/// Exit status when a log call starts while another is in progress (an interrupt handler logged).
const REENTRANT_EXIT: i32 = 102;

struct State {
    encoder: defmt::Encoder,
    file: Option<File>,
    buf: [u8; 128],
    len: usize,
}

struct Shared(UnsafeCell<State>);

// SAFETY: one core, no interrupt handler logs; `TAKEN` rejects re-entry, so at most one `&mut`
// to the state exists at a time.
#[allow(unsafe_code)]
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
            // Logging must not stop the firmware: a failed host write loses log bytes only.
            let _ = f.write_all(b);
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

// SAFETY: defmt calls acquire, then write/flush, then release, from one context; `TAKEN` is set
// between acquire and release and guards re-entry, so each `&mut *STATE.0.get()` below is the
// only reference to the state while it lives.
#[allow(unsafe_code)]
unsafe impl defmt::Logger for Logger {
    fn acquire() {
        if TAKEN.load(Ordering::Acquire) {
            semihosting::eprintln!("defmt: re-entrant log");
            semihosting::process::exit(REENTRANT_EXIT);
        }
        TAKEN.store(true, Ordering::Release);
        // SAFETY: TAKEN is held.
        let s = unsafe { &mut *STATE.0.get() };
        if s.file.is_none() {
            s.file = File::create(c"defmt.bin").ok();
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
