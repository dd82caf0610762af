//! The denoiser on an STM32F411 board (Black Pill) at its full 100 MHz. The pipeline is
//! `runtime::pipeline`'s and the stream loop demo-core's `run`, as in QEMU; what is the board's:
//! the clock tree, the audio endpoints, the DWT cycle counter (real cycles) and defmt over RTT.
//!
//! * default: live audio ([`live`]): INMP441 microphone on I2S2, MAX98357A amplifier on I2S3,
//!   both at the blob's sample rate with circular double-buffered DMA, one hop per DMA buffer;
//! * feature `clip`: the clip in flash as the source and a meter as the sink ([`clip`]), for a
//!   bare board with only a debug probe.
//!
//! The blob in flash is chosen at build time (demo-core's build.rs: the project's default 16 kHz
//! model, the 8 kHz one without the default features, or `DQ_MODEL`), and its frame size
//! (`demo_core::assets::Size`) sets everything rate-dependent here: the pipeline's frame size, the
//! I2S clock and sample rate, the DMA buffers and queues (one hop each), the clip's rate.
//! Feature `fixed` selects the integer path instead of f32 in either mode.
#![no_std]
#![no_main]

#[cfg(feature = "clip")]
mod clip;
#[cfg(not(feature = "clip"))]
mod live;

use core::mem::MaybeUninit;
use cortex_m::peripheral::DWT;
use defmt_rtt as _;
use demo_core::assets::{self, Size};
use demo_core::{Counter, DemoError, RunStats};
#[cfg(not(feature = "fixed"))]
use runtime::pipeline::F32Denoiser;
#[cfg(feature = "fixed")]
use runtime::pipeline::I8Denoiser;
use runtime::Model;
use stm32f4xx_hal::pac;
use stm32f4xx_hal::prelude::*;
use stm32f4xx_hal::rcc::{Config, Rcc};

/// System clock: the F411's maximum, from the Black Pill's 25 MHz crystal through the main PLL.
const SYSCLK_HZ: u32 = 100_000_000;
/// HSE crystal of the Black Pill (WeAct STM32F411CEU6).
const HSE_HZ: u32 = 25_000_000;
/// I2S bit clocks per stereo frame: two 32-bit channels.
const BITS_PER_FRAME: u32 = 64;
/// The I2S prescaler's division (I2SDIV = 62, ODD = 1), the same at either rate.
const I2S_DIVISION: u32 = 125;
/// PLLI2S output: the blob's rate x 64 bit clocks x 125, so that the I2S prescaler gives the rate
/// exactly with 32-bit channels: 64 MHz for 8 kHz, 128 MHz for 16 kHz, both exactly reachable
/// from 25 MHz (factors: [`PLLI2S`]).
const I2S_CLK_HZ: u32 = assets::SAMPLE_RATE * BITS_PER_FRAME * I2S_DIVISION;
/// The PLLI2S factors for [`I2S_CLK_HZ`], found at compile time: / 20 x 256 / 5 for 64 MHz,
/// / 25 x 256 / 2 for 128 MHz.
const PLLI2S: Plli2s = Plli2s::search(HSE_HZ, I2S_CLK_HZ);
const _: () = assert!(PLLI2S.is_exact(HSE_HZ, I2S_CLK_HZ), "PLLI2S cannot make the I2S clock exactly");
const _: () = assert!(I2S_DIVISION >= 4 && I2S_DIVISION <= 511, "outside the I2S prescaler's range");

/// PLLI2S factors: I2S clock = HSE / `m` x `n` / `r`.
struct Plli2s {
    m: u8,
    n: u16,
    r: u8,
}

impl Plli2s {
    /// The search the HAL would run at start-up, here at compile time (the same order and
    /// rounding, so the same factors): `m` from the smallest giving a VCO input of at most 2 MHz
    /// to the largest giving at least 1 MHz, for each `r` from 2 to 7 with `n` rounded, the VCO
    /// output within 100–432 MHz; the first of the smallest error. Not found: `m` = 0.
    const fn search(src: u32, target: u32) -> Self {
        let mut best = Plli2s { m: 0, n: 0, r: 0 };
        let mut best_error = u32::MAX;
        let mut m = src.div_ceil(2_000_000);
        while m <= src / 1_000_000 {
            let vco_in = src / m;
            let mut r = 2;
            while r <= 7 {
                let n = (target * r + vco_in / 2) / vco_in;
                let vco_out = vco_in * n;
                let error = (vco_out / r).abs_diff(target);
                if vco_out >= 100_000_000 && vco_out <= 432_000_000 && error < best_error {
                    best = Plli2s { m: m as u8, n: n as u16, r: r as u8 };
                    best_error = error;
                }
                r += 1;
            }
            m += 1;
        }
        best
    }

    /// Whether these factors are in their fields' ranges and make exactly `target` from `src`.
    const fn is_exact(&self, src: u32, target: u32) -> bool {
        let (m, n, r) = (self.m as u32, self.n as u32, self.r as u32);
        let in_range = m >= 2 && m <= 63 && n >= 50 && n <= 432 && r >= 2 && r <= 7;
        // Exact: no remainder in either division (the VCO input and the output).
        in_range && src / m * m == src && (src / m * n) / r * r == src / m * n && src / m * n / r == target
    }
}

/// DWT cycle counter: real cycles on silicon (QEMU does not model it).
struct Cycles;

impl Counter for Cycles {
    fn now(&mut self) -> u32 {
        DWT::cycle_count()
    }
}

#[cfg(not(feature = "fixed"))]
type Denoiser = F32Denoiser<'static, i16, Size>;
#[cfg(feature = "fixed")]
type Denoiser = I8Denoiser<'static, Size>;

#[cfg(not(feature = "fixed"))]
static mut BUFFERS: assets::F32Buffers = assets::F32Buffers::new();
#[cfg(feature = "fixed")]
static mut BUFFERS: assets::I8Buffers = assets::I8Buffers::new();
/// The denoiser itself (its frame buffers are a few KiB), built here in place rather than on
/// the stack, so that the stack holds one hop's processing and no more.
static mut DENOISER: MaybeUninit<Denoiser> = MaybeUninit::uninit();

#[cortex_m_rt::entry]
fn main() -> ! {
    match start() {
        Ok(()) => defmt::info!("done"),
        Err(e) => defmt::error!("demo failed: {}", e),
    }
    loop {
        cortex_m::asm::wfi();
    }
}

/// Clocks, cycle counter, the denoiser on its static buffers, then the selected audio mode.
fn start() -> Result<(), DemoError> {
    let mut cp = cortex_m::Peripherals::take().ok_or(DemoError::Internal)?;
    let dp = pac::Peripherals::take().ok_or(DemoError::Internal)?;
    #[cfg_attr(feature = "clip", allow(unused_mut))]
    let mut rcc = clocks(dp.RCC);
    cp.DCB.enable_trace();
    cp.DWT.enable_cycle_counter();
    let den = denoiser()?;
    #[cfg(feature = "clip")]
    return clip::stream(den, &rcc);
    #[cfg(not(feature = "clip"))]
    {
        let p = live::Peripherals::take((dp.GPIOA, dp.GPIOB), (dp.SPI2, dp.SPI3), dp.DMA1, &mut rcc);
        live::stream(den, p, &mut cp.NVIC)
    }
}

/// The denoiser, built in place in `DENOISER` on `BUFFERS`. Out of line, so that the model and
/// the construction's temporaries live in this frame, gone before the first hop.
#[inline(never)]
fn denoiser() -> Result<&'static mut Denoiser, DemoError> {
    let model = Model::parse(assets::BLOB)?;
    defmt::info!(
        "model: {=usize} bytes, {=u32} Hz, hop {=usize}",
        assets::BLOB.len(),
        assets::SAMPLE_RATE,
        assets::HOP
    );
    // SAFETY: the only references to BUFFERS and DENOISER, taken once (start runs once, from
    // main, which never returns).
    #[allow(unsafe_code)]
    let (b, slot) = unsafe { (&mut *core::ptr::addr_of_mut!(BUFFERS), &mut *core::ptr::addr_of_mut!(DENOISER)) };
    Ok(Denoiser::init_in(slot, model, &mut b.arena, &mut b.state)?)
}

/// 100 MHz from the 25 MHz crystal (APB1 50 MHz, APB2 100 MHz, flash wait states set by the
/// HAL), and the I2S clock from PLLI2S ([`start_plli2s`]).
fn clocks(rcc: pac::RCC) -> Rcc {
    // The HAL is told that the I2S clock is I2S_CKIN at that frequency: so it records the I2S
    // clock (its I2S driver needs it) without its run-time PLLI2S search, and selects I2S_CKIN,
    // which start_plli2s replaces with PLLI2S before any I2S runs.
    let i2s = I2S_CLK_HZ.Hz();
    let rcc = rcc.freeze(Config::hse(HSE_HZ.Hz()).sysclk(SYSCLK_HZ.Hz()).i2s_ckin(i2s).i2s_clk(i2s));
    start_plli2s(&rcc);
    defmt::info!(
        "clocks: sysclk {=u32} Hz, hclk {=u32} Hz, i2s {=u32} Hz",
        rcc.clocks.sysclk().raw(),
        rcc.clocks.hclk().raw(),
        rcc.clocks.i2s_clk().map_or(0, |f| f.raw())
    );
    rcc
}

/// PLLI2S on with the factors of [`PLLI2S`] (HSE is its source, as of the main PLL), and the
/// source of the I2S clock.
fn start_plli2s(rcc: &pac::RCC) {
    // SAFETY: raw field writes of factors that a compile-time assert holds within the fields'
    // ranges (M 2–63, N 50–432, R 2–7), into PLLI2S while it is off (it is until the next line).
    #[allow(unsafe_code)]
    rcc.plli2scfgr().modify(|_, w| unsafe {
        w.plli2sm().bits(PLLI2S.m);
        w.plli2sn().bits(PLLI2S.n);
        w.plli2sr().bits(PLLI2S.r)
    });
    rcc.cr().modify(|_, w| w.plli2son().set_bit());
    while rcc.cr().read().plli2srdy().bit_is_clear() {}
    rcc.cfgr().modify(|_, w| w.i2ssrc().plli2s());
}

/// Logs one window of per-hop cycle counts against the real-time budget of a hop.
fn log_cycles(s: &RunStats) {
    let budget = demo_core::hop_budget_cycles(SYSCLK_HZ);
    defmt::info!(
        "{=u32} hops: cycles/hop min {=u32} mean {=u32} max {=u32}; mean {=u32} per mille of the {=u32}-cycle hop budget",
        s.frames,
        s.min,
        s.mean(),
        s.max,
        demo_core::quotient_u32(u64::from(s.mean()) * 1000, budget),
        budget
    );
}

/// A panic (none is expected: the runtime and the loop return errors instead) logs where it
/// happened and halts on a breakpoint. Its message is not formatted: that would link `core::fmt`
/// (about 7 KB of flash) for a path that should never run.
#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    match info.location() {
        Some(l) => defmt::error!("panic at {=str}:{=u32}", l.file(), l.line()),
        None => defmt::error!("panic"),
    }
    loop {
        cortex_m::asm::bkpt();
    }
}

// SAFETY: cortex-m-rt requires the HardFault handler to be an `unsafe fn`; it only reads the
// stacked exception frame and logs. Under `probe-rs run` (its default `--catch-hardfault`) the
// probe stops here first and prints the backtrace; on a free-running board the fault is logged
// over RTT and the core halts on a breakpoint, so a debugger attached later finds it there.
#[allow(unsafe_code)]
#[cortex_m_rt::exception]
unsafe fn HardFault(ef: &cortex_m_rt::ExceptionFrame) -> ! {
    defmt::error!("HardFault: pc={=u32:#010x} lr={=u32:#010x} xpsr={=u32:#010x}", ef.pc(), ef.lr(), ef.xpsr());
    loop {
        cortex_m::asm::bkpt();
    }
}
