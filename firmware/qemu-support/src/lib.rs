//! Board support for the QEMU firmware (qemu-demo, kbench): the semihosting channel, a defmt
//! logger over it, the panic handler (QEMU exits non-zero), the instruction counter and stack
//! painting. The memory map (firmware/memory/*.x) is chosen by target in build.rs; binaries
//! add `-Tlink.x -Tdefmt.x` (and `-Tmemory.x` first on RISC-V) in their own build.rs.
#![no_std]

pub mod log;
pub mod platform;
pub mod semihost;

#[cfg(target_arch = "arm")]
pub use cortex_m_rt::entry;
#[cfg(target_arch = "riscv32")]
pub use riscv_rt::entry;
