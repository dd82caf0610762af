//! Board support for the QEMU firmware (qemu-demo, kbench): semihosting (the `semihosting` crate,
//! re-exported: host files, console, exit status, and its panic handler, which prints the
//! message on QEMU's stderr and exits with status 101), fault handlers that do the same for CPU
//! faults (status 103), a defmt logger over semihosting, the instruction counter and stack
//! painting. The memory map (firmware/memory/*.x) is chosen by
//! target in build.rs; binaries add `-Tlink.x -Tdefmt.x` (and `-Tmemory.x` first on RISC-V) in
//! their own build.rs.
#![no_std]

pub mod fault;
pub mod log;
pub mod platform;
pub mod profile;

#[cfg(target_arch = "arm")]
pub use cortex_m_rt::entry;
#[cfg(target_arch = "riscv32")]
pub use riscv_rt::entry;
pub use semihosting;
