//! `trainer`: trains a DiffQ-compressed streaming speech denoiser with candle and exports it
//! as a `runtime` blob (runtime/FORMAT.md).
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic))]

pub mod audio;
pub mod data;
pub mod diffq;
pub mod features;
pub mod model;
pub mod noise;
