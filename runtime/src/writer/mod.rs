//! Writes format v4 (FORMAT.md), or the oldest version that can hold the blob: 1 without row
//! pairs and integer constants, 2 with row pairs only (v4 is the one with integer constants,
//! which then hold the biases: their tensors are not written). The trainer exports through this
//! code only. [`BlobWriter`] collects tensors and layers as the format's own entry types
//! ([`crate::format::TensorEntry`], [`crate::format::Layer`]); [`assemble`] lays them out and
//! encodes them with the format's encoders; every blob is parsed back by [`crate::Model::parse`]
//! before it is returned. [`GraphWriter`] writes version 5, a node graph; [`chain_to_graph`]
//! rewrites a chain blob as that graph, its tensors and integer constants carried over.

mod assemble;
mod convert;
mod graph;
mod int;
mod plan;
mod relayout;
mod tensor;

pub use assemble::{assemble, assemble_graph, LayerPart, NodePart, TensorPart};
pub use convert::chain_to_graph;
pub use graph::{ConvSpec, GraphCalibration, GraphWriter, ValueId};
pub use relayout::{lanes_for_target, relayout};

use crate::format::{
    BufferSizes, Header, Kind, Layer, Layout, Op, FLAG_HAS_INT, INT_BIAS_VERSION, MAX_DILATION, MAX_KERNEL, MAX_LAYERS,
    MIN_VERSION, NO_TENSOR, ROW_PAIRS_VERSION,
};
use alloc::string::String;
use alloc::vec::Vec;
use std::format;
use tensor::Store;

/// Why a model could not be written.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteError {
    /// Shapes or counts that do not fit together.
    Shape(String),
    /// A value out of range (NaN weight, bit width 0, zero scale…).
    Value(String),
    /// The written blob failed its own validation (a bug in the writer).
    SelfCheck(crate::Error),
    /// A blob given to be rewritten ([`chain_to_graph`]) is not valid.
    Source(crate::Error),
}

impl core::fmt::Display for WriteError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            WriteError::Shape(s) => write!(f, "cannot write model: shape error: {s}"),
            WriteError::Value(s) => write!(f, "cannot write model: bad value: {s}"),
            WriteError::SelfCheck(e) => write!(f, "written blob failed validation: {e}"),
            WriteError::Source(e) => write!(f, "cannot rewrite blob: it is not valid: {e}"),
        }
    }
}

impl std::error::Error for WriteError {}

/// Index of a tensor added to a [`BlobWriter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TensorId(u16);

/// Per-layer activation scales for the integer path, measured on calibration data.
#[derive(Debug, Clone, PartialEq)]
pub struct IntCalibration {
    /// Features enter the integer path as `round(x / input_scale)`.
    pub input_scale: f32,
    /// One scale per layer (the output's `max|y| / 127`); ReLU layers keep their input's scale,
    /// whatever is given here.
    pub out_scales: Vec<f32>,
}

/// Builds a blob: add tensors, then layers in execution order, then `finish`.
pub struct BlobWriter {
    input_len: usize,
    tensors: Store,
    /// Tensor indices are [`TensorId`]s; scales and offsets are set by `finish`.
    layers: Vec<Layer>,
}

fn u16_of(v: usize, what: &str) -> Result<u16, WriteError> {
    u16::try_from(v).map_err(|_| WriteError::Shape(format!("{what} = {v} exceeds 65535")))
}

impl BlobWriter {
    /// An empty graph whose input is `input_len` features per frame.
    pub fn new(input_len: usize) -> Self {
        BlobWriter { input_len, tensors: Store::default(), layers: Vec::new() }
    }

    /// Stores `values` as f32.
    pub fn f32_tensor(&mut self, values: &[f32]) -> Result<TensorId, WriteError> {
        self.tensors.plain(values, Kind::F32)
    }

    /// Stores `values` as f16 (rounded to nearest).
    pub fn f16_tensor(&mut self, values: &[f32]) -> Result<TensorId, WriteError> {
        self.tensors.plain(values, Kind::F16)
    }

    /// Stores DiffQ levels in the row layout: `levels[i]` row-major, `group_bits[g]` for each
    /// group of `group_size` consecutive levels, quantised over `[min, max]`.
    pub fn packed_tensor(
        &mut self,
        levels: &[u16],
        group_bits: &[u8],
        group_size: usize,
        min: f32,
        max: f32,
    ) -> Result<TensorId, WriteError> {
        self.tensors.packed(Layout::Rows, levels, group_bits, group_size, (min, max))
    }

    /// Stores DiffQ levels in `layout`: `levels[i]` is the value at storage position `i`
    /// ([`Layout::position`]), `group_bits[g]` the width of storage group `g`. A `RowPairs`
    /// tensor whose groups all share one width is stored in the row layout instead (same values,
    /// and the kernels' fixed-bit fast path), except lane pairs of 2 to 4 bits.
    pub fn packed_tensor_in(
        &mut self,
        layout: Layout,
        levels: &[u16],
        group_bits: &[u8],
        group_size: usize,
        min: f32,
        max: f32,
    ) -> Result<TensorId, WriteError> {
        self.tensors.packed(layout, levels, group_bits, group_size, (min, max))
    }

    fn check_weights(&self, w: TensorId, bias: Option<TensorId>, l: &Layer) -> Result<(), WriteError> {
        let (count, in_len, out) = (l.macs() as usize, usize::from(l.in_len), usize::from(l.out_len));
        let t = self.tensors.get(w).ok_or_else(|| WriteError::Shape("unknown weight tensor".into()))?;
        let t = &t.entry;
        if t.count as usize != count {
            return Err(WriteError::Shape(format!("weight has {} values, layer needs {count}", t.count)));
        }
        if t.kind == Kind::Packed && in_len % usize::from(t.group_size) != 0 {
            return Err(WriteError::Shape(format!(
                "input width {in_len} is not a multiple of group_size {}",
                t.group_size
            )));
        }
        if let Layout::RowPairs { row_len, .. } = t.layout {
            if usize::from(row_len) * out != count {
                return Err(WriteError::Shape(format!(
                    "row-pair tensor has rows of {row_len}, layer rows are {}",
                    count / out.max(1)
                )));
            }
        }
        if let Some(b) = bias {
            let bt = self.tensors.get(b).ok_or_else(|| WriteError::Shape("unknown bias tensor".into()))?;
            if bt.entry.kind == Kind::Packed || bt.entry.count as usize != out {
                return Err(WriteError::Shape(format!("bias must be {out} f32/f16 values")));
            }
        }
        Ok(())
    }

    fn width(&self) -> usize {
        self.layers.last().map_or(self.input_len, |l| usize::from(l.out_len))
    }

    /// Causal conv1d, weights `[out][kernel][in]`.
    pub fn conv1d(
        &mut self,
        weight: TensorId,
        bias: Option<TensorId>,
        in_ch: usize,
        out_ch: usize,
        kernel: usize,
        dilation: usize,
    ) -> Result<(), WriteError> {
        if !(1..=MAX_KERNEL).contains(&kernel) || !(1..=usize::from(MAX_DILATION)).contains(&dilation) {
            return Err(WriteError::Shape(format!("kernel {kernel} / dilation {dilation} out of range")));
        }
        self.weighted(Op::Conv1d, weight, bias, in_ch, out_ch, kernel as u8, dilation as u16)
    }

    /// Linear layer, weights `[out][in]`.
    pub fn linear(
        &mut self,
        weight: TensorId,
        bias: Option<TensorId>,
        in_f: usize,
        out_f: usize,
    ) -> Result<(), WriteError> {
        self.weighted(Op::Linear, weight, bias, in_f, out_f, 1, 1)
    }

    #[allow(clippy::too_many_arguments)]
    fn weighted(
        &mut self,
        op: Op,
        weight: TensorId,
        bias: Option<TensorId>,
        in_len: usize,
        out: usize,
        kernel: u8,
        dilation: u16,
    ) -> Result<(), WriteError> {
        if in_len != self.width() || out == 0 {
            return Err(WriteError::Shape(format!("layer input {in_len} != previous width {}", self.width())));
        }
        let (in_len, out_len) = (u16_of(in_len, "in")?, u16_of(out, "out")?);
        let l = Layer {
            op,
            in_len,
            out_len,
            weight: weight.0,
            bias: bias.map_or(NO_TENSOR, |b| b.0),
            kernel,
            dilation,
            out_scale: 0.0,
            int_offset: 0,
        };
        self.check_weights(weight, bias, &l)?;
        self.layers.push(l);
        Ok(())
    }

    fn elementwise(&mut self, op: Op) -> Result<(), WriteError> {
        let w = u16_of(self.width(), "width")?;
        let (weight, bias, kernel, dilation, out_scale, int_offset) = (NO_TENSOR, NO_TENSOR, 0, 0, 0.0, 0);
        self.layers.push(Layer { op, in_len: w, out_len: w, weight, bias, kernel, dilation, out_scale, int_offset });
        Ok(())
    }
    /// Appends a ReLU.
    pub fn relu(&mut self) -> Result<(), WriteError> {
        self.elementwise(Op::Relu)
    }
    /// Appends a sigmoid.
    pub fn sigmoid(&mut self) -> Result<(), WriteError> {
        self.elementwise(Op::Sigmoid)
    }
    /// Appends a tanh.
    pub fn tanh(&mut self) -> Result<(), WriteError> {
        self.elementwise(Op::Tanh)
    }

    /// A blob for the f32 path only.
    pub fn finish(self) -> Result<Vec<u8>, WriteError> {
        self.build(None)
    }

    /// A blob with the integer path's constants.
    pub fn finish_with_int(self, calib: &IntCalibration) -> Result<Vec<u8>, WriteError> {
        self.build(Some(calib))
    }

    fn build(self, calib: Option<&IntCalibration>) -> Result<Vec<u8>, WriteError> {
        let n_layers = u16_of(self.layers.len(), "layers")?;
        if n_layers == 0 || n_layers > MAX_LAYERS {
            return Err(WriteError::Shape("a model needs 1..=64 layers".into()));
        }
        let ops: Vec<Op> = self.layers.iter().map(|l| l.op).collect();
        let scales = calib.map(|c| int::layer_scales(&ops, c)).transpose()?;
        let has_int = scales.is_some();
        let new_index = self.tensor_numbers(has_int);
        let renumber = |i: u16| new_index.get(usize::from(i)).copied().unwrap_or(NO_TENSOR);
        let mut layers = Vec::with_capacity(self.layers.len());
        let mut blocks = Vec::with_capacity(self.layers.len());
        for (i, l) in self.layers.iter().enumerate() {
            let (out_scale, block) = match &scales {
                Some(s) => {
                    let (in_scale, out_scale) = s.around(i);
                    (out_scale, int::int_block(&self.tensors.0, l, in_scale, out_scale)?)
                }
                None => (0.0, Vec::new()),
            };
            layers.push(Layer { weight: renumber(l.weight), bias: renumber(l.bias), out_scale, ..*l });
            blocks.push(block);
        }
        let header = self.header(has_int, scales.as_ref().map_or(0.0, |s| s.input))?;
        let tensors: Vec<TensorPart<'_>> = (self.tensors.0.iter().zip(&new_index))
            .filter(|(_, &n)| n != NO_TENSOR)
            .map(|(t, _)| TensorPart { entry: t.entry, bits_table: &t.table, data: &t.data })
            .collect();
        let parts: Vec<LayerPart<'_>> =
            layers.iter().zip(&blocks).map(|(&layer, b)| LayerPart { layer, int_block: b }).collect();
        assemble(header, &tensors, &parts)
    }

    /// Each tensor's index in the blob: with integer constants the biases live in them only
    /// (v4), so bias tensors are dropped (`NO_TENSOR`) and the others renumbered.
    fn tensor_numbers(&self, has_int: bool) -> Vec<u16> {
        let is_bias = |i: usize| {
            self.layers.iter().any(|l| usize::from(l.bias) == i)
                && !self.layers.iter().any(|l| usize::from(l.weight) == i)
        };
        let mut next = 0u16;
        (0..self.tensors.0.len())
            .map(|i| {
                if has_int && is_bias(i) {
                    NO_TENSOR
                } else {
                    next += 1;
                    next - 1
                }
            })
            .collect()
    }

    /// The header's fields that do not depend on the layout: the oldest version that holds the
    /// blob (so older readers keep working: 4 for biases kept in the integer constants only, 2
    /// for row pairs, else 1), the sizes, the input scale.
    fn header(&self, has_int: bool, input_scale: f32) -> Result<Header, WriteError> {
        let pairs = self.tensors.0.iter().any(|t| t.entry.layout != Layout::Rows);
        let version = if has_int {
            INT_BIAS_VERSION
        } else if pairs {
            ROW_PAIRS_VERSION
        } else {
            MIN_VERSION
        };
        let mut sizes = BufferSizes::new(self.input_len);
        self.layers.iter().for_each(|l| sizes.add(l));
        let lens = sizes.header_lens(has_int).ok_or_else(|| WriteError::Shape("buffers over 4 GiB".into()))?;
        let mut h = Header {
            version,
            flags: if has_int { FLAG_HAS_INT } else { 0 },
            total_len: 0,
            crc32: 0,
            n_tensors: 0,
            n_nodes: 0,
            n_operands: 0,
            input_height: 1,
            input_len: u16_of(self.input_len, "input_len")?,
            output_len: u16_of(self.width(), "output_len")?,
            f32_arena_len: 0,
            f32_state_len: 0,
            i8_arena_len: 0,
            i8_state_len: 0,
            input_scale,
        };
        h.set_buffer_lens(lens);
        Ok(h)
    }
}
