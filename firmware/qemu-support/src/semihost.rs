//! ARM semihosting calls (also the RISC-V semihosting convention): the only channel QEMU gives
//! a bare-metal program to the host. Output files land in QEMU's working directory.
#![allow(unsafe_code)]

const SYS_OPEN: usize = 0x01;
const SYS_CLOSE: usize = 0x02;
const SYS_WRITE0: usize = 0x04;
const SYS_WRITE: usize = 0x05;
const SYS_EXIT_EXTENDED: usize = 0x20;
const ADP_STOPPED_APPLICATION_EXIT: usize = 0x20026;
/// fopen mode "wb".
const MODE_WB: usize = 5;

/// One semihosting call: operation `op`, argument block `arg`.
#[inline(never)]
fn call(op: usize, arg: *const usize) -> isize {
    let mut r = op;
    // SAFETY: the semihosting ABI; QEMU reads the block at `arg` and writes only r0/a0.
    unsafe {
        #[cfg(target_arch = "arm")]
        core::arch::asm!("bkpt #0xab", inout("r0") r, in("r1") arg, options(nostack));
        #[cfg(target_arch = "riscv32")]
        core::arch::asm!(
            ".balign 16",
            ".option push",
            ".option norvc",
            "slli x0, x0, 0x1f",
            "ebreak",
            "srai x0, x0, 0x7",
            ".option pop",
            inout("a0") r, in("a1") arg, options(nostack)
        );
    }
    r as isize
}

/// A host file opened for writing.
pub struct File(usize);

impl File {
    /// Creates (truncates) `name` in QEMU's working directory. `name` must end with a NUL.
    pub fn create(name: &[u8]) -> Option<File> {
        let len = name.len().checked_sub(1)?;
        let block = [name.as_ptr() as usize, MODE_WB, len];
        let fd = call(SYS_OPEN, block.as_ptr());
        (fd >= 0).then_some(File(fd as usize))
    }

    /// Writes all of `bytes`; false if the host refused.
    pub fn write(&mut self, bytes: &[u8]) -> bool {
        let block = [self.0, bytes.as_ptr() as usize, bytes.len()];
        call(SYS_WRITE, block.as_ptr()) == 0
    }

    pub fn close(self) {
        let block = [self.0];
        call(SYS_CLOSE, block.as_ptr());
    }
}

/// Prints a NUL-terminated string on QEMU's console (for messages that must survive a broken
/// defmt stream, like a panic).
pub fn print0(s: &[u8]) {
    call(SYS_WRITE0, s.as_ptr() as *const usize);
}

/// Ends QEMU with exit status `code`.
pub fn exit(code: u32) -> ! {
    let block = [ADP_STOPPED_APPLICATION_EXIT, code as usize];
    call(SYS_EXIT_EXTENDED, block.as_ptr());
    loop {
        core::hint::spin_loop();
    }
}
