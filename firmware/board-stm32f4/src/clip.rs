//! The clip in flash through the denoiser, the output metered instead of played: needs nothing
//! but a debug probe on the board. The clip is at the blob's rate (demo-core's build.rs picks
//! `data/clip-16k/noisy.wav` for a 16 kHz blob), checked at start-up.

use demo_core::{assets, run, AudioSink, Clip, CycleWindow, DemoError, IterSource};
use runtime::pipeline::Denoise;
use stm32f4xx_hal::rcc::Rcc;

use crate::{log_cycles, Cycles};

/// Hops per logged line of cycle statistics.
const LOG_EVERY: u32 = 50;

/// Keeps the peak and the energy of the output instead of playing it.
#[derive(Default)]
struct Meter {
    peak: i16,
    energy: u64,
}

impl AudioSink for Meter {
    fn write_hop(&mut self, hop: &[i16]) -> Result<(), DemoError> {
        for &s in hop {
            self.peak = self.peak.max(s.saturating_abs());
            self.energy += (i32::from(s) * i32::from(s)) as u64;
        }
        Ok(())
    }
}

/// Runs the whole clip once, logging cycles per hop every [`LOG_EVERY`] hops and a summary.
/// Out of line, so that its frame is not stacked on top of the denoiser's construction.
#[inline(never)]
pub fn stream<D: Denoise<Size = assets::Size>>(den: &mut D, rcc: &Rcc) -> Result<(), DemoError> {
    let clip = Clip::parse_at(assets::CLIP, assets::SAMPLE_RATE)?;
    let mut meter = Meter::default();
    let mut window = CycleWindow::new(LOG_EVERY);
    let stats = run(den, &mut IterSource(clip.samples()), &mut meter, &mut Cycles, |_, cycles| {
        if let Some(w) = window.record(cycles) {
            log_cycles(&w);
        }
    })?;
    let mean_ms = stats.mean() as f32 / rcc.clocks.sysclk().raw() as f32 * 1e3;
    defmt::info!("clip: {=u32} hops, mean {=f32} ms per 16 ms hop; out peak {=i16}", stats.frames, mean_ms, meter.peak);
    log_cycles(&stats);
    Ok(())
}
