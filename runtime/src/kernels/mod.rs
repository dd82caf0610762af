//! Compute kernels over weights still packed in flash.
//!
//! A conv1d frame and a linear layer are the same operation: a matrix-vector product whose
//! input is the concatenation of `kernel` time-shifted frames ("taps"). The kernels walk the
//! packed levels once, row by row, unpacking 8 levels at a time inside the inner loop:
//! `y[n] = bias[n] + min·Σx + Σ_groups scale_{b_g} · Σ_{i∈g} x_i·level_i`.
//!
//! Modules, each using only those before it: `bits` (unpacking, word loads, the width
//! dispatch) → `dot_f32` / `dot_i8` (one group's dot product, any-width and two-row variants) →
//! `matvec_f32` / `matvec_i8` (a layer frame) → `conv` (whole sequences); `shape` (shape checks,
//! the fast group size) and `act` (element-wise ops) stand alone.

pub mod act;
mod bits;
mod conv;
mod dot_f32;
mod dot_i8;
mod matvec_f32;
mod matvec_i8;
mod shape;

pub use act::{add, mul, relu, relu_i8, sigmoid, tanh};
pub use conv::{conv1d_seq_f32, conv1d_seq_i8};
pub use matvec_f32::{add_bias, matvec_f32};
pub use matvec_i8::matvec_i8;
pub use shape::FAST_GROUP_SIZE;
