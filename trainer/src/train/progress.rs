//! What a run shows and measures while it trains: the progress bar (steps/s, ETA) and its status
//! line, the time of every step and how long each waited for the data loader, and the wall time.

use crate::loader::Batch;
use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use std::sync::mpsc::Receiver;
use std::time::Instant;

pub struct Progress {
    bar: ProgressBar,
    /// When the bar started, and the step it started at.
    started: (Instant, usize),
    /// Milliseconds of every step (data waits excluded).
    times: Vec<f64>,
    /// Milliseconds every step waited for its batch.
    waits: Vec<f64>,
}

/// The median of `v` (sorts it), none if empty.
pub fn median(v: &mut [f64]) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied()
}

/// The bar: elapsed time, steps done, steps per second and the time left, then the status line.
pub const BAR_TEMPLATE: &str = "{elapsed_precise} [{bar:30}] {pos}/{len} {per_sec:.1} ETA {eta} {msg}";

impl Progress {
    /// A bar over `steps` steps, at `start` (shown only with `show`).
    pub fn new(show: bool, steps: usize, start: usize) -> Progress {
        let bar = if show { ProgressBar::new(steps as u64) } else { ProgressBar::hidden() };
        bar.set_style(ProgressStyle::with_template(BAR_TEMPLATE).unwrap_or_else(|_| ProgressStyle::default_bar()));
        bar.set_position(start as u64);
        bar.reset_eta(); // a resumed run's rate counts from here
        Progress { bar, started: (Instant::now(), start), times: Vec::new(), waits: Vec::new() }
    }

    /// Prints a line above the bar.
    pub fn note(&self, line: &str) {
        self.bar.suspend(|| eprintln!("{line}"));
    }

    /// The next batch from the loader, timing the wait.
    pub fn next_batch(&mut self, rx: &Receiver<Batch>) -> Result<Batch> {
        let t = Instant::now();
        let batch = rx.recv().context("the data loader stopped")?;
        self.waits.push(t.elapsed().as_secs_f64() * 1000.0);
        Ok(batch)
    }

    /// Records a step that started at `t0` and ended with `done` steps made; `status` (the
    /// loss, and the bits and size of DiffQ) is shown every 10 steps.
    pub fn stepped(
        &mut self,
        t0: Instant,
        done: usize,
        last: bool,
        status: impl FnOnce() -> Result<String>,
    ) -> Result<()> {
        self.times.push(t0.elapsed().as_secs_f64() * 1000.0);
        self.bar.set_position(done as u64);
        if done % 10 == 0 || last {
            self.bar.set_message(status()?);
        }
        Ok(())
    }

    /// Median milliseconds per step so far.
    pub fn step_ms_median(&self) -> Option<f64> {
        median(&mut self.times.clone())
    }

    /// Median milliseconds a step waited for its batch.
    pub fn data_wait_ms_median(&self) -> Option<f64> {
        median(&mut self.waits.clone())
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }

    /// Seconds since the bar started and the steps made in them.
    pub fn elapsed(&self, done: usize) -> (f64, usize) {
        (self.started.0.elapsed().as_secs_f64(), done.saturating_sub(self.started.1))
    }
}
