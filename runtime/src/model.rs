//! The validated model view and the frame-by-frame executor.

use crate::bytes::slice;
use crate::error::{Error, Part};
use crate::format::{
    int_block_len, len32, read_layer, read_tensor, read_tensor_fast, Header, Layer, Layout, Op, Tensor, Weights,
    HEADER_LEN, MAX_KERNEL, NO_TENSOR,
};
use crate::kernels::{self, act, IntParams};

const CRC: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

/// CRC-32/ISO-HDLC of `bytes` (the checksum the header stores).
pub fn checksum(bytes: &[u8]) -> u32 {
    CRC.checksum(bytes)
}

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
    /// Forget the past: the next frame is the start of a stream.
    pub fn reset(&mut self) {
        self.buf.fill(0.0);
        self.frame = 0;
    }
}

impl<'s> StateI8<'s> {
    pub fn new(buf: &'s mut [i8]) -> Self {
        buf.fill(0);
        StateI8 { buf, frame: 0 }
    }
    pub fn reset(&mut self) {
        self.buf.fill(0);
        self.frame = 0;
    }
}

struct Sizes {
    max_width: usize,
    state: usize,
}

impl<'a> Model<'a> {
    /// Validates everything (lengths, offsets, counts, bit widths, CRC, shapes, sizes).
    pub fn parse(blob: &'a [u8]) -> Result<Self, Error> {
        let header = Header::read(blob)?;
        if header.total_len != len32(blob) {
            return Err(Error::LengthMismatch { header: header.total_len, actual: len32(blob) });
        }
        let body = slice(blob, 16, blob.len().saturating_sub(16), Part::Header)?;
        let computed = checksum(body);
        if computed != header.crc32 {
            return Err(Error::Checksum { stored: header.crc32, computed });
        }
        if header.data_start() > blob.len() {
            return Err(Error::Truncated { needed: header.data_start() as u32, got: len32(blob) });
        }
        for i in 0..header.n_tensors {
            read_tensor(blob, &header, i)?;
        }
        let m = Model { blob, header };
        let sizes = m.check_graph()?;
        let int = header.has_int();
        let expect = [
            2 * sizes.max_width,
            sizes.state,
            if int { 2 * sizes.max_width } else { 0 },
            if int { sizes.state } else { 0 },
        ];
        let got = [header.f32_arena_len, header.f32_state_len, header.i8_arena_len, header.i8_state_len];
        if expect.iter().zip(got).any(|(&e, g)| e != g as usize) {
            return Err(Error::SizeMismatch);
        }
        Ok(m)
    }

    fn check_graph(&self) -> Result<Sizes, Error> {
        let h = &self.header;
        let mut width = usize::from(h.input_len);
        let mut sizes = Sizes { max_width: width, state: 0 };
        let mut prev_scale = h.input_scale;
        for i in 0..h.n_layers {
            let p = Part::Layer(i);
            let l = read_layer(self.blob, h, i)?;
            if usize::from(l.in_len) != width || (!l.op.has_weights() && l.out_len != l.in_len) {
                return Err(Error::ShapeMismatch(p));
            }
            if l.op.has_weights() {
                let w = self.tensor(l.weight)?;
                let need = u64::from(l.out_len) * u64::from(l.kernel) * u64::from(l.in_len);
                if u64::from(w.count) != need {
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
                } else if h.has_int() {
                    return Err(Error::Unsupported(p));
                }
                if l.bias != NO_TENSOR {
                    let b = self.tensor(l.bias)?;
                    if matches!(b.weights, Weights::Packed(_)) || b.count != u32::from(l.out_len) {
                        return Err(Error::ShapeMismatch(p));
                    }
                }
            }
            if h.has_int() {
                if l.op == Op::Relu && l.out_scale != prev_scale {
                    return Err(Error::InvalidField(p));
                }
                if l.op != Op::Relu {
                    if (l.int_offset as usize) < h.data_start() {
                        return Err(Error::OutOfBounds(p));
                    }
                    let block = slice(self.blob, l.int_offset as usize, int_block_len(&l, h.version), p)?;
                    if l.op.has_weights() {
                        IntParams::read(block, usize::from(l.out_len), h.version, p)?;
                    }
                }
                prev_scale = l.out_scale;
            }
            width = usize::from(l.out_len);
            sizes.max_width = sizes.max_width.max(width);
            sizes.state = sizes.state.saturating_add(l.state_len()); // no wrap on 32-bit targets
        }
        if width != usize::from(h.output_len) {
            return Err(Error::ShapeMismatch(Part::Header));
        }
        Ok(sizes)
    }

    pub fn header(&self) -> &Header {
        &self.header
    }
    pub fn bytes(&self) -> &'a [u8] {
        self.blob
    }
    pub fn input_len(&self) -> usize {
        usize::from(self.header.input_len)
    }
    pub fn output_len(&self) -> usize {
        usize::from(self.header.output_len)
    }
    pub fn f32_arena_len(&self) -> usize {
        self.header.f32_arena_len as usize
    }
    pub fn f32_state_len(&self) -> usize {
        self.header.f32_state_len as usize
    }
    pub fn i8_arena_len(&self) -> usize {
        self.header.i8_arena_len as usize
    }
    pub fn i8_state_len(&self) -> usize {
        self.header.i8_state_len as usize
    }
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
    pub fn n_layers(&self) -> u16 {
        self.header.n_layers
    }
    pub fn n_tensors(&self) -> u16 {
        self.header.n_tensors
    }
    pub fn layer(&self, i: u16) -> Result<Layer, Error> {
        read_layer(self.blob, &self.header, i)
    }
    pub fn tensor(&self, i: u16) -> Result<Tensor<'a>, Error> {
        read_tensor(self.blob, &self.header, i)
    }

    /// The bias of weighted layer `i` as the f32 path adds it: its tensor, or from format v4
    /// with integer constants, those constants read as f32 (FORMAT.md); `None` if it has none.
    pub fn bias(&self, i: u16) -> Result<Option<Weights<'a>>, Error> {
        let l = self.layer(i)?;
        self.layer_bias(&l, i)
    }

    fn layer_bias(&self, l: &Layer, i: u16) -> Result<Option<Weights<'a>>, Error> {
        if l.bias != NO_TENSOR {
            return self.weights(l.bias).map(Some);
        }
        if !(l.op.has_weights() && self.has_int() && self.header.version >= 4) {
            return Ok(None);
        }
        let p = IntParams::read(self.int_block(l, i)?, usize::from(l.out_len), self.header.version, Part::Layer(i))?;
        Ok(p.f32_bias(l.out_scale))
    }

    /// The executor's per-frame lookup: no O(groups) re-validation (done once in `parse`).
    fn weights(&self, i: u16) -> Result<Weights<'a>, Error> {
        read_tensor_fast(self.blob, &self.header, i).map(|t| t.weights)
    }
    /// Multiply-accumulates per frame (weights of conv1d/linear layers).
    pub fn macs_per_frame(&self) -> u64 {
        (0..self.n_layers())
            .filter_map(|i| self.layer(i).ok())
            .filter(|l| l.op.has_weights())
            .map(|l| u64::from(l.out_len) * u64::from(l.kernel) * u64::from(l.in_len))
            .sum()
    }

    fn int_block(&self, l: &Layer, i: u16) -> Result<&'a [u8], Error> {
        slice(self.blob, l.int_offset as usize, int_block_len(l, self.header.version), Part::Layer(i))
    }

    /// Runs one frame on the f32 path. `arena` ≥ `f32_arena_len`, `state` from `StateF32::new`.
    pub fn step_f32(
        &self,
        state: &mut StateF32<'_>,
        arena: &mut [f32],
        input: &[f32],
        output: &mut [f32],
    ) -> Result<(), Error> {
        let need = (self.f32_arena_len(), self.f32_state_len());
        self.run(&F32Path, state.buf, state.frame, need, arena, input, output)?;
        state.frame += 1;
        Ok(())
    }

    /// Runs one frame on the integer path (int8 activations, no floating point at all).
    pub fn step_i8(
        &self,
        state: &mut StateI8<'_>,
        arena: &mut [i8],
        input: &[i8],
        output: &mut [i8],
    ) -> Result<(), Error> {
        if !self.has_int() {
            return Err(Error::NoIntegerPath);
        }
        let need = (self.i8_arena_len(), self.i8_state_len());
        self.run(&I8Path, state.buf, state.frame, need, arena, input, output)?;
        state.frame += 1;
        Ok(())
    }

    /// The executor: layers in order, ping-ponging between the two halves of the arena.
    #[allow(clippy::too_many_arguments)]
    fn run<P: Path>(
        &self,
        path: &P,
        state: &mut [P::T],
        frame: u64,
        need: (usize, usize),
        arena: &mut [P::T],
        input: &[P::T],
        output: &mut [P::T],
    ) -> Result<(), Error> {
        let (a, b) = self.split_io(arena, input.len(), output.len(), state.len(), need.0, need.1)?;
        a.get_mut(..input.len()).ok_or(Error::KernelShape)?.copy_from_slice(input);
        let (mut cur, mut next) = (a, b);
        let mut state_off = 0usize;
        for i in 0..self.n_layers() {
            let l = self.layer(i)?;
            let (n_in, n_out) = (usize::from(l.in_len), usize::from(l.out_len));
            if !l.op.has_weights() {
                path.elementwise(self, &l, i, cur.get_mut(..n_in).ok_or(Error::KernelShape)?)?;
                continue;
            }
            let x = cur.get(..n_in).ok_or(Error::KernelShape)?;
            let y = next.get_mut(..n_out).ok_or(Error::KernelShape)?;
            let hist = state.get_mut(state_off..state_off + l.state_len()).ok_or(Error::KernelShape)?;
            state_off += l.state_len();
            let mut taps: [Option<&[P::T]>; MAX_KERNEL] = [None; MAX_KERNEL];
            let taps = fill_taps(&l, frame, x, hist, &mut taps)?;
            path.matvec(self, &l, i, taps, y)?;
            core::mem::swap(&mut cur, &mut next);
        }
        output.copy_from_slice(cur.get(..output.len()).ok_or(Error::KernelShape)?);
        Ok(())
    }

    /// Checks caller buffers and splits the arena into two ping-pong halves.
    fn split_io<'b, T>(
        &self,
        arena: &'b mut [T],
        n_in: usize,
        n_out: usize,
        state_len: usize,
        need_arena: usize,
        need_state: usize,
    ) -> Result<(&'b mut [T], &'b mut [T]), Error> {
        if n_in != self.input_len() {
            return Err(Error::BadIoLength { expected: self.input_len() as u32, got: n_in as u32 });
        }
        if n_out != self.output_len() {
            return Err(Error::BadIoLength { expected: self.output_len() as u32, got: n_out as u32 });
        }
        if arena.len() < need_arena {
            return Err(Error::ArenaTooSmall { needed: need_arena as u32, got: len32_of(arena.len()) });
        }
        if state_len < need_state {
            return Err(Error::StateTooSmall { needed: need_state as u32, got: len32_of(state_len) });
        }
        let arena = arena.get_mut(..need_arena).ok_or(Error::KernelShape)?;
        Ok(arena.split_at_mut(need_arena / 2))
    }
}

/// What differs between the f32 and the integer path: the element type and the kernels.
trait Path {
    type T: Copy;
    fn elementwise(&self, m: &Model<'_>, l: &Layer, i: u16, x: &mut [Self::T]) -> Result<(), Error>;
    fn matvec(
        &self,
        m: &Model<'_>,
        l: &Layer,
        i: u16,
        taps: &[Option<&[Self::T]>],
        y: &mut [Self::T],
    ) -> Result<(), Error>;
}

struct F32Path;
struct I8Path;

impl Path for F32Path {
    type T = f32;
    fn elementwise(&self, _: &Model<'_>, l: &Layer, _: u16, x: &mut [f32]) -> Result<(), Error> {
        match l.op {
            Op::Relu => act::relu(x),
            Op::Sigmoid => act::sigmoid(x),
            Op::Tanh => act::tanh(x),
            Op::Conv1d | Op::Linear => return Err(Error::KernelShape),
        }
        Ok(())
    }
    fn matvec(&self, m: &Model<'_>, l: &Layer, i: u16, taps: &[Option<&[f32]>], y: &mut [f32]) -> Result<(), Error> {
        let w = m.weights(l.weight)?;
        let bias = m.layer_bias(l, i)?;
        kernels::matvec_f32(&w, bias.as_ref(), taps, usize::from(l.in_len), y)
    }
}

impl Path for I8Path {
    type T = i8;
    fn elementwise(&self, m: &Model<'_>, l: &Layer, i: u16, x: &mut [i8]) -> Result<(), Error> {
        match l.op {
            Op::Relu => act::relu_i8(x),
            Op::Sigmoid | Op::Tanh => act::lut_i8(m.int_block(l, i)?, x),
            Op::Conv1d | Op::Linear => return Err(Error::KernelShape),
        }
        Ok(())
    }
    fn matvec(&self, m: &Model<'_>, l: &Layer, i: u16, taps: &[Option<&[i8]>], y: &mut [i8]) -> Result<(), Error> {
        let w = m.weights(l.weight)?;
        let params = IntParams::read(m.int_block(l, i)?, usize::from(l.out_len), m.header().version, Part::Layer(i))?;
        kernels::matvec_i8(&w, &params, taps, usize::from(l.in_len), y)
    }
}

fn len32_of(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Stores the current frame in the layer's ring of `history + 1` frames and points each tap at
/// the frame it reads: tap `j` sees frame `t − (kernel − 1 − j)·dilation`.
fn fill_taps<'t, T: Copy>(
    l: &Layer,
    frame: u64,
    x: &'t [T],
    hist: &'t mut [T],
    taps: &'t mut [Option<&'t [T]>; MAX_KERNEL],
) -> Result<&'t [Option<&'t [T]>], Error> {
    let k = usize::from(l.kernel);
    if l.state_len() == 0 {
        if let Some(t) = taps.get_mut(0) {
            *t = Some(x);
        }
        return taps.get(..1).ok_or(Error::KernelShape);
    }
    let n = x.len();
    let ring = (l.history() + 1) as u64;
    let slot = (frame % ring) as usize;
    hist.get_mut(slot * n..(slot + 1) * n).ok_or(Error::KernelShape)?.copy_from_slice(x);
    let hist: &'t [T] = hist;
    for (j, tap) in taps.iter_mut().take(k).enumerate() {
        let back = ((k - 1 - j) * usize::from(l.dilation)) as u64;
        let s = ((frame % ring + ring - back) % ring) as usize;
        *tap = hist.get(s * n..(s + 1) * n);
    }
    taps.get(..k).ok_or(Error::KernelShape)
}

#[allow(dead_code)]
const _: () = assert!(HEADER_LEN == 64);
