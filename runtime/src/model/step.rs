//! The frame-by-frame executor: layers in order, activations ping-ponging between the two
//! halves of a caller-provided arena, conv histories in a caller-provided state ring.

use super::{Model, StateF32, StateI8};
use crate::error::Error;
use crate::format::{Layer, Op, MAX_KERNEL};
use crate::kernels::{act, matvec_f32_in, matvec_i8, Tables};
use core::cell::{RefCell, RefMut};

/// Told by the executor where each layer of a frame starts and where the last one ends: how a
/// benchmark attributes a frame's cost to layers. `()` does nothing (and costs nothing).
pub trait LayerHook {
    /// Before layer `index` (every layer, weighted or not).
    fn before_layer(&mut self, index: usize);
    /// After the last layer, before the output is copied out.
    fn after_layers(&mut self);
}

impl LayerHook for () {
    #[inline(always)]
    fn before_layer(&mut self, _index: usize) {}
    #[inline(always)]
    fn after_layers(&mut self) {}
}

impl Model<'_> {
    /// Runs one frame on the f32 path. `arena` ≥ `f32_arena_len`, `state` from `StateF32::new`.
    pub fn step_f32(
        &self,
        state: &mut StateF32<'_>,
        arena: &mut [f32],
        input: &[f32],
        output: &mut [f32],
    ) -> Result<(), Error> {
        let need = (self.f32_arena_len(), self.f32_state_len());
        if self.is_graph() {
            self.run_graph(&F32Path::new(), (state.buf, state.frame), need, arena, (input, output), &mut ())?;
        } else {
            self.run(&F32Path::new(), (state.buf, state.frame), need, arena, (input, output), &mut ())?;
        }
        state.frame += 1;
        Ok(())
    }

    /// [`step_f32`](Self::step_f32), telling `hook` where each layer starts. The plain calls do not
    /// delegate to the `_with` ones: the extra call level changed LLVM's inlining in the M4
    /// firmware (+1.2 KB of flash, the kernel dispatch inlined into `main`), measured.
    pub fn step_f32_with<H: LayerHook>(
        &self,
        state: &mut StateF32<'_>,
        arena: &mut [f32],
        input: &[f32],
        output: &mut [f32],
        hook: &mut H,
    ) -> Result<(), Error> {
        let need = (self.f32_arena_len(), self.f32_state_len());
        if self.is_graph() {
            self.run_graph(&F32Path::new(), (state.buf, state.frame), need, arena, (input, output), hook)?;
        } else {
            self.run(&F32Path::new(), (state.buf, state.frame), need, arena, (input, output), hook)?;
        }
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
        if self.is_graph() {
            self.run_graph(&I8Path, (state.buf, state.frame), need, arena, (input, output), &mut ())?;
        } else {
            self.run(&I8Path, (state.buf, state.frame), need, arena, (input, output), &mut ())?;
        }
        state.frame += 1;
        Ok(())
    }

    /// [`step_i8`](Self::step_i8), telling `hook` where each layer starts.
    pub fn step_i8_with<H: LayerHook>(
        &self,
        state: &mut StateI8<'_>,
        arena: &mut [i8],
        input: &[i8],
        output: &mut [i8],
        hook: &mut H,
    ) -> Result<(), Error> {
        if !self.has_int() {
            return Err(Error::NoIntegerPath);
        }
        let need = (self.i8_arena_len(), self.i8_state_len());
        if self.is_graph() {
            self.run_graph(&I8Path, (state.buf, state.frame), need, arena, (input, output), hook)?;
        } else {
            self.run(&I8Path, (state.buf, state.frame), need, arena, (input, output), hook)?;
        }
        state.frame += 1;
        Ok(())
    }

    /// The chain executor (versions 1–4): layers in order, ping-ponging between the two halves
    /// of the arena, element-wise layers in place. A loop of its own, apart from the graph
    /// executor, so that the default model's per-frame code stays as measured.
    fn run<P: Path, H: LayerHook>(
        &self,
        path: &P,
        (state, frame): (&mut [P::T], u64),
        need: (usize, usize),
        arena: &mut [P::T],
        (input, output): (&[P::T], &mut [P::T]),
        hook: &mut H,
    ) -> Result<(), Error> {
        let (a, b) = self.split_io(arena, input.len(), output.len(), state.len(), need.0, need.1)?;
        a.get_mut(..input.len()).ok_or(Error::KernelShape)?.copy_from_slice(input);
        let (mut cur, mut next) = (a, b);
        let mut state_off = 0usize;
        for i in 0..self.n_layers() {
            hook.before_layer(usize::from(i));
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
            let taps = fill_taps((usize::from(l.kernel), usize::from(l.dilation)), frame, x, hist, &mut taps)?;
            path.matvec(self, &l, i, taps, y)?;
            core::mem::swap(&mut cur, &mut next);
        }
        hook.after_layers();
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
        let arena = self.check_io(arena, (n_in, n_out), state_len, (need_arena, need_state))?;
        Ok(arena.split_at_mut(need_arena / 2))
    }

    /// Checks the caller's input and output lengths and buffer sizes; returns the arena the
    /// model uses.
    pub(super) fn check_io<'b, T>(
        &self,
        arena: &'b mut [T],
        (n_in, n_out): (usize, usize),
        state_len: usize,
        (need_arena, need_state): (usize, usize),
    ) -> Result<&'b mut [T], Error> {
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
        arena.get_mut(..need_arena).ok_or(Error::KernelShape)
    }
}

/// What differs between the f32 and the integer path: the element type and the kernels.
pub(super) trait Path {
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

/// The f32 path's kernels, with the room for a table of sums that the products of one step
/// share (cleared once per step, at its first use).
pub(super) struct F32Path {
    tables: RefCell<Tables>,
}

impl F32Path {
    pub(super) const fn new() -> Self {
        Self { tables: RefCell::new(Tables::new()) }
    }

    /// The step's table room (one kernel at a time holds it).
    pub(super) fn tables(&self) -> Result<RefMut<'_, Tables>, Error> {
        self.tables.try_borrow_mut().map_err(|_| Error::KernelShape)
    }
}

/// The integer path's kernels.
pub(super) struct I8Path;

impl Path for F32Path {
    type T = f32;
    fn elementwise(&self, _: &Model<'_>, l: &Layer, _: u16, x: &mut [f32]) -> Result<(), Error> {
        match l.op {
            Op::Relu => act::relu(x),
            Op::Sigmoid => act::sigmoid(x),
            Op::Tanh => act::tanh(x),
            _ => return Err(Error::KernelShape),
        }
        Ok(())
    }
    fn matvec(&self, m: &Model<'_>, l: &Layer, i: u16, taps: &[Option<&[f32]>], y: &mut [f32]) -> Result<(), Error> {
        let w = m.weights(l.weight)?;
        let bias = m.layer_bias(l, i)?;
        matvec_f32_in(&w, bias.as_ref(), taps, usize::from(l.in_len), y, &mut *self.tables()?)
    }
}

impl Path for I8Path {
    type T = i8;
    fn elementwise(&self, m: &Model<'_>, l: &Layer, i: u16, x: &mut [i8]) -> Result<(), Error> {
        match l.op {
            Op::Relu => act::relu_i8(x),
            Op::Sigmoid | Op::Tanh => act::lut_i8(m.layer_int_block(l, i)?, x),
            _ => return Err(Error::KernelShape),
        }
        Ok(())
    }
    fn matvec(&self, m: &Model<'_>, l: &Layer, i: u16, taps: &[Option<&[i8]>], y: &mut [i8]) -> Result<(), Error> {
        let w = m.weights(l.weight)?;
        let params = m.layer_int_params(l, i)?;
        matvec_i8(&w, &params, taps, usize::from(l.in_len), y)
    }
}

fn len32_of(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// `frame mod m` (`m ≥ 1`; the format's kernel, dilation, pool and stride limits keep every ring
/// below 2^12 frames) in 32-bit arithmetic: `hi·2^32 + lo ≡ (hi mod m)·(2^32 mod m) + lo`, each
/// factor below 2^16; one remainder while the frame count fits 32 bits (2.2 years of 16 ms hops).
/// A 64-bit remainder would link the 64-bit division routine (about 0.9 KB of Armv7-M flash) and
/// cost ~100 cycles per node and frame.
pub(super) fn frame_mod(frame: u64, m: u16) -> usize {
    let m = u32::from(m.max(1));
    let (hi, lo) = ((frame >> 32) as u32, frame as u32);
    if hi == 0 {
        return (lo % m) as usize;
    }
    let p = (u32::MAX % m + 1) % m;
    (((hi % m) * p % m + lo % m) % m) as usize
}

/// Stores the current frame in the ring of `history + 1` frames of a conv with `(kernel,
/// dilation)` and points each tap at the frame it reads: tap `j` sees frame
/// `t − (kernel − 1 − j)·dilation`. A kernel of 1 has no ring: its tap is `x`.
pub(super) fn fill_taps<'t, T: Copy>(
    (k, dilation): (usize, usize),
    frame: u64,
    x: &'t [T],
    hist: &'t mut [T],
    taps: &'t mut [Option<&'t [T]>; MAX_KERNEL],
) -> Result<&'t [Option<&'t [T]>], Error> {
    if k <= 1 {
        if let Some(t) = taps.get_mut(0) {
            *t = Some(x);
        }
        return taps.get(..1).ok_or(Error::KernelShape);
    }
    let n = x.len();
    let ring = (k - 1) * dilation + 1;
    let slot = frame_mod(frame, u16::try_from(ring).map_err(|_| Error::KernelShape)?);
    hist.get_mut(slot * n..(slot + 1) * n).ok_or(Error::KernelShape)?.copy_from_slice(x);
    let hist: &'t [T] = hist;
    for (j, tap) in taps.iter_mut().take(k).enumerate() {
        let back = (k - 1 - j) * dilation;
        let s = (slot + ring - back) % ring;
        *tap = hist.get(s * n..(s + 1) * n);
    }
    taps.get(..k).ok_or(Error::KernelShape)
}

#[cfg(test)]
mod tests {
    use super::frame_mod;

    /// The 32-bit remainder equals the 64-bit one, frames past 2^32 and the largest divisor
    /// included.
    #[test]
    fn frame_mod_is_the_64_bit_remainder() {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let frames = [0, 1, u64::from(u32::MAX), 1 << 32, (1 << 32) + 5, u64::MAX - 1, u64::MAX];
        for m in [1u16, 2, 3, 7, 64, 255, 3841, 4096, 40_000, u16::MAX] {
            for f in frames.into_iter().chain((0..200).map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x
            })) {
                assert_eq!(frame_mod(f, m) as u64, f % u64::from(m), "frame {f} mod {m}");
            }
        }
        assert_eq!(frame_mod(12, 0), 0, "m = 0 reads as 1");
    }
}
