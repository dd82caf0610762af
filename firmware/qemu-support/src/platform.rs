//! What differs between the cores: the instruction counter, the calibration loop that checks
//! it, and the stack bounds for stack painting.

/// Pattern painted over the free stack before the run.
const PAINT: u32 = 0xDEAD_BEEF;

/// Per-frame counter. ARM: SysTick on the core clock (QEMU mps2: 25 MHz; with `-icount
/// shift=0` one instruction is 1 ns, so one tick is 40 instructions). RISC-V: `minstret`.
pub struct Counter;

#[cfg(target_arch = "arm")]
impl Counter {
    pub fn start() -> Self {
        // SAFETY: only this counter touches SysTick (registers at their architectural address).
        #[allow(unsafe_code)]
        let mut syst = unsafe { cortex_m::Peripherals::steal() }.SYST;
        syst.set_clock_source(cortex_m::peripheral::syst::SystClkSource::Core);
        syst.set_reload(0x00FF_FFFF);
        syst.clear_current();
        syst.enable_counter();
        Counter
    }
}

#[cfg(target_arch = "arm")]
impl demo_core::Counter for Counter {
    /// SysTick counts down; report an up-counting value.
    fn now(&mut self) -> u32 {
        0x00FF_FFFF - cortex_m::peripheral::SYST::get_current()
    }
    fn to_units(&self, delta: u32) -> u32 {
        delta & 0x00FF_FFFF
    }
}

#[cfg(target_arch = "riscv32")]
impl Counter {
    pub fn start() -> Self {
        Counter
    }
}

#[cfg(target_arch = "riscv32")]
impl demo_core::Counter for Counter {
    fn now(&mut self) -> u32 {
        riscv::register::minstret::read() as u32
    }
}

/// Runs a loop of exactly `2·n` instructions and returns (instructions, counter units), so
/// the harness can check the counter's scale instead of trusting it.
pub fn calibrate(c: &mut Counter, n: u32) -> (u32, u32) {
    use demo_core::Counter as _;
    let t0 = c.now();
    // SAFETY: a register-only countdown loop.
    #[allow(unsafe_code)]
    unsafe {
        #[cfg(target_arch = "arm")]
        core::arch::asm!("2:", "subs {0}, {0}, #1", "bne 2b", inout(reg) n => _, options(nomem, nostack));
        #[cfg(target_arch = "riscv32")]
        core::arch::asm!("2:", "addi {0}, {0}, -1", "bnez {0}, 2b", inout(reg) n => _, options(nomem, nostack));
    }
    let t1 = c.now();
    (2 * n, c.to_units(t1.wrapping_sub(t0)))
}

/// (lowest, highest) address of the stack region, from the runtime crate's linker script.
fn stack_bounds() -> (usize, usize) {
    extern "C" {
        #[cfg(target_arch = "arm")]
        static _stack_end: u32;
        #[cfg(target_arch = "riscv32")]
        #[link_name = "__estack"]
        static _stack_end: u32;
        static _stack_start: u32;
    }
    // Only the addresses of the linker symbols are taken (safe since Rust 1.82).
    (core::ptr::addr_of!(_stack_end) as usize, core::ptr::addr_of!(_stack_start) as usize)
}

fn sp() -> usize {
    let sp: usize;
    // SAFETY: reads the stack pointer.
    #[allow(unsafe_code)]
    unsafe {
        #[cfg(target_arch = "arm")]
        core::arch::asm!("mov {}, sp", out(reg) sp, options(nomem, nostack));
        #[cfg(target_arch = "riscv32")]
        core::arch::asm!("mv {}, sp", out(reg) sp, options(nomem, nostack));
    }
    sp
}

/// Paints the unused stack (below the current frame, with a margin) with [`PAINT`].
#[inline(never)]
pub fn paint_stack() {
    let (lo, _) = stack_bounds();
    let mut p = (lo + 3) & !3;
    let end = sp().saturating_sub(64);
    while p < end {
        // SAFETY: [lo, sp − 64) is stack that nothing uses yet.
        #[allow(unsafe_code)]
        unsafe {
            core::ptr::write_volatile(p as *mut u32, PAINT)
        };
        p += 4;
    }
}

/// Stack high-water mark in bytes: from the top down to the lowest word no longer painted.
pub fn stack_used() -> u32 {
    let (lo, hi) = stack_bounds();
    let mut p = (lo + 3) & !3;
    while p < hi {
        // SAFETY: `p` is word-aligned and inside the stack region [lo, hi).
        #[allow(unsafe_code)]
        let word = unsafe { core::ptr::read_volatile(p as *const u32) };
        if word != PAINT {
            break;
        }
        p += 4;
    }
    (hi - p) as u32
}

/// Stack region size in bytes (RAM left after static data).
pub fn stack_size() -> u32 {
    let (lo, hi) = stack_bounds();
    (hi - lo) as u32
}
