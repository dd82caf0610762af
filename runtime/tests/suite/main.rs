//! Integration tests of the runtime (one binary, so the 2-core CI links once).
//!
//! `cargo test -p diffq-runtime --features std` runs them; `--nocapture` prints the measured errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]
#![allow(clippy::needless_range_loop, clippy::useless_vec, clippy::type_complexity, clippy::cloned_ref_to_slice_refs)]

mod bitflips;
mod common;
mod convert;
mod golden;
mod golden_v5;
mod graph;
mod graphs;
mod intpath;
mod kernels;
mod lanes;
mod malformed;
mod malformed_v5;
mod reencode;
mod roundtrip;
mod streaming;
mod stride;
