//! `audio-tools`: the host side's audio toolbox, one definition of each concept for the trainer
//! and the firmware harness (`host-tests`):
//!
//! * [`si_sdr`]: scale-invariant SDR (Le Roux et al. 2019), the project's quality metric;
//! * [`file`]: the one safe way to write a file: temporary file, fsync, rename (the previous
//!   version kept on request), and [`file::same_file`] to refuse writing over an input;
//! * [`wav`]: mono WAV files at a given sample rate, read into f32 or i16, written as 16-bit PCM
//!   through [`file`]; errors name the file;
//! * [`convert`]: any WAV file `wav` decodes (rate, channels, 8 to 32-bit PCM or float) brought
//!   to mono at a given rate (rubato's FFT resampler), with a note of what was done;
//! * [`g722`]: the raw G.722 files of the wideband Debian sound packages, decoded to 16 kHz;
//! * [`split`]: the corpus split (train / validation / test) by a stable hash of the file path;
//! * [`pcm`]: the i16 ↔ f32 sample conversion, re-exported from `runtime::pcm` (the firmware's).
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic))]

pub mod convert;
pub mod file;
pub mod g722;
pub mod sisdr;
pub mod split;
pub mod wav;

pub use runtime::pcm::{self, f32_to_i16, i16_to_f32};
pub use sisdr::si_sdr;
pub use split::{fnv1a, split_of, Split};
pub use wav::{read_f32, read_i16, write_f32, write_i16, WavError};
