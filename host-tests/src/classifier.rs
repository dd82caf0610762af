//! A small classifier with random weights: the op zoo's front end (32 log-mel bands at 8 kHz, one
//! channel of 32 rows) with class scores out, written and calibrated on the demo clip by the
//! zoo's builder (`crate::zoo`), for the host-vs-QEMU classifier test (`tests/classify.rs`).
//!
//! | node | op | reads | shape |
//! |---|---|---|---|
//! | 0 | conv2d, 2 × 3 taps, stride 2 | input | 4 × 16 |
//! | 1 | relu | 1 | 4 × 16 |
//! | 2 | avgpool, 8 frames (the last 128 ms) | 2 | 4 × 16 |
//! | 3 | linear 64 → 6 | 3 | 6 |
//! | 4 | softmax: the class scores | 4 | 6 |

use crate::zoo::{self, Builder, Stop, ROWS};
use anyhow::Result;
use runtime::format::Output;
use runtime::writer::ConvSpec;
use runtime::{Act, Op};
use std::path::Path;

/// Classes out.
pub const CLASSES: usize = 6;

/// The graph, node by node (module doc), until `b`'s limit.
fn graph(b: &mut Builder) -> Result<(), Stop> {
    let x = b.w.input();
    let act = b.room(Op::Conv2d, Act::None)?;
    let (w, bias) = (b.packed(4 * 2 * 3, 8, 2 * 3, ROWS)?, b.bias(4)?);
    let spec = ConvSpec { out_c: 4, kernel: 2, dilation: 1, groups: 1, act };
    let v1 = b.w.conv2d(x, (w, Some(bias)), spec, (3, 2))?;
    let v2 = b.plain(Op::Relu, |w| w.relu(v1))?;
    let v3 = b.plain(Op::AvgPool, |w| w.avgpool(v2, 8))?;
    let v4 = b.linear(v3, (64, CLASSES), Act::None, ROWS)?;
    b.plain(Op::Softmax, |w| w.softmax(v4))?;
    Ok(())
}

/// The classifier blob, with integer constants calibrated on the demo clip.
pub fn blob() -> Result<Vec<u8>> {
    zoo::blob_of(graph, Output::Scores)
}

/// Writes the classifier blob to `path` unless it holds those bytes already; returns its bytes.
pub fn write(path: &Path) -> Result<Vec<u8>> {
    zoo::write_blob(path, blob()?)
}
