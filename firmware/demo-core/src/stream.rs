//! The frame loop, independent of the board: samples come from an [`AudioSource`] (a clip in
//! flash under QEMU, an I2S DMA buffer on a board), go out to an [`AudioSink`], and a
//! [`Counter`] times each hop.

use crate::DemoError;
pub use runtime::arith::quotient_u32;
use runtime::dsp::{Array, FrameSize, Hop, HOP, SAMPLE_RATE};
use runtime::pipeline::Denoise;

/// Where samples come from. `None` ends the stream.
pub trait AudioSource {
    fn next_sample(&mut self) -> Option<i16>;
}

/// Where finished hops go (a hop of the denoiser's frame size: 128 samples at 8 kHz, 256 at
/// 16 kHz).
pub trait AudioSink {
    fn write_hop(&mut self, hop: &[i16]) -> Result<(), DemoError>;
}

/// A free-running counter (instructions under QEMU, cycles on a board); wraps freely.
pub trait Counter {
    fn now(&mut self) -> u32;
    /// Turns a difference of two readings into instructions or cycles.
    fn to_units(&self, delta: u32) -> u32 {
        delta
    }
}

/// No timing (the host reference).
pub struct NoCounter;

impl Counter for NoCounter {
    fn now(&mut self) -> u32 {
        0
    }
}

/// Any iterator of samples is a source (the clip in flash, a `Vec` on the host).
pub struct IterSource<I>(pub I);

impl<I: Iterator<Item = i16>> AudioSource for IterSource<I> {
    fn next_sample(&mut self) -> Option<i16> {
        self.0.next()
    }
}

/// Summary of a run: hops and their cost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunStats {
    pub frames: u32,
    pub min: u32,
    pub max: u32,
    pub total: u64,
}

impl RunStats {
    /// No hop yet (`min` starts at `u32::MAX` so the first hop sets it).
    pub const EMPTY: RunStats = RunStats { frames: 0, min: u32::MAX, max: 0, total: 0 };

    /// Adds one hop's cost.
    pub fn record(&mut self, cost: u32) {
        self.frames += 1;
        self.min = self.min.min(cost);
        self.max = self.max.max(cost);
        self.total += u64::from(cost);
    }

    /// Mean cost per hop, rounded down and saturated to `u32::MAX` (0 without hops).
    pub fn mean(&self) -> u32 {
        quotient_u32(self.total, self.frames)
    }
}

/// Per-hop costs summarised every `every` hops (a board logs one line per window instead of one
/// per hop).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CycleWindow {
    every: u32,
    stats: RunStats,
}

impl CycleWindow {
    /// A window of `every` hops (at least 1).
    pub const fn new(every: u32) -> Self {
        CycleWindow { every: if every == 0 { 1 } else { every }, stats: RunStats::EMPTY }
    }

    /// Adds one hop's cost; returns the window's summary and starts a new window when it is full.
    pub fn record(&mut self, cost: u32) -> Option<RunStats> {
        self.stats.record(cost);
        if self.stats.frames < self.every {
            return None;
        }
        let full = self.stats;
        self.stats = RunStats::EMPTY;
        Some(full)
    }
}

/// Cycles available per hop at `clock_hz` (the real-time budget: one hop of samples lasts
/// `HOP / SAMPLE_RATE` seconds, 16 ms at either frame size).
pub const fn hop_budget_cycles(clock_hz: u32) -> u32 {
    (clock_hz as u64 * HOP as u64 / SAMPLE_RATE as u64) as u32
}

/// Runs the whole stream; a last partial hop is padded with zeros so no input is dropped.
/// `on_frame(index, cost)` sees every hop's cost (instructions/cycles) after it is written.
pub fn run<D: Denoise, S: AudioSource, K: AudioSink, C: Counter>(
    den: &mut D,
    src: &mut S,
    sink: &mut K,
    counter: &mut C,
    mut on_frame: impl FnMut(u32, u32),
) -> Result<RunStats, DemoError> {
    let mut stats = RunStats::EMPTY;
    let mut hop = Hop::<D::Size, i16>::filled(0);
    let mut out = hop;
    loop {
        let n = read_hop(src, hop.as_mut());
        if n == 0 {
            break;
        }
        let t0 = counter.now();
        den.process(&hop, &mut out)?;
        let t1 = counter.now();
        let cost = counter.to_units(t1.wrapping_sub(t0));
        sink.write_hop(out.as_ref())?;
        on_frame(stats.frames, cost);
        stats.record(cost);
        if n < D::Size::HOP {
            break;
        }
    }
    if stats.frames == 0 {
        stats.min = 0;
    }
    Ok(stats)
}

/// Fills `hop` from `src`, zeros after the last sample if the stream ends within it; returns
/// the samples read (0: the stream had ended).
pub fn read_hop<S: AudioSource>(src: &mut S, hop: &mut [i16]) -> usize {
    let mut n = 0;
    for slot in hop.iter_mut() {
        match src.next_sample() {
            Some(s) => {
                *slot = s;
                n += 1;
            }
            None => break,
        }
    }
    hop.get_mut(n..).unwrap_or(&mut []).fill(0);
    n
}

/// Live input: samples that an interrupt handler (a finished I2S DMA buffer, see
/// [`crate::i2s::LinkStats::receive`]) pushes into a lock-free SPSC queue. While the queue is empty the loop calls `wait` (on a board: `wfi`);
/// `wait` returning false ends the stream.
pub struct QueueSource<'q, W: FnMut() -> bool> {
    pub rx: heapless::spsc::Consumer<'q, i16>,
    pub wait: W,
}

impl<W: FnMut() -> bool> AudioSource for QueueSource<'_, W> {
    fn next_sample(&mut self) -> Option<i16> {
        loop {
            if let Some(s) = self.rx.dequeue() {
                return Some(s);
            }
            if !(self.wait)() {
                return None;
            }
        }
    }
}

/// Live output: hops go into a queue that the DMA interrupt drains
/// ([`crate::i2s::LinkStats::transmit`]). A full queue means the
/// consumer fell behind: the loop calls `wait` and retries, and fails if `wait` gives up.
pub struct QueueSink<'q, W: FnMut() -> bool> {
    pub tx: heapless::spsc::Producer<'q, i16>,
    pub wait: W,
}

impl<W: FnMut() -> bool> AudioSink for QueueSink<'_, W> {
    fn write_hop(&mut self, hop: &[i16]) -> Result<(), DemoError> {
        for &s in hop {
            while self.tx.enqueue(s).is_err() {
                if !(self.wait)() {
                    return Err(DemoError::Output);
                }
            }
        }
        Ok(())
    }
}
