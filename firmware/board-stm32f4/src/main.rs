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
/// exactly with 32-bit channels: 64 MHz for 8 kHz, 128 MHz for 16 kHz. Both are exactly reachable
/// from 25 MHz (e.g. / 25 x 128 / 2 and / 25 x 256 / 2; the HAL picks the factors).
const I2S_CLK_HZ: u32 = assets::SAMPLE_RATE * BITS_PER_FRAME * I2S_DIVISION;

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
        let p = live::Peripherals { gpioa: dp.GPIOA, gpiob: dp.GPIOB, spi2: dp.SPI2, spi3: dp.SPI3, dma1: dp.DMA1 };
        live::stream(den, p, &mut rcc, &mut cp.NVIC)
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
/// HAL), and the I2S clock from PLLI2S.
fn clocks(rcc: pac::RCC) -> Rcc {
    let rcc = rcc.freeze(Config::hse(HSE_HZ.Hz()).sysclk(SYSCLK_HZ.Hz()).i2s_clk(I2S_CLK_HZ.Hz()));
    defmt::info!(
        "clocks: sysclk {=u32} Hz, hclk {=u32} Hz, i2s {=u32} Hz",
        rcc.clocks.sysclk().raw(),
        rcc.clocks.hclk().raw(),
        rcc.clocks.i2s_clk().map_or(0, |f| f.raw())
    );
    rcc
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
        u32::try_from(u64::from(s.mean()) * 1000 / u64::from(budget.max(1))).unwrap_or(u32::MAX),
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
