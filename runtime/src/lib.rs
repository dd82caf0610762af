//! `diffq_runtime`: a streaming speech denoiser for microcontrollers, `no_std` and heap-free,
//! that runs DiffQ variable-bit models straight from flash.
//!
//! A model is a blob (format: `FORMAT.md` in this package) of a few tens of kilobytes:
//! [`Model::parse`] validates all of it in place, copying nothing, and the kernels unpack the
//! 1- to 15-bit weights inside their inner loops. The denoiser takes one hop of 16-bit PCM at a
//! time ([`dsp::HOP`] samples at [`dsp::SAMPLE_RATE`] Hz) and gives one hop back, one hop late,
//! on the f32 path ([`pipeline::F32Denoiser`], cores with an FPU) or the integer-only path
//! ([`pipeline::I8Denoiser`], any core). The caller owns every buffer: the blob's header states
//! the arena and state sizes, and too small a buffer is an [`Error`], never a panic.
//!
//! ```
//! # #[cfg(feature = "std")]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use diffq_runtime::dsp::HOP;
//! use diffq_runtime::pipeline::{Denoise, I8Denoiser};
//! use diffq_runtime::Model;
//! # use diffq_runtime::writer::{BlobWriter, IntCalibration};
//! # let mut w = BlobWriter::new(128);
//! # let levels: Vec<u16> = (0..128 * 129).map(|i| (i % 2) as u16).collect();
//! # let weight = w.packed_tensor(&levels, &[1; 129 * 2], 64, -1e-3, 1e-3)?;
//! # w.linear(weight, None, 128, 129)?;
//! # w.sigmoid()?;
//! # let blob = w.finish_with_int(&IntCalibration { input_scale: 0.1, out_scales: vec![0.05, 1.0 / 127.0] })?;
//!
//! // `blob`: a model, in firmware `include_bytes!("model.dqem")` (here a small stand-in).
//! let model = Model::parse(&blob)?; // checks the whole blob, copies nothing
//! let mut arena = [0i8; 512]; // at least model.i8_arena_len()
//! let mut state = [0i8; 2048]; // at least model.i8_state_len()
//! let mut denoiser = I8Denoiser::new(model, &mut arena, &mut state)?;
//!
//! let noisy: [i16; HOP] = core::array::from_fn(|i| if i % 8 < 4 { 3000 } else { -3000 });
//! let mut clean = [0i16; HOP];
//! denoiser.process(&noisy, &mut clean)?; // the hop before `noisy`: silence, the stream starts
//! assert!(clean.iter().all(|&s| s == 0));
//! denoiser.process(&noisy, &mut clean)?; // the first `noisy` hop, denoised
//! assert!(clean.iter().any(|&s| s != 0));
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "std"))]
//! # fn main() {}
//! ```
//!
//! # Modules
//!
//! * [`pipeline`]: the streaming denoiser, both paths, and [`pipeline::process_signal`] for a
//!   whole signal; the streaming classifier ([`pipeline::F32Classifier`],
//!   [`pipeline::I8Classifier`]) for a blob whose output is class scores;
//! * [`Model`] with [`StateF32`] / [`StateI8`]: one model frame at a time ([`Model::step_f32`],
//!   [`Model::step_i8`]), for other front ends;
//! * [`dsp`] (the STFT front end of the f32 path), [`dsp_fixed`] (the same in integers),
//!   [`pcm`] (i16 ↔ f32 samples);
//! * [`format`]: the blob's entries, each with its field offsets, decoder and encoder;
//! * [`kernels`]: the variable-bit matrix-vector and convolution kernels;
//! * [`quant`]: the dequantisation formula shared with the trainer;
//! * `writer` (feature `std`): `BlobWriter`, which writes the format (the trainer uses it).
//!
//! # Features
//!
//! * `std`: the `writer` and `std::error::Error` for [`Error`] (implies `alloc`);
//! * `defmt`: `defmt::Format` for every error type, for logging on the target;
//! * in `default`, the parts of the runtime a small firmware build may leave out ([`Feature`]):
//!   `any-group-size`, `group-48`, `group-96`, `wideband`, `bands`, `grouped-conv`, `gru`, `conv2d`, `pool`,
//!   `graph`, `width-1` … `width-8` (`all-widths`), `fixed-1` … `fixed-8`
//!   (`fixed-width-kernels`). A blob that needs one the build lacks gets [`Error::MissingFeature`]
//!   ([`Model::check_features`]), never a panic.
//!
//! Without features the crate needs neither `std` nor an allocator, contains no `unsafe` code
//! (`#![forbid(unsafe_code)]`) and returns an error instead of panicking on any input.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod arith;
mod bytes;
pub mod dsp;
pub mod dsp_fixed;
mod error;
mod feature;
#[cfg(all(test, feature = "std"))]
mod feature_tests;
pub mod format;
pub mod kernels;
mod layout;
mod model;
pub mod pcm;
pub mod pipeline;
pub mod quant;
#[cfg(feature = "std")]
pub mod writer;

pub use error::{Error, Part};
pub use feature::{Feature, Precision};
pub use format::{Act, FrontEnd, Header, Layer, Node, Op, Tensor, Weights};
pub use model::{Inputs, LayerHook, Model, StateF32, StateI8};
