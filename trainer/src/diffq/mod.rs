//! DiffQ (Défossez et al., "Differentiable Model Compression via Pseudo Quantization Noise"),
//! written as small pure functions:
//!
//! * [`bits`]: the learnable bit widths (`bits` or `noise` parametrisation) and the pseudo
//!   quantisation noise `w + Δ·n`, differentiable in `w`, in the tensor's range and in the bits;
//! * [`size`]: the model size in bytes, differentiable in the bits, with the blob format's own
//!   accounting so that it agrees with the exported file;
//! * [`fit`]: moving rounded widths one bit at a time so a blob fits its byte budget;
//! * [`quantize`]: true quantisation for evaluation and export, through `runtime::quant`, so that
//!   the trainer and the firmware dequantise to the same numbers.

pub mod bits;
pub mod fit;
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
    /// Let one group (one bit width) cover the same inputs of two output rows (the blob's
    /// row-pair layout), so the firmware computes both rows with one pass over the inputs.
    /// Needs `group_size` a multiple of 16 (8 inputs × 2 rows at least).
    #[serde(default)]
    pub pair_rows: bool,
}

impl Default for DiffqConfig {
    fn default() -> Self {
        DiffqConfig {
            min_bits: 2.0,
            max_bits: 15.0,
            init_bits: 8.0,
            // 32 inputs × 2 rows: one width per 64 weights (0.03 bit/weight of table); the size the
            // firmware's mixed-bit kernels are compiled for.
            group_size: runtime::kernels::FAST_GROUP_SIZE,
            min_size: 1024,
            extra_bits: 0.0,
            param: BitsParam::Bits,
            noise: NoiseKind::Gaussian,
            pair_rows: true, // the firmware's fast mixed-bit kernels need it
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
    /// innermost dimension (input features of one tap or row) is `inner` and whose rows (one per
    /// output) hold `row_len` weights. The blob format needs groups that never straddle a row or
    /// tap, so `inner` must be a multiple of the group size (of half of it for row-pair groups,
    /// whose segments of `group_size / 2` inputs cover two rows). With `group_size == 0` (one logit per
    /// tensor) the storage groups are whole rows. With `pair_rows` (and a group size that is a
    /// multiple of 16, and at least two rows) groups follow the blob's row-pair layout.
    pub fn layout_for(
        &self,
        name: &str,
        count: usize,
        inner: usize,
        row_len: usize,
    ) -> Result<QuantLayout, DiffqError> {
        if count == 0 || inner == 0 || row_len == 0 {
            return Err(DiffqError::Empty(name.to_string()));
        }
        let gs = if self.group_size == 0 { inner } else { self.group_size };
        if gs % 8 != 0 || gs > 4096 {
            return Err(DiffqError::GroupSize(gs));
        }
        let paired = self.pair_rows
            && self.group_size != 0
            && gs % 16 == 0
            && count / row_len >= 2
            && row_len <= usize::from(u16::MAX);
        // A row-pair group covers `gs / 2` inputs of two rows: the segment must divide the row's
        // inputs (a group of 96 over rows of 48 is one whole row of each); row-major groups must
        // divide them themselves.
        let unit = if paired { gs / 2 } else { gs };
        if inner % unit != 0 || count % gs != 0 || row_len % inner != 0 || count % row_len != 0 {
            return Err(DiffqError::GroupDoesNotDivide { name: name.to_string(), group_size: gs, row: inner });
        }
        let n_groups = count / gs;
        let n_logits = if self.group_size == 0 { 1 } else { n_groups };
        let row_pairs = paired.then_some(row_len);
        Ok(QuantLayout { count, group_size: gs, n_groups, n_logits, row_pairs })
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
    /// `Some(row_len)`: groups in the blob's row-pair layout; `None`: row-major groups.
    #[serde(default)]
    pub row_pairs: Option<usize>,
}

impl QuantLayout {
    /// Storage groups covered by one logit.
    pub fn groups_per_logit(&self) -> usize {
        self.n_groups / self.n_logits.max(1)
    }

    /// The blob layout these groups follow.
    pub fn blob_layout(&self) -> runtime::format::Layout {
        match self.row_pairs {
            Some(len) => runtime::format::Layout::RowPairs { row_len: len as u16, lanes: false },
            None => runtime::format::Layout::Rows,
        }
    }

    /// Row-major weights → storage order (the order groups are cut in).
    pub fn to_storage(&self, w: &[f32]) -> Vec<f32> {
        let layout = self.blob_layout();
        let mut st = vec![0.0f32; w.len()];
        for (i, &v) in w.iter().enumerate() {
            if let Some(d) = st.get_mut(layout.position(w.len(), self.group_size, i)) {
                *d = v;
            }
        }
        st
    }

    /// Storage order → row-major (inverse of [`Self::to_storage`]).
    pub fn from_storage(&self, st: &[f32]) -> Vec<f32> {
        let layout = self.blob_layout();
        (0..st.len()).map(|i| st.get(layout.position(st.len(), self.group_size, i)).copied().unwrap_or(0.0)).collect()
    }

    /// The logit each row-major weight's noise scale comes from.
    pub fn logit_of_weight(&self) -> Vec<u32> {
        let (layout, per) = (self.blob_layout(), (self.count / self.n_logits.max(1)).max(1));
        (0..self.count).map(|i| (layout.position(self.count, self.group_size, i) / per) as u32).collect()
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
