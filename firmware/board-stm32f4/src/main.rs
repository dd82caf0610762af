//! The denoiser on an STM32F411 board. The pipeline is `runtime::pipeline`'s and the stream loop
//! demo-core's, as in QEMU; what differs is the board glue: DWT cycle counter (real cycles, not
//! instructions), defmt over RTT, and the audio endpoints.
//!
//! Audio: the source is the clip in flash and the sink keeps statistics, so the binary runs on a
//! bare board with only a debug probe. For live audio, use `demo_core::QueueSource` /
//! `QueueSink`: the HAL's I2S + DMA half/full-transfer interrupt (e.g. `stm32f4xx-hal`'s
//! `I2sTransfer`) pushes input samples into a `heapless::spsc::Queue` and drains the output
//! queue, `wait` is `wfi`, and `run` is called with them instead; nothing else changes
//! (host-tests/tests/queue.rs runs exactly that with a simulated interrupt).
#![no_std]
#![no_main]

use cortex_m::peripheral::DWT;
use defmt_rtt as _;
use demo_core::{assets, run, AudioSink, Clip, Counter, DemoError, IterSource};
use runtime::dsp::HOP;
#[cfg(not(feature = "fixed"))]
use runtime::pipeline::F32Denoiser;
#[cfg(feature = "fixed")]
use runtime::pipeline::I8Denoiser;
use runtime::Model;

/// Reset clock of the STM32F411 (HSI, 16 MHz): cycles convert to time at this rate until the
/// PLL is configured.
const CLOCK_HZ: u32 = 16_000_000;

/// DWT cycle counter: real cycles on silicon (QEMU does not model it).
struct Cycles;

impl Counter for Cycles {
    fn now(&mut self) -> u32 {
        DWT::cycle_count()
    }
}

/// Keeps the peak and the energy of the output instead of playing it.
#[derive(Default)]
struct Meter {
    peak: i16,
    energy: u64,
}

impl AudioSink for Meter {
    fn write_hop(&mut self, hop: &[i16; HOP]) -> Result<(), DemoError> {
        for &s in hop {
            self.peak = self.peak.max(s.saturating_abs());
            self.energy += (i32::from(s) * i32::from(s)) as u64;
        }
        Ok(())
    }
}

#[cfg(not(feature = "fixed"))]
static mut BUFFERS: assets::F32Buffers = assets::F32Buffers::new();
#[cfg(feature = "fixed")]
static mut BUFFERS: assets::I8Buffers = assets::I8Buffers::new();

#[cortex_m_rt::entry]
fn main() -> ! {
    match demo() {
        Ok(()) => defmt::info!("done"),
        Err(e) => defmt::error!("demo failed: {}", e),
    }
    loop {
        cortex_m::asm::wfi();
    }
}

fn demo() -> Result<(), DemoError> {
    let mut cp = cortex_m::Peripherals::take().ok_or(DemoError::Internal)?;
    cp.DCB.enable_trace();
    cp.DWT.enable_cycle_counter();
    let model = Model::parse(assets::BLOB)?;
    let clip = Clip::parse(assets::CLIP)?;
    // SAFETY: the only reference to BUFFERS, taken once.
    #[allow(unsafe_code)]
    let b = unsafe { &mut *core::ptr::addr_of_mut!(BUFFERS) };
    #[cfg(not(feature = "fixed"))]
    let mut den = F32Denoiser::<i16>::new(model, &mut b.arena, &mut b.state)?;
    #[cfg(feature = "fixed")]
    let mut den = I8Denoiser::new(model, &mut b.arena, &mut b.state)?;
    let mut meter = Meter::default();
    let stats = run(&mut den, &mut IterSource(clip.samples()), &mut meter, &mut Cycles, |i, c| {
        if i % 50 == 0 {
            defmt::info!("frame {=u32}: {=u32} cycles", i, c);
        }
    })?;
    let mean_ms = stats.total as f32 / stats.frames.max(1) as f32 / CLOCK_HZ as f32 * 1e3;
    defmt::info!(
        "{=u32} frames, cycles/frame min {=u32} max {=u32}; mean {=f32} ms per 16 ms hop at {=u32} MHz; out peak {=i16}",
        stats.frames,
        stats.min,
        stats.max,
        mean_ms,
        CLOCK_HZ / 1_000_000,
        meter.peak
    );
    Ok(())
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
