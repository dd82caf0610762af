//! Writes format v4 (FORMAT.md), or the oldest version that can hold the blob: 1 without row
//! pairs and integer constants, 2 with row pairs only (v4 is the one with integer constants,
//! which then hold the biases: their tensors are not written). The trainer exports through this code only; every blob it
//! produces is parsed back by [`Model::parse`] before it is returned.

use crate::format::{
    Layout, Op, FLAG_HAS_INT, HEADER_LEN, LAYER_ENTRY_LEN, MAGIC, MAX_DILATION, MAX_GROUP, MAX_KERNEL, NO_TENSOR,
    TENSOR_ENTRY_LEN, VERSION,
};
use crate::model::checksum;
use crate::quant::{group_bytes, pack_levels, MAX_BITS};
use crate::Model;
use alloc::string::String;
use alloc::vec::Vec;
use std::format;

mod int;

/// Why a model could not be written.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteError {
    /// Shapes or counts that do not fit together.
    Shape(String),
    /// A value out of range (NaN weight, bit width 0, zero scale…).
    Value(String),
    /// The written blob failed its own validation (a bug in the writer).
    SelfCheck(crate::Error),
}

impl core::fmt::Display for WriteError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            WriteError::Shape(s) => write!(f, "cannot write model: shape error: {s}"),
            WriteError::Value(s) => write!(f, "cannot write model: bad value: {s}"),
            WriteError::SelfCheck(e) => write!(f, "written blob failed validation: {e}"),
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

struct TensorRec {
    kind: u8,
    /// Packed: the storage layout (FORMAT.md); `Rows` for everything else.
    layout: Layout,
    bits_base: u8,
    bits_width: u8,
    group_size: u16,
    count: u32,
    min: f32,
    max: f32,
    table: Vec<u8>,
    data: Vec<u8>,
    /// The values as the runtime will read them (f32/f16 only): for integer bias constants.
    values: Vec<f32>,
}

struct LayerRec {
    op: Op,
    in_len: u16,
    out_len: u16,
    weight: u16,
    bias: u16,
    kernel: u8,
    dilation: u16,
}

/// Builds a blob: add tensors, then layers in execution order, then `finish`.
pub struct BlobWriter {
    input_len: usize,
    tensors: Vec<TensorRec>,
    layers: Vec<LayerRec>,
}

fn u16_of(v: usize, what: &str) -> Result<u16, WriteError> {
    u16::try_from(v).map_err(|_| WriteError::Shape(format!("{what} = {v} exceeds 65535")))
}

impl LayerRec {
    /// The geometry as the parser will decode it (scales and offsets do not matter here).
    fn as_layer(&self) -> crate::Layer {
        crate::Layer {
            op: self.op,
            in_len: self.in_len,
            out_len: self.out_len,
            weight: self.weight,
            bias: self.bias,
            kernel: self.kernel,
            dilation: self.dilation,
            out_scale: 0.0,
            int_offset: 0,
        }
    }
}

impl BlobWriter {
    pub fn new(input_len: usize) -> Self {
        BlobWriter { input_len, tensors: Vec::new(), layers: Vec::new() }
    }

    fn push(&mut self, t: TensorRec) -> Result<TensorId, WriteError> {
        if self.tensors.len() >= usize::from(crate::format::MAX_TENSORS) {
            return Err(WriteError::Shape("too many tensors".into()));
        }
        self.tensors.push(t);
        Ok(TensorId((self.tensors.len() - 1) as u16))
    }

    fn plain(values: &[f32], kind: u8) -> Result<TensorRec, WriteError> {
        if values.is_empty() {
            return Err(WriteError::Shape("empty tensor".into()));
        }
        if let Some(v) = values.iter().find(|v| !v.is_finite()) {
            return Err(WriteError::Value(format!("non-finite value {v}")));
        }
        let count = u32::try_from(values.len()).map_err(|_| WriteError::Shape("tensor too large".into()))?;
        let (data, stored): (Vec<u8>, Vec<f32>) = if kind == 1 {
            (values.iter().flat_map(|v| v.to_le_bytes()).collect(), values.to_vec())
        } else {
            let h: Vec<half::f16> = values.iter().map(|&v| half::f16::from_f32(v)).collect();
            (h.iter().flat_map(|v| v.to_le_bytes()).collect(), h.iter().map(|v| v.to_f32()).collect())
        };
        Ok(TensorRec {
            kind,
            layout: Layout::Rows,
            bits_base: 0,
            bits_width: 0,
            group_size: 0,
            count,
            min: 0.0,
            max: 0.0,
            table: Vec::new(),
            data,
            values: stored,
        })
    }

    /// Stores `values` as f32.
    pub fn f32_tensor(&mut self, values: &[f32]) -> Result<TensorId, WriteError> {
        let t = Self::plain(values, 1)?;
        self.push(t)
    }

    /// Stores `values` as f16 (rounded to nearest).
    pub fn f16_tensor(&mut self, values: &[f32]) -> Result<TensorId, WriteError> {
        let t = Self::plain(values, 2)?;
        self.push(t)
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
        self.packed_tensor_in(Layout::Rows, levels, group_bits, group_size, min, max)
    }

    /// Stores DiffQ levels in `layout`: `levels[i]` is the value at storage position `i`
    /// ([`Layout::position`]), `group_bits[g]` the width of storage group `g`. A `RowPairs`
    /// tensor whose groups all share one width is stored in the row layout instead (same values,
    /// and the kernels' fixed-bit fast path).
    pub fn packed_tensor_in(
        &mut self,
        layout: Layout,
        levels: &[u16],
        group_bits: &[u8],
        group_size: usize,
        min: f32,
        max: f32,
    ) -> Result<TensorId, WriteError> {
        if let Layout::RowPairs { row_len } = layout {
            let len = usize::from(row_len);
            if group_size % 16 != 0 || len < group_size || len % group_size != 0 || levels.len() % len != 0 {
                return Err(WriteError::Shape(format!(
                    "row-pair layout needs group_size a multiple of 16 dividing the row length {len}, and whole rows"
                )));
            }
            if group_bits.windows(2).all(|w| w.first() == w.get(1)) {
                let pos = layout.storage_order(levels.len(), group_size);
                let rows: Vec<u16> = pos.iter().map(|&q| levels.get(q).copied().unwrap_or(0)).collect();
                return self.packed_tensor_in(Layout::Rows, &rows, group_bits, group_size, min, max);
            }
        }
        if group_size < 8 || group_size % 8 != 0 || group_size > usize::from(MAX_GROUP) {
            return Err(WriteError::Shape(format!("group_size {group_size} must be a multiple of 8 in 8..=4096")));
        }
        if levels.is_empty() || levels.len() != group_bits.len() * group_size {
            return Err(WriteError::Shape(format!(
                "{} levels do not make {} groups of {group_size}",
                levels.len(),
                group_bits.len()
            )));
        }
        if !(min.is_finite() && max.is_finite() && max >= min) {
            return Err(WriteError::Value(format!("range [{min}, {max}] is not finite and ordered")));
        }
        let lo = group_bits.iter().copied().min().unwrap_or(1);
        let hi = group_bits.iter().copied().max().unwrap_or(1);
        if lo < 1 || hi > MAX_BITS {
            return Err(WriteError::Value(format!("bit widths must be in 1..={MAX_BITS}, got {lo}..={hi}")));
        }
        let width: u8 = match hi - lo {
            0 => 0,
            1 => 1,
            2..=3 => 2,
            _ => 4,
        };
        let mut table = alloc::vec![0u8; (group_bits.len() * usize::from(width)).div_ceil(8)];
        if width > 0 {
            let entries: Vec<u16> = group_bits.iter().map(|&b| u16::from(b - lo)).collect();
            pack_levels(&entries, width, &mut table).ok_or_else(|| WriteError::Value("bit-width table".into()))?;
        }
        let mut data = Vec::new();
        for (g, (chunk, &b)) in levels.chunks_exact(group_size).zip(group_bits).enumerate() {
            let mut buf = alloc::vec![0u8; group_bytes(group_size, b)];
            pack_levels(chunk, b, &mut buf)
                .ok_or_else(|| WriteError::Value(format!("a level of group {g} does not fit in {b} bits")))?;
            data.extend_from_slice(&buf);
        }
        let count = u32::try_from(levels.len()).map_err(|_| WriteError::Shape("tensor too large".into()))?;
        let group_size = group_size as u16;
        self.push(TensorRec {
            kind: 3,
            layout,
            bits_base: lo,
            bits_width: width,
            group_size,
            count,
            min,
            max,
            table,
            data,
            values: Vec::new(),
        })
    }

    fn check_weights(
        &self,
        w: TensorId,
        bias: Option<TensorId>,
        count: usize,
        in_len: usize,
        out: usize,
    ) -> Result<(), WriteError> {
        let t = self.tensors.get(usize::from(w.0)).ok_or_else(|| WriteError::Shape("unknown weight tensor".into()))?;
        if t.count as usize != count {
            return Err(WriteError::Shape(format!("weight has {} values, layer needs {count}", t.count)));
        }
        if t.kind == 3 && in_len % usize::from(t.group_size) != 0 {
            return Err(WriteError::Shape(format!(
                "input width {in_len} is not a multiple of group_size {}",
                t.group_size
            )));
        }
        if let Layout::RowPairs { row_len } = t.layout {
            if usize::from(row_len) * out != count {
                return Err(WriteError::Shape(format!(
                    "row-pair tensor has rows of {row_len}, layer rows are {}",
                    count / out.max(1)
                )));
            }
        }
        if let Some(b) = bias {
            let bt =
                self.tensors.get(usize::from(b.0)).ok_or_else(|| WriteError::Shape("unknown bias tensor".into()))?;
            if bt.kind == 3 || bt.count as usize != out {
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
        self.weighted(Op::Conv1d, weight, bias, in_ch, out_ch, kernel, dilation)
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
        kernel: usize,
        dilation: usize,
    ) -> Result<(), WriteError> {
        if in_len != self.width() || out == 0 {
            return Err(WriteError::Shape(format!("layer input {in_len} != previous width {}", self.width())));
        }
        self.check_weights(weight, bias, out * kernel * in_len, in_len, out)?;
        self.layers.push(LayerRec {
            op,
            in_len: u16_of(in_len, "in")?,
            out_len: u16_of(out, "out")?,
            weight: weight.0,
            bias: bias.map_or(NO_TENSOR, |b| b.0),
            kernel: kernel as u8,
            dilation: dilation as u16,
        });
        Ok(())
    }

    fn elementwise(&mut self, op: Op) -> Result<(), WriteError> {
        let w = u16_of(self.width(), "width")?;
        self.layers.push(LayerRec {
            op,
            in_len: w,
            out_len: w,
            weight: NO_TENSOR,
            bias: NO_TENSOR,
            kernel: 0,
            dilation: 0,
        });
        Ok(())
    }
    pub fn relu(&mut self) -> Result<(), WriteError> {
        self.elementwise(Op::Relu)
    }
    pub fn sigmoid(&mut self) -> Result<(), WriteError> {
        self.elementwise(Op::Sigmoid)
    }
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
        if n_layers == 0 || n_layers > crate::format::MAX_LAYERS {
            return Err(WriteError::Shape("a model needs 1..=64 layers".into()));
        }
        let scales = match calib {
            Some(c) => Some(int::layer_scales(&self.layers_ops(), c)?),
            None => None,
        };
        let has_int = scales.is_some();
        // With integer constants the biases live in them only (v4): their tensors are dropped
        // and the others renumbered.
        let is_bias = |i: usize| {
            self.layers.iter().any(|l| usize::from(l.bias) == i)
                && !self.layers.iter().any(|l| usize::from(l.weight) == i)
        };
        let mut new_index = Vec::with_capacity(self.tensors.len());
        let mut kept = Vec::new();
        for (i, t) in self.tensors.iter().enumerate() {
            if has_int && is_bias(i) {
                new_index.push(NO_TENSOR);
            } else {
                new_index.push(kept.len() as u16);
                kept.push(t);
            }
        }
        let remap = |i: u16| new_index.get(usize::from(i)).copied().unwrap_or(NO_TENSOR);
        let n_t = kept.len();
        let table_end = HEADER_LEN + n_t * TENSOR_ENTRY_LEN + self.layers.len() * LAYER_ENTRY_LEN;
        let mut data: Vec<u8> = Vec::new();
        let mut tensor_table = Vec::with_capacity(n_t * TENSOR_ENTRY_LEN);
        for t in kept {
            let bits_off = if t.table.is_empty() { 0 } else { table_end + data.len() };
            data.extend_from_slice(&t.table);
            let data_off = table_end + data.len();
            data.extend_from_slice(&t.data);
            let e = &mut tensor_table;
            let (layout, row_len) = match t.layout {
                Layout::Rows => (0u8, 0u16),
                Layout::RowPairs { row_len } => (1, row_len),
            };
            e.extend_from_slice(&[t.kind, t.bits_base, t.bits_width, layout]);
            e.extend_from_slice(&t.group_size.to_le_bytes());
            e.extend_from_slice(&row_len.to_le_bytes());
            e.extend_from_slice(&t.count.to_le_bytes());
            e.extend_from_slice(&t.min.to_le_bytes());
            e.extend_from_slice(&t.max.to_le_bytes());
            for v in [bits_off, data_off, t.data.len()] {
                e.extend_from_slice(&(v as u32).to_le_bytes());
            }
        }
        let mut layer_table = Vec::with_capacity(self.layers.len() * LAYER_ENTRY_LEN);
        let (mut max_width, mut state) = (self.input_len, 0usize);
        for (i, l) in self.layers.iter().enumerate() {
            let (out_scale, int_off) = match &scales {
                Some(s) => {
                    let in_scale = if i == 0 { s.input } else { *s.out.get(i - 1).unwrap_or(&0.0) };
                    let out_scale = *s.out.get(i).unwrap_or(&0.0);
                    let block = int::int_block(
                        self.tensors.as_slice(),
                        l.op,
                        l.weight,
                        l.bias,
                        l.out_len,
                        in_scale,
                        out_scale,
                    )?;
                    let off = if block.is_empty() { 0 } else { table_end + data.len() };
                    data.extend_from_slice(&block);
                    (out_scale, off)
                }
                None => (0.0, 0),
            };
            let stride: u16 = if l.op.has_weights() { 1 } else { 0 };
            layer_table.extend_from_slice(&[l.op.code(), 0]);
            for v in [l.in_len, l.out_len, remap(l.weight), remap(l.bias)] {
                layer_table.extend_from_slice(&v.to_le_bytes());
            }
            layer_table.extend_from_slice(&[l.kernel, 0]);
            layer_table.extend_from_slice(&l.dilation.to_le_bytes());
            layer_table.extend_from_slice(&stride.to_le_bytes());
            layer_table.extend_from_slice(&out_scale.to_le_bytes());
            layer_table.extend_from_slice(&(int_off as u32).to_le_bytes());
            max_width = max_width.max(usize::from(l.out_len));
            state += l.as_layer().state_len(); // the parser's own rule, so the header agrees
        }
        let total = table_end + data.len();
        let total32 = u32::try_from(total).map_err(|_| WriteError::Shape("blob over 4 GiB".into()))?;
        let mut out = Vec::with_capacity(total);
        out.extend_from_slice(&MAGIC);
        // The oldest version that holds the blob, so older readers keep working: 4 for biases
        // kept in the integer constants only, 2 for row pairs, else 1.
        let pairs = self.tensors.iter().any(|t| t.layout != Layout::Rows);
        let version = if has_int {
            VERSION
        } else if pairs {
            2
        } else {
            1
        };
        out.extend_from_slice(&version.to_le_bytes());
        out.extend_from_slice(&(if has_int { FLAG_HAS_INT } else { 0 }).to_le_bytes());
        out.extend_from_slice(&total32.to_le_bytes());
        out.extend_from_slice(&[0; 4]); // CRC, filled below
        out.extend_from_slice(&(n_t as u16).to_le_bytes());
        out.extend_from_slice(&n_layers.to_le_bytes());
        out.extend_from_slice(&u16_of(self.input_len, "input_len")?.to_le_bytes());
        out.extend_from_slice(&u16_of(self.width(), "output_len")?.to_le_bytes());
        out.extend_from_slice(&(HEADER_LEN as u32).to_le_bytes());
        out.extend_from_slice(&((HEADER_LEN + n_t * TENSOR_ENTRY_LEN) as u32).to_le_bytes());
        let int_mul = usize::from(has_int);
        for v in [2 * max_width, state, 2 * max_width * int_mul, state * int_mul] {
            out.extend_from_slice(&(v as u32).to_le_bytes());
        }
        out.extend_from_slice(&scales.as_ref().map_or(0.0f32, |s| s.input).to_le_bytes());
        out.extend_from_slice(&[0; 12]);
        out.extend_from_slice(&tensor_table);
        out.extend_from_slice(&layer_table);
        out.extend_from_slice(&data);
        let crc = checksum(out.get(16..).unwrap_or(&[]));
        if let Some(c) = out.get_mut(12..16) {
            c.copy_from_slice(&crc.to_le_bytes());
        }
        Model::parse(&out).map_err(WriteError::SelfCheck)?;
        Ok(out)
    }

    fn layers_ops(&self) -> Vec<Op> {
        self.layers.iter().map(|l| l.op).collect()
    }
}
