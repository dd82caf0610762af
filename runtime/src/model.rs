//! The validated model view: `Model::parse` checks how the entries of a blob fit together (each
//! entry checks itself in `format`); the frame-by-frame executor is in [`step`].

mod step;
pub use step::LayerHook;

use crate::error::{Error, Part};
use crate::format::{
    int_block_len, len32, Bias, BufferSizes, Header, IntParams, Layer, Layout, Op, Tensor, Weights, INT_BIAS_VERSION,
    NO_TENSOR, ROW_PAIRS_VERSION,
};

/// A blob that passed every check of FORMAT.md; borrows the bytes (flash), copies nothing.
#[derive(Debug, Clone, Copy)]
pub struct Model<'a> {
    blob: &'a [u8],
    header: Header,
}

/// Streaming state of the f32 path: conv histories (zero = silence before the stream).
pub struct StateF32<'s> {
    buf: &'s mut [f32],
    frame: u64,
}

/// Streaming state of the integer path.
pub struct StateI8<'s> {
    buf: &'s mut [i8],
    frame: u64,
}

impl<'s> StateF32<'s> {
    /// Wraps a buffer of at least `Model::f32_state_len` elements and zeroes it.
    pub fn new(buf: &'s mut [f32]) -> Self {
        buf.fill(0.0);
        StateF32 { buf, frame: 0 }
    }
    /// Forgets the past: the next frame is the start of a stream.
    pub fn reset(&mut self) {
        self.buf.fill(0.0);
        self.frame = 0;
    }
}

impl<'s> StateI8<'s> {
    /// Wraps a buffer of at least `Model::i8_state_len` elements and zeroes it.
    pub fn new(buf: &'s mut [i8]) -> Self {
        buf.fill(0);
        StateI8 { buf, frame: 0 }
    }
    /// Forgets the past: the next frame is the start of a stream.
    pub fn reset(&mut self) {
        self.buf.fill(0);
        self.frame = 0;
    }
}

impl<'a> Model<'a> {
    /// Validates everything (lengths, CRC, offsets, counts, bit widths, shapes, sizes, and that
    /// the version and flags agree with the contents: FORMAT.md, "What each check protects").
    pub fn parse(blob: &'a [u8]) -> Result<Self, Error> {
        let header = Header::read(blob)?;
        if header.data_start() > blob.len() {
            return Err(Error::Truncated { needed: header.data_start() as u32, got: len32(blob) });
        }
        let (mut regions, mut pairs) = (0u64, false);
        for i in 0..header.n_tensors {
            let t = Tensor::read(blob, &header, i)?;
            regions += t.region_bytes() as u64;
            pairs |= matches!(t.weights, Weights::Packed(pk) if pk.layout != Layout::Rows);
        }
        // The writer writes version 2 only for a blob with row pairs (else 1, which reads the same).
        if header.version == ROW_PAIRS_VERSION && !pairs {
            return Err(Error::VersionMismatch { version: header.version, part: Part::TensorTable });
        }
        let m = Model { blob, header };
        let (sizes, int_bytes) = m.check_graph()?;
        let expect = sizes.header_lens(header.has_int()).ok_or(Error::SizeMismatch)?;
        if expect.iter().zip(header.buffer_lens()).any(|(&e, g)| e != g) {
            return Err(Error::SizeMismatch);
        }
        // Every data byte belongs to a region as the version sizes them (no gap, no trailing bytes).
        let area = blob.len().saturating_sub(header.data_start()) as u64;
        let regions = regions.saturating_add(int_bytes);
        if regions != area {
            let u32_of = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
            return Err(Error::RegionsMismatch { regions: u32_of(regions), area: u32_of(area) });
        }
        Ok(m)
    }

    /// Checks the layers in order against each other, their tensors and their integer constants;
    /// returns the buffers they need and the bytes of their integer constants.
    fn check_graph(&self) -> Result<(BufferSizes, u64), Error> {
        let h = &self.header;
        let mut sizes = BufferSizes::new(usize::from(h.input_len));
        let mut width = usize::from(h.input_len);
        let mut prev_scale = h.input_scale;
        let mut int_bytes = 0u64;
        for i in 0..h.n_layers {
            let p = Part::Layer(i);
            let l = self.layer(i)?;
            if usize::from(l.in_len) != width || (!l.op.has_weights() && l.out_len != l.in_len) {
                return Err(Error::ShapeMismatch(p));
            }
            if l.op.has_weights() {
                self.check_tensors(&l, p)?;
            }
            if h.has_int() {
                if l.op == Op::Relu && l.out_scale != prev_scale {
                    return Err(Error::InvalidField(p));
                }
                if l.op != Op::Relu && (l.int_offset as usize) < h.data_start() {
                    return Err(Error::OutOfBounds(p));
                }
                let block = self.int_block_of(&l, i)?;
                int_bytes += block.len() as u64;
                if l.op.has_weights() {
                    let q = IntParams::read(block, usize::from(l.out_len), h.version, p)?;
                    // Before v4 the constants of a layer without a bias tensor are zero.
                    if h.version < INT_BIAS_VERSION && l.bias == NO_TENSOR && !q.bias.is_zero() {
                        return Err(Error::VersionMismatch { version: h.version, part: p });
                    }
                }
                prev_scale = l.out_scale;
            }
            width = usize::from(l.out_len);
            sizes.add(&l);
        }
        if width != usize::from(h.output_len) {
            return Err(Error::ShapeMismatch(Part::Header));
        }
        Ok((sizes, int_bytes))
    }

    /// A conv1d/linear layer's weight and bias tensors fit its shape (and the integer path).
    fn check_tensors(&self, l: &Layer, p: Part) -> Result<(), Error> {
        let w = self.tensor(l.weight)?;
        if u64::from(w.count) != l.macs() {
            return Err(Error::ShapeMismatch(p));
        }
        if let Weights::Packed(pk) = w.weights {
            let row = u32::from(l.kernel) * u32::from(l.in_len);
            let pairs_ok = match pk.layout {
                Layout::Rows => true,
                Layout::RowPairs { row_len } => u32::from(row_len) == row,
            };
            if l.in_len % pk.group_size != 0 || !pairs_ok {
                return Err(Error::ShapeMismatch(p));
            }
        } else if self.has_int() {
            return Err(Error::Unsupported(p));
        }
        if l.bias != NO_TENSOR {
            let b = self.tensor(l.bias)?;
            if matches!(b.weights, Weights::Packed(_)) || b.count != u32::from(l.out_len) {
                return Err(Error::ShapeMismatch(p));
            }
        }
        Ok(())
    }

    /// The decoded header.
    pub fn header(&self) -> &Header {
        &self.header
    }
    /// The whole blob, as given to [`Model::parse`].
    pub fn bytes(&self) -> &'a [u8] {
        self.blob
    }
    /// Inputs per frame (the features).
    pub fn input_len(&self) -> usize {
        usize::from(self.header.input_len)
    }
    /// Outputs per frame (the mask).
    pub fn output_len(&self) -> usize {
        usize::from(self.header.output_len)
    }
    /// f32 elements of activation arena [`Model::step_f32`] needs.
    pub fn f32_arena_len(&self) -> usize {
        self.header.f32_arena_len as usize
    }
    /// f32 elements of state buffer ([`StateF32`]) the f32 path needs.
    pub fn f32_state_len(&self) -> usize {
        self.header.f32_state_len as usize
    }
    /// i8 elements of activation arena [`Model::step_i8`] needs (0 without integer constants).
    pub fn i8_arena_len(&self) -> usize {
        self.header.i8_arena_len as usize
    }
    /// i8 elements of state buffer ([`StateI8`]) the integer path needs (0 without integer
    /// constants).
    pub fn i8_state_len(&self) -> usize {
        self.header.i8_state_len as usize
    }
    /// Whether the blob carries the integer path's constants ([`Model::step_i8`] runs).
    pub fn has_int(&self) -> bool {
        self.header.has_int()
    }
    /// Integer path: features enter as `round(x / input_scale)`.
    pub fn input_scale(&self) -> f32 {
        self.header.input_scale
    }
    /// Integer path: output `q` means `q · output_scale`.
    pub fn output_scale(&self) -> f32 {
        self.layer(self.header.n_layers.saturating_sub(1)).map_or(0.0, |l| l.out_scale)
    }
    /// Number of layers.
    pub fn n_layers(&self) -> u16 {
        self.header.n_layers
    }
    /// Number of tensors.
    pub fn n_tensors(&self) -> u16 {
        self.header.n_tensors
    }
    /// Layer `i` (0-based, in execution order); an error past the last.
    pub fn layer(&self, i: u16) -> Result<Layer, Error> {
        Layer::read(self.blob, &self.header, i)
    }
    /// Tensor `i`, its values in place; an error past the last.
    pub fn tensor(&self, i: u16) -> Result<Tensor<'a>, Error> {
        Tensor::read(self.blob, &self.header, i)
    }

    /// The bias of weighted layer `i` as the f32 path adds it: its tensor, or from format v4
    /// with integer constants, those constants read as f32 (FORMAT.md); `None` if it has none.
    pub fn bias(&self, i: u16) -> Result<Option<Bias<'a>>, Error> {
        let l = self.layer(i)?;
        self.bias_of(&l, i)
    }

    fn bias_of(&self, l: &Layer, i: u16) -> Result<Option<Bias<'a>>, Error> {
        if l.bias != NO_TENSOR {
            let w = self.weights(l.bias)?;
            return Bias::from_weights(w).map(Some).ok_or(Error::ShapeMismatch(Part::Layer(i)));
        }
        if !(l.op.has_weights() && self.has_int() && self.header.version >= INT_BIAS_VERSION) {
            return Ok(None);
        }
        Ok(self.int_params_of(l, i)?.f32_bias(l.out_scale))
    }

    /// The bytes of layer `i`'s integer constants (empty for a ReLU or a blob without them).
    pub fn int_block(&self, i: u16) -> Result<&'a [u8], Error> {
        let l = self.layer(i)?;
        self.int_block_of(&l, i)
    }

    /// The integer constants of conv1d/linear layer `i`.
    pub fn int_params(&self, i: u16) -> Result<IntParams<'a>, Error> {
        let l = self.layer(i)?;
        self.int_params_of(&l, i)
    }

    fn int_block_of(&self, l: &Layer, i: u16) -> Result<&'a [u8], Error> {
        let len = if self.has_int() { int_block_len(l, self.header.version) } else { 0 };
        crate::bytes::slice(self.blob, l.int_offset as usize, len, Part::Layer(i))
    }

    fn int_params_of(&self, l: &Layer, i: u16) -> Result<IntParams<'a>, Error> {
        let block = self.int_block_of(l, i)?;
        IntParams::read(block, usize::from(l.out_len), self.header.version, Part::Layer(i))
    }

    /// The executor's per-frame lookup: no O(groups) re-validation (done once in `parse`).
    fn weights(&self, i: u16) -> Result<Weights<'a>, Error> {
        Tensor::read_unchecked_groups(self.blob, &self.header, i).map(|t| t.weights)
    }

    /// Multiply-accumulates per frame (weights of conv1d/linear layers).
    pub fn macs_per_frame(&self) -> u64 {
        (0..self.n_layers()).filter_map(|i| self.layer(i).ok()).filter(|l| l.op.has_weights()).map(|l| l.macs()).sum()
    }
}
