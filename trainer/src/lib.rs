//! `trainer`: trains a DiffQ-compressed streaming speech denoiser with candle and exports it
//! as a `runtime` blob (runtime/FORMAT.md).
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic))]

pub mod audio;
pub mod checkpoint;
pub mod cli;
pub mod commands;
pub mod config;
pub mod data;
pub mod describe;
pub mod diffq;
pub mod ema;
pub mod eval;
pub mod export;
pub mod features;
pub mod fused;
pub mod graph;
pub mod inspect;
pub mod loader;
pub mod mixtures;
pub mod model;
pub mod noise;
pub mod optim;
pub mod qstate;
pub mod report;
pub mod schedule;
pub mod train;
pub mod wiener;
