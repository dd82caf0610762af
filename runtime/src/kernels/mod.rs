//! Compute kernels over weights still packed in flash.
//!
//! A conv1d frame and a linear layer are the same operation: a matrix-vector product whose
//! input is the concatenation of `kernel` time-shifted frames ("taps"). The kernels walk the
//! packed levels once, row by row, unpacking 8 levels at a time inside the inner loop:
//! `y[n] = bias[n] + min·Σx + Σ_groups scale_{b_g} · Σ_{i∈g} x_i·level_i`.
//!
//! Modules, each using only those before it: `bits` (unpacking, word loads), `widths` (the
//! groups' widths from the bit-width table, a group or a run at a time), `dispatch` (a
//! run-time width as a const generic, for the widths a build has) → `dot_f32` / `dot_i8` (one
//! group's dot product, any-width and two-row variants; `lanes_i8` / `lanes_f32` the same for
//! lane-pair groups, FORMAT.md layout 2, dual MACs through `diffq_simd32`; `nibble_table_f32`
//! short 1- and 2-bit rows by tables of each nibble's sums; `pair_runs_f32` a row-pair group's two
//! f32 sums in either layout, and row pairs of one group each by runs of one width) →
//! `matvec_f32` / `matvec_fixed_i8`
//! (tensors of one width; `halves_fixed_i8` its 1-, 2- and 4-bit rows on inputs widened into halfword pairs; `pair_runs_i8` row pairs of one group each, by runs of one width) → `matvec_i8` (a layer frame, the integer ones finished by
//! `finish_i8`: bias, rounding, shift, clamp) → `conv` (whole sequences); `shape` (shape checks,
//! the fast group sizes) and `act` (element-wise ops) stand alone.
//!
//! The graph ops beyond conv1d/linear: `grouped` (a walk over weights stored
//! `[out][kernel][in/groups]`, 8 packed levels at a time, groups free to span rows) →
//! `conv_grouped_f32` / `conv_grouped_i8` (grouped and depthwise conv1d frames); `gru_f32` /
//! `gru_i8` (one GRU step, the integer one with the Q15 gate tables of `gru_tables`);
//! `requant_i8` (int8 add, mul, concat with requantisation, and their constants); `conv2d`
//! (geometry and the walk of one time column) → `conv2d_f32` / `conv2d_i8`; `pool` (time and
//! global average/max pooling) and `classify` (softmax, argmax) stand alone.

// A build with none of the `width-N` features runs every group on the any-width bodies, one
// with none of the `fixed-N` features every tensor on the mixed-width kernels; the unrolled
// bodies, the fixed-width kernels and their helpers are then unused.
#![cfg_attr(
    any(
        not(any(
            feature = "width-1",
            feature = "width-2",
            feature = "width-3",
            feature = "width-4",
            feature = "width-5",
            feature = "width-6",
            feature = "width-7",
            feature = "width-8"
        )),
        not(any(
            feature = "fixed-1",
            feature = "fixed-2",
            feature = "fixed-3",
            feature = "fixed-4",
            feature = "fixed-5",
            feature = "fixed-6",
            feature = "fixed-7",
            feature = "fixed-8"
        ))
    ),
    allow(dead_code, unused_imports, unused_macros, unused_variables)
)]

pub mod act;
mod bits;
mod classify;
mod conv;
mod conv2d;
mod conv2d_f32;
mod conv2d_i8;
mod conv_grouped_f32;
mod conv_grouped_i8;
mod dispatch;
mod dot_f32;
mod dot_i8;
mod exp_f32;
mod finish_i8;
#[cfg(test)]
mod fixed_width_tests;
mod grouped;
mod gru_f32;
mod gru_i8;
mod gru_tables;
mod halves_fixed_i8;
mod halves_product_i8;
mod lanes_f32;
mod lanes_i8;
mod lanes_product_i8;
mod lanes_wide_i8;
mod matvec_f32;
mod matvec_fixed_i8;
mod matvec_i8;
#[cfg(test)]
mod matvec_tests;
mod nibble_table_f32;
mod pair_bytes;
mod pair_runs_f32;
mod pair_runs_i8;
mod pool;
mod requant_i8;
mod shape;
#[cfg(test)]
mod test_util;
mod widths;

pub use act::{add, mul, relu, relu_i8, sigmoid, tanh};
pub use classify::{argmax_f32, argmax_i8, softmax_f32};
pub use conv::{conv1d_seq_f32, conv1d_seq_i8};
pub use conv2d::Conv2dShape;
pub use conv2d_f32::conv2d_f32;
pub use conv2d_i8::conv2d_i8;
pub use conv_grouped_f32::conv_grouped_f32;
pub use conv_grouped_i8::conv_grouped_i8;
pub(crate) use dot_i8::fits_i32;
pub use exp_f32::{exp_f32, expm1_f32, sigmoid_f32, tanh_f32};
pub use gru_f32::gru_f32;
pub(crate) use gru_f32::gru_f32_in;
pub use gru_i8::{gru_i8, GRU_GATE_SCALE, GRU_OUT_SCALE};
pub(crate) use matvec_f32::matvec_f32_in;
pub use matvec_f32::{add_bias, matvec_f32};
pub use matvec_i8::matvec_i8;
pub(crate) use nibble_table_f32::Tables;
pub use pool::{avg_pool_f32, avg_pool_i8, global_avg_f32, global_avg_i8, max_pool_f32, max_pool_i8};
pub use requant_i8::{add_i8, concat_i8, mul_i8, requant_consts, requant_mul_consts, requant_multipliers};
pub use shape::{FAST_GROUP_SIZE, LONG_GROUP_SIZE, SHORT_GROUP_SIZE};
