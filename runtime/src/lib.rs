//! `runtime`: runs DiffQ variable-bit models on microcontrollers, straight from flash.
//!
//! * [`Model::parse`] validates a blob (format: `runtime/FORMAT.md`) without copying it;
//! * [`Model::step_f32`] / [`Model::step_i8`] run one audio frame through the graph, with
//!   activations in a caller-provided arena and streaming conv state in a caller-provided buffer;
//! * [`kernels`] unpack the variable-bit weights inside their inner loops;
//! * [`quant`] holds the pure quantisation math shared with the trainer;
//! * [`dsp`] is the STFT front end shared by the trainer and the firmware;
//! * [`writer`] (feature `std`) writes the format: the trainer uses it, so there is one source of truth.
#![no_std]
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod bytes;
pub mod dsp;
pub mod dsp_fixed;
mod error;
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
pub use format::{Header, Layer, Op, Tensor, Weights};
pub use model::{LayerHook, Model, StateF32, StateI8};
