//! DiffQ (Défossez et al., "Differentiable Model Compression via Pseudo Quantization Noise"),
//! written as small pure functions:
//!
//! * [`bits`]: the learnable bit widths (`bits` or `noise` parametrisation) and the pseudo
//!   quantisation noise `w + Δ·n`, differentiable in `w`, in the tensor's range and in the bits;
//! * [`size`]: the model size in bytes, differentiable in the bits, with the blob format's own
//!   accounting so that it agrees with the exported file;
//! * [`quantize`]: true quantisation for evaluation and export, through `runtime::quant`, so that
//!   the trainer and the firmware dequantise to the same numbers.

pub mod bits;
pub mod quantize;
pub mod size;

use serde::{Deserialize, Serialize};

/// How a logit is mapped to a bit width.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum BitsParam {
    /// `b = min_bits + sigmoid(logit)·(max_bits − min_bits)` (DiffQ's default).
    Bits,
    /// The log of the relative noise scale `1/(2^b − 1)` is interpolated linearly between its
    /// values at `max_bits` and `min_bits`; `b = log2(1 + 1/noise)`.
    Noise,
}

/// Distribution of the pseudo quantisation noise `n`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum NoiseKind {
    /// `n = N(0, 1) / 2` (DiffQ's default).
    Gaussian,
    /// `n ~ U[−½, ½]`.
    Uniform,
}

/// DiffQ hyper-parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DiffqConfig {
    pub min_bits: f32,
    pub max_bits: f32,
    pub init_bits: f32,
    /// Weights per learnable bit width; 0 means one per tensor. Must be a multiple of 8 that
    /// divides each quantised row (the blob format's rule).
    pub group_size: usize,
    /// Tensors with fewer weights stay f32.
    pub min_size: usize,
    /// Added to the learnt bits before rounding at export (DiffQ's `extra_bits`).
    pub extra_bits: f32,
    pub param: BitsParam,
    pub noise: NoiseKind,
}

impl Default for DiffqConfig {
    fn default() -> Self {
        DiffqConfig {
            min_bits: 2.0,
            max_bits: 15.0,
            init_bits: 8.0,
            group_size: 16,
            min_size: 1024,
            extra_bits: 0.0,
            param: BitsParam::Bits,
            noise: NoiseKind::Gaussian,
        }
    }
}

/// Errors of the DiffQ math: every edge case the reference implementation gets wrong is named.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DiffqError {
    #[error("bit range invalid: need 1 <= min_bits ({min}) < max_bits ({max}) <= 15")]
    BitRange { min: f32, max: f32 },
    #[error("init_bits {0} lies outside (min_bits, max_bits)")]
    InitBits(f32),
    #[error("group size {0} must be a positive multiple of 8 (at most 4096)")]
    GroupSize(usize),
    #[error("group size {group_size} does not divide the rows of tensor `{name}` ({row} weights per row)")]
    GroupDoesNotDivide { name: String, group_size: usize, row: usize },
    #[error("tensor `{name}` holds a non-finite weight ({value}) at index {index}")]
    NonFinite { name: String, index: usize, value: f32 },
    #[error("tensor `{0}` is empty")]
    Empty(String),
    #[error("bit width {0} is not finite")]
    NonFiniteBits(f32),
    #[error("{groups} bit widths given for {expected} groups")]
    GroupCount { groups: usize, expected: usize },
    #[error("bit width {0} outside 1..=15")]
    BitsOutOfRange(u8),
}

impl DiffqConfig {
    /// Checks the bit range and group size.
    pub fn validate(&self) -> Result<(), DiffqError> {
        let ok = self.min_bits >= 1.0 && self.max_bits <= 15.0 && self.min_bits < self.max_bits;
        if !ok || !self.min_bits.is_finite() || !self.max_bits.is_finite() {
            return Err(DiffqError::BitRange { min: self.min_bits, max: self.max_bits });
        }
        if !(self.init_bits > self.min_bits && self.init_bits < self.max_bits) {
            return Err(DiffqError::InitBits(self.init_bits));
        }
        if self.group_size != 0 && (self.group_size % 8 != 0 || self.group_size > 4096) {
            return Err(DiffqError::GroupSize(self.group_size));
        }
        Ok(())
    }

    /// The storage group size and number of learnable logits for a tensor of `count` weights whose
    /// innermost dimension (input features of one tap or row) is `inner`. The blob format needs
    /// groups that never straddle a row or tap, so `inner` must be a multiple of the group size.
    /// With `group_size == 0` (one logit per tensor) the storage groups are whole rows.
    pub fn layout_for(&self, name: &str, count: usize, inner: usize) -> Result<QuantLayout, DiffqError> {
        if count == 0 || inner == 0 {
            return Err(DiffqError::Empty(name.to_string()));
        }
        let gs = if self.group_size == 0 { inner } else { self.group_size };
        if gs % 8 != 0 || gs > 4096 {
            return Err(DiffqError::GroupSize(gs));
        }
        if inner % gs != 0 || count % gs != 0 {
            return Err(DiffqError::GroupDoesNotDivide { name: name.to_string(), group_size: gs, row: inner });
        }
        let n_groups = count / gs;
        let n_logits = if self.group_size == 0 { 1 } else { n_groups };
        Ok(QuantLayout { count, group_size: gs, n_groups, n_logits })
    }
}

/// How one quantised tensor is cut into groups.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuantLayout {
    pub count: usize,
    /// Storage group size (weights per bit-width entry of the blob).
    pub group_size: usize,
    pub n_groups: usize,
    /// 1 (one logit for the whole tensor) or `n_groups`.
    pub n_logits: usize,
}

impl QuantLayout {
    /// Storage groups covered by one logit.
    pub fn groups_per_logit(&self) -> usize {
        self.n_groups / self.n_logits.max(1)
    }
}

/// Rejects NaN and infinite weights with the offending index.
pub fn check_finite(name: &str, values: &[f32]) -> Result<(), DiffqError> {
    match values.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(index) => Err(DiffqError::NonFinite {
            name: name.to_string(),
            index,
            value: values.get(index).copied().unwrap_or(f32::NAN),
        }),
    }
}
