//! The description file as written (TOML, unknown fields rejected), before any check. The values
//! a later check can reject carry their byte span, so the error can name their line and column.

use serde::Deserialize;
use toml::Spanned;

/// A whole description file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDescription {
    #[serde(default)]
    pub frontend: Option<Spanned<RawFrontend>>,
    #[serde(default)]
    pub quant: Option<Spanned<RawQuant>>,
    #[serde(default)]
    pub budget: Option<RawBudget>,
    #[serde(default)]
    pub layer: Vec<Spanned<RawLayer>>,
}

/// `[frontend]`: the audio front end and what the model outputs.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFrontend {
    pub sample_rate: Option<Spanned<u32>>,
    pub frame: Option<Spanned<usize>>,
    pub hop: Option<Spanned<usize>>,
    pub features: Option<Spanned<Features>>,
    pub n_mels: Option<Spanned<usize>>,
    pub output: Option<Spanned<Output>>,
    pub n_classes: Option<Spanned<usize>>,
    pub in_mean: Option<Spanned<f32>>,
    pub in_shift: Option<Spanned<i32>>,
}

/// Model input features.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Features {
    /// `ln(|X_k|² + floor)` of bins `0..fft/2` (the Nyquist bin dropped).
    Logmag,
    /// Log energies of `n_mels` triangular mel bands.
    Logmel,
}

/// What the last layer's values mean.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Output {
    /// One gain in `[0, 1]` per spectrum bin (logmag: `fft/2 + 1`) or per mel band (logmel).
    Mask,
    /// `n_classes` scores (a softmax).
    Classes,
}

/// `[quant]` (the defaults of every weighted layer) or a layer's `quant = { … }`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawQuant {
    /// `"f32"`: the layer stays unquantised (layer only).
    pub keep: Option<Spanned<String>>,
    /// A fixed width, not learnt (layer only).
    pub bits: Option<Spanned<u8>>,
    pub group_size: Option<Spanned<usize>>,
    pub min_bits: Option<Spanned<f32>>,
    pub max_bits: Option<Spanned<f32>>,
    pub init_bits: Option<Spanned<f32>>,
    /// Row-pair groups where the layer's shape allows them (`[quant]` only).
    pub pair_rows: Option<Spanned<bool>>,
}

/// `[budget]`: what the model may take on the target.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBudget {
    pub flash_bytes: Option<Spanned<usize>>,
    pub ram_bytes: Option<Spanned<usize>>,
}

/// Operations of a layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OpKind {
    Conv1d,
    Linear,
    Gru,
    Conv2d,
    Add,
    Mul,
    Concat,
    Relu,
    Sigmoid,
    Tanh,
    Avgpool,
    Maxpool,
    Softmax,
}

impl OpKind {
    /// The op's name as written.
    pub fn name(self) -> &'static str {
        match self {
            OpKind::Conv1d => "conv1d",
            OpKind::Linear => "linear",
            OpKind::Gru => "gru",
            OpKind::Conv2d => "conv2d",
            OpKind::Add => "add",
            OpKind::Mul => "mul",
            OpKind::Concat => "concat",
            OpKind::Relu => "relu",
            OpKind::Sigmoid => "sigmoid",
            OpKind::Tanh => "tanh",
            OpKind::Avgpool => "avgpool",
            OpKind::Maxpool => "maxpool",
            OpKind::Softmax => "softmax",
        }
    }
}

/// A fused activation of a weighted layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Act {
    Relu,
    Sigmoid,
    Tanh,
}

/// One `[[layer]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLayer {
    pub name: Spanned<String>,
    pub op: Spanned<OpKind>,
    pub inputs: Option<Spanned<Vec<Spanned<String>>>>,
    pub out: Option<Spanned<usize>>,
    pub kernel: Option<Spanned<usize>>,
    pub kernel_f: Option<Spanned<usize>>,
    pub stride_f: Option<Spanned<usize>>,
    /// conv1d: frames between computations (sample and hold).
    pub stride: Option<Spanned<usize>>,
    pub dilation: Option<Spanned<usize>>,
    pub groups: Option<Spanned<usize>>,
    pub window: Option<Spanned<usize>>,
    pub act: Option<Spanned<Act>>,
    /// `"batch"`: batch normalisation after the weights (folded into them at export).
    pub norm: Option<Spanned<String>>,
    pub quant: Option<Spanned<RawQuant>>,
}
