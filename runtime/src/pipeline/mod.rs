//! The streaming denoiser: one hop of samples in, one hop out, one hop of latency. Per hop,
//! five stages: **analysis** (the frame `[previous hop, hop]`, window, real FFT), **features**
//! (log power of bins 0..128), the **model** step (one streaming frame), the **mask** (the
//! model's gain on each of the 129 bins) and **synthesis** (inverse FFT, window, overlap-add).
//!
//! * [`F32Denoiser`]: the f32 path, [`crate::dsp`] and [`Model::step_f32`](crate::Model::step_f32),
//!   on i16 PCM or on f32 samples ([`SampleFormat`]);
//! * [`I8Denoiser`]: the integer path, [`FixedFrontEnd`](crate::dsp_fixed::FixedFrontEnd) and
//!   [`Model::step_i8`](crate::Model::step_i8), on i16 PCM (no floating point);
//! * [`Stages`]: the five stages one by one (what a benchmark times) and [`Stages::hop`], the
//!   one place that runs them in order; [`Denoise`]: one hop of i16 PCM in, one out;
//! * [`check_denoiser`]: whether a blob's model fits the front end (128 features in, 129 gains
//!   out), which both constructors check;
//! * [`process_signal`]: a whole signal through, the latency removed;
//! * [`F32Classifier`] and [`I8Classifier`] ([`Classify`]): a blob whose front end's output is
//!   class scores, per hop the same analysis and features, the model step, and the scores with
//!   the winning class (no mask, no synthesis); [`check_classifier`] is their check, and a
//!   denoiser refuses such a blob ([`Error::ClassifierBlob`](crate::Error::ClassifierBlob)).
//!
//! The caller owns every buffer the model needs (arena and state, sized by the blob header:
//! [`Model::f32_arena_len`](crate::Model::f32_arena_len) and the like); too small a buffer is an
//! error, not a panic. Nothing allocates.
//!
//! ```no_run
//! use diffq_runtime::dsp::HOP;
//! use diffq_runtime::pipeline::{Denoise, I8Denoiser};
//! use diffq_runtime::Model;
//! # fn demo(blob: &[u8], pcm: &[[i16; HOP]]) -> Result<(), diffq_runtime::Error> {
//! let model = Model::parse(blob)?;
//! let mut arena = [0i8; 512]; // at least model.i8_arena_len()
//! let mut state = [0i8; 4096]; // at least model.i8_state_len()
//! let mut denoiser = I8Denoiser::new(model, &mut arena, &mut state)?;
//! let mut out = [0i16; HOP];
//! for hop in pcm {
//!     denoiser.process(hop, &mut out)?; // `out`: the denoised hop before `hop`
//! }
//! # Ok(())
//! # }
//! ```

mod check;
mod classify;
mod classify_f32;
mod classify_i8;
#[cfg(all(test, feature = "std"))]
mod classify_tests;
mod features;
mod fixed;
mod float;
mod sample;
mod signal;
mod stages;
#[cfg(all(test, feature = "std"))]
mod tests;
#[cfg(all(test, feature = "std", feature = "wideband"))]
mod wide_tests;

pub use check::{check_denoiser, check_denoiser_for};
pub use classify::{check_classifier, check_classifier_for, Classify};
pub use classify_f32::F32Classifier;
pub use classify_i8::I8Classifier;
pub use fixed::I8Denoiser;
pub use float::F32Denoiser;
pub use sample::SampleFormat;
pub use signal::{hops_of, process_signal, signal_hops, LATENCY};
pub use stages::{Denoise, Stages};
