//! The frame loop, independent of the board: samples come from an [`AudioSource`] (a clip in
//! flash under QEMU, an I2S DMA buffer on a board), go out to an [`AudioSink`], and a
//! [`Counter`] times each hop.

use crate::DemoError;
use heapless::Vec;
use runtime::dsp::HOP;
use runtime::pipeline::Denoise;

/// Where samples come from. `None` ends the stream.
pub trait AudioSource {
    fn next_sample(&mut self) -> Option<i16>;
}

/// Where finished hops go.
pub trait AudioSink {
    fn write_hop(&mut self, hop: &[i16; HOP]) -> Result<(), DemoError>;
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

/// Runs the whole stream; a last partial hop is padded with zeros so no input is dropped.
/// `on_frame(index, cost)` sees every hop's cost (instructions/cycles) after it is written.
pub fn run<D: Denoise, S: AudioSource, K: AudioSink, C: Counter>(
    den: &mut D,
    src: &mut S,
    sink: &mut K,
    counter: &mut C,
    mut on_frame: impl FnMut(u32, u32),
) -> Result<RunStats, DemoError> {
    let mut stats = RunStats { min: u32::MAX, ..RunStats::default() };
    let mut hop: Vec<i16, HOP> = Vec::new();
    let mut out = [0i16; HOP];
    let mut done = false;
    while !done {
        match src.next_sample() {
            Some(s) => {
                // Cannot fail: the hop is processed as soon as it is full.
                let _ = hop.push(s);
            }
            None => done = true,
        }
        if hop.is_full() || (done && !hop.is_empty()) {
            while hop.push(0).is_ok() {}
            let input: &[i16; HOP] = hop.as_slice().try_into().map_err(|_| DemoError::Internal)?;
            let t0 = counter.now();
            den.process(input, &mut out)?;
            let t1 = counter.now();
            let cost = counter.to_units(t1.wrapping_sub(t0));
            sink.write_hop(&out)?;
            on_frame(stats.frames, cost);
            stats.frames += 1;
            stats.min = stats.min.min(cost);
            stats.max = stats.max.max(cost);
            stats.total += u64::from(cost);
            hop.clear();
        }
    }
    if stats.frames == 0 {
        stats.min = 0;
    }
    Ok(stats)
}

/// Live input: samples that an interrupt handler (I2S/SAI DMA half-transfer) pushes into a
/// lock-free SPSC queue. While the queue is empty the loop calls `wait` (on a board: `wfi`);
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

/// Live output: hops go into a queue that the DMA/interrupt side drains. A full queue means the
/// consumer fell behind: the loop calls `wait` and retries, and fails if `wait` gives up.
pub struct QueueSink<'q, W: FnMut() -> bool> {
    pub tx: heapless::spsc::Producer<'q, i16>,
    pub wait: W,
}

impl<W: FnMut() -> bool> AudioSink for QueueSink<'_, W> {
    fn write_hop(&mut self, hop: &[i16; HOP]) -> Result<(), DemoError> {
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
