//! CPU faults end the run: a HardFault (Cortex-M) or an exception trap (RISC-V) prints where it
//! happened on QEMU's stderr and exits with [`FAULT_EXIT`], instead of spinning in the runtime
//! crates' default handler until the harness gives up.

/// Exit status of a CPU fault (101 is a panic, 102 a re-entrant log call).
pub const FAULT_EXIT: i32 = 103;

// SAFETY: cortex-m-rt requires the HardFault handler to be an `unsafe fn`; this one only reads
// the stacked exception frame it is given and makes semihosting calls.
#[cfg(target_arch = "arm")]
#[allow(unsafe_code)]
#[cortex_m_rt::exception]
unsafe fn HardFault(ef: &cortex_m_rt::ExceptionFrame) -> ! {
    semihosting::eprintln!("HardFault: pc={:#010x} lr={:#010x} xpsr={:#010x}", ef.pc(), ef.lr(), ef.xpsr());
    semihosting::process::exit(FAULT_EXIT)
}

/// Every exception without a handler of its own (access faults, illegal instructions).
// SAFETY: `export_name` replaces riscv-rt's weak `ExceptionHandler` symbol, which is the
// documented way to install it; the function has the signature riscv-rt calls.
#[cfg(target_arch = "riscv32")]
#[allow(unsafe_code)]
#[export_name = "ExceptionHandler"]
fn exception_handler(frame: &riscv_rt::TrapFrame) -> ! {
    let (cause, epc) = (riscv::register::mcause::read().bits(), riscv::register::mepc::read());
    semihosting::eprintln!("trap: mcause={cause:#x} mepc={epc:#010x} ra={:#010x}", frame.ra);
    semihosting::process::exit(FAULT_EXIT)
}
