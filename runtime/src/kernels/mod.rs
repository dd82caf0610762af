//! Compute kernels over weights still packed in flash.
//!
//! A conv1d frame and a linear layer are the same operation: a matrix-vector product whose
//! input is the concatenation of `kernel` time-shifted frames ("taps"). The kernels walk the
//! packed levels once, row by row, unpacking 8 levels at a time inside the inner loop:
//! `y[n] = bias[n] + min·Σx + Σ_groups scale_{b_g} · Σ_{i∈g} x_i·level_i`.

pub mod act;
pub mod f32;
pub mod int;
pub(crate) mod unpack;

pub use act::{add, mul, relu, relu_i8, sigmoid, tanh};
pub use f32::{conv1d_seq_f32, matvec_f32};
pub use int::{conv1d_seq_i8, matvec_i8, IntParams};
