//! A validated model description: the front end, and the layers in execution order, each naming
//! its inputs, with the shape of every value and the quantisation of every weight tensor.

use super::schema::{Act, Features, Output};
use crate::diffq::QuantLayout;
use serde::Serialize;

/// The audio front end and the meaning of the output.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Frontend {
    pub sample_rate: u32,
    /// Samples per analysis frame (also the FFT length).
    pub frame: usize,
    /// Samples between frames (`frame / 2`): one model step per hop.
    pub hop: usize,
    pub features: Features,
    pub n_mels: Option<usize>,
    pub output: Output,
    pub n_classes: Option<usize>,
    /// Features enter layer 0 as `(x − in_mean)·2^−in_shift` (folded into it at export).
    pub in_mean: f32,
    pub in_shift: i32,
}

impl Frontend {
    /// The STFT the trainer computes this front end with (`check` admits only the runtime's
    /// rates, 8000 and 16000 Hz).
    pub fn stft(&self) -> crate::features::Stft {
        crate::features::Stft::at(self.sample_rate).unwrap_or_default()
    }

    /// Features per frame: `frame/2` log magnitudes (the Nyquist bin dropped) or `n_mels` bands.
    pub fn n_features(&self) -> usize {
        match self.features {
            Features::Logmag => self.frame / 2,
            Features::Logmel => self.n_mels.unwrap_or(0),
        }
    }

    /// Values the output layer must have: a gain per bin (`frame/2 + 1`) or band, or the classes.
    pub fn n_outputs(&self) -> usize {
        match (self.output, self.features) {
            (Output::Classes, _) => self.n_classes.unwrap_or(0),
            (Output::Mask, Features::Logmag) => self.frame / 2 + 1,
            (Output::Mask, Features::Logmel) => self.n_mels.unwrap_or(0),
        }
    }

    /// The front end of the built-in model (runtime::dsp): 8 kHz, 256-sample frames, log magnitudes.
    pub fn builtin() -> Frontend {
        Frontend {
            sample_rate: runtime::dsp::SAMPLE_RATE,
            frame: runtime::dsp::FRAME,
            hop: runtime::dsp::HOP,
            features: Features::Logmag,
            n_mels: None,
            output: Output::Mask,
            n_classes: None,
            in_mean: -6.0,
            in_shift: 2,
        }
    }
}

/// The shape of one frame of a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Shape {
    /// `n` channels.
    Vec(usize),
    /// `c` channels × `f` frequency positions (channel-major when flattened).
    Map { c: usize, f: usize },
}

impl Shape {
    /// Values per frame.
    pub fn width(&self) -> usize {
        match *self {
            Shape::Vec(n) => n,
            Shape::Map { c, f } => c * f,
        }
    }
}

impl std::fmt::Display for Shape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Shape::Vec(n) => write!(f, "{n}"),
            Shape::Map { c, f: fr } => write!(f, "{c}×{fr}"),
        }
    }
}

/// Where a layer's input comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Src {
    /// The front end's features (a `1 × n_features` map).
    Input,
    /// The output of the layer with this index (always an earlier one).
    Node(usize),
}

/// What a layer computes. Convolutions are causal in time; `kernel` counts time taps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Op {
    /// `stride > 1`: computed on frames `t ≡ 0 (mod stride)`, its output held in between.
    Conv1d {
        out: usize,
        kernel: usize,
        dilation: usize,
        groups: usize,
        stride: usize,
    },
    Linear {
        out: usize,
    },
    /// PyTorch's GRU cell (gates r, z, n), `hidden` units.
    Gru {
        hidden: usize,
    },
    /// Time-causal (`kernel` taps, `dilation`), frequency "same" (`kernel_f` odd, zero padded,
    /// `stride_f`) over a `C × F` map.
    Conv2d {
        out: usize,
        kernel: usize,
        kernel_f: usize,
        stride_f: usize,
        dilation: usize,
        groups: usize,
    },
    Add,
    Mul,
    Concat,
    Relu,
    Sigmoid,
    Tanh,
    /// Average or maximum of the last `window` frames (causal).
    AvgPool {
        window: usize,
    },
    MaxPool {
        window: usize,
    },
    Softmax,
}

impl Op {
    /// Whether the layer has weights.
    pub fn is_weighted(&self) -> bool {
        matches!(self, Op::Conv1d { .. } | Op::Linear { .. } | Op::Gru { .. } | Op::Conv2d { .. })
    }
}

/// A normalisation of a weighted layer's output, per channel, before its activation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Norm {
    /// Batch normalisation: batch statistics in training (over batch × time, and frequency for a
    /// conv2d), running statistics in evaluation, folded into the weights and bias at export.
    Batch,
}

/// How a weighted layer's tensors are stored.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub enum LayerQuant {
    /// Unquantised f32 (`keep = "f32"`): no noise in training, outside the size term.
    Keep,
    /// One width for every group, not learnt.
    Fixed { bits: u8, group_size: usize },
    /// DiffQ: a learnt width per group within `[min_bits, max_bits]`.
    Learnt { group_size: usize, min_bits: f32, max_bits: f32, init_bits: f32 },
}

impl LayerQuant {
    /// The widest a group can be (the flash estimate's width), none for f32.
    pub fn max_bits(&self) -> Option<u8> {
        match *self {
            LayerQuant::Keep => None,
            LayerQuant::Fixed { bits, .. } => Some(bits),
            LayerQuant::Learnt { max_bits, .. } => Some(max_bits.round() as u8),
        }
    }
}

/// One weight tensor: `rows` rows of `row_len`, each row `row_len / inner` runs of `inner`
/// (a run: the inputs of one tap), row-major.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct WeightShape {
    pub rows: usize,
    pub row_len: usize,
    pub inner: usize,
}

impl WeightShape {
    pub fn count(&self) -> usize {
        self.rows * self.row_len
    }
}

/// A weight tensor, its bias, and how it is quantised.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WeightSpec {
    pub shape: WeightShape,
    /// Bias entries (one per row).
    pub bias: usize,
    /// Storage groups, `None` for f32.
    pub layout: Option<QuantLayout>,
}

/// One validated layer.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Node {
    pub name: String,
    pub op: Op,
    pub inputs: Vec<Src>,
    /// The shape of its (first) input and of its output.
    pub in_shape: Shape,
    pub shape: Shape,
    pub act: Option<Act>,
    /// Normalisation between the weights and the activation (training only: folded at export).
    pub norm: Option<Norm>,
    /// Weighted layers: their quantisation and tensors (GRU: `W_x` then `W_h`).
    pub quant: Option<LayerQuant>,
    pub weights: Vec<WeightSpec>,
}

/// A validated description. The last layer is the output.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModelDesc {
    pub frontend: Frontend,
    pub nodes: Vec<Node>,
    /// `[quant] pair_rows`: row-pair groups where a tensor's shape allows them.
    pub pair_rows: bool,
    pub budget: Budget,
}

/// `[budget]`, and the estimates checked against it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Budget {
    pub flash_bytes: Option<usize>,
    pub ram_bytes: Option<usize>,
    /// Estimated flash (every group at its widest) and RAM of this model.
    pub flash_estimate: usize,
    pub ram_estimate: usize,
}

impl ModelDesc {
    /// Shape of a source.
    pub fn shape_of(&self, s: Src) -> Shape {
        match s {
            Src::Input => Shape::Map { c: 1, f: self.frontend.n_features() },
            Src::Node(i) => self.nodes.get(i).map_or(Shape::Vec(0), |n| n.shape),
        }
    }

    /// Weights of the model.
    pub fn n_weights(&self) -> usize {
        self.nodes.iter().flat_map(|n| &n.weights).map(|w| w.shape.count()).sum()
    }
}
