//! The graph executor (version 5): nodes in order, each reading its inputs' regions of the
//! planned arena and writing its own ([`super::split`]), streaming state in node order; the
//! ops beyond a chain's call their kernels through [`super::kern`].

use super::kern;
use super::split::split;
use super::step::{fill_taps, frame_mod, F32Path, I8Path, LayerHook, Path};
use super::Model;
use crate::error::Error;
use crate::feature::Feature;
use crate::format::{Node, Op, MAX_INPUTS, MAX_KERNEL};
use crate::kernels::{act, matvec_f32_in, matvec_i8};

impl Model<'_> {
    /// Runs one frame of a node graph. `need`: the arena and state lengths of the path.
    pub(super) fn run_graph<P: GraphPath, H: LayerHook>(
        &self,
        path: &P,
        (state, frame): (&mut [P::T], u64),
        need: (usize, usize),
        arena: &mut [P::T],
        (input, output): (&[P::T], &mut [P::T]),
        hook: &mut H,
    ) -> Result<(), Error> {
        let arena = self.check_io(arena, (input.len(), output.len()), state.len(), need)?;
        arena.get_mut(..input.len()).ok_or(Error::KernelShape)?.copy_from_slice(input);
        let mut state_off = 0usize;
        // The latest value and the node that wrote it: most nodes read the node before them, and
        // the last node's value is the result.
        let mut latest: Option<(u16, Node)> = None;
        for i in 0..self.n_nodes() {
            hook.before_layer(usize::from(i));
            let n = self.node(i)?;
            let ins = self.inputs_of(&n, i)?;
            let mut regions = [(0usize, 0usize); MAX_INPUTS];
            for (r, &v) in regions.iter_mut().zip(ins.as_slice()) {
                *r = self.value_region(v, latest.as_ref())?;
            }
            let regions = regions.get(..ins.len()).ok_or(Error::KernelShape)?;
            let e = regions.first().map_or(0, |r| r.1);
            let state_len = n.state_len(e, P::INT);
            let hist = state.get_mut(state_off..state_off + state_len).ok_or(Error::KernelShape)?;
            state_off += state_len;
            let out = (n.arena_offset as usize, n.out_len() + n.scratch_len());
            let (xs, y) = split(arena, regions, out)?;
            let xs = xs.get(..ins.len()).ok_or(Error::KernelShape)?;
            self.run_node(path, &n, i, xs, (hist, frame), y)?;
            latest = Some((i + 1, n));
        }
        hook.after_layers();
        let (off, len) = self.value_region(self.n_nodes(), latest.as_ref())?;
        let result = arena.get(off..off + len).filter(|r| r.len() == output.len()).ok_or(Error::KernelShape)?;
        output.copy_from_slice(result);
        Ok(())
    }

    /// Value `v`'s arena region: offset and elements. `latest`: the latest value's id and the
    /// node that wrote it (read already this frame: not read again).
    fn value_region(&self, v: u16, latest: Option<&(u16, Node)>) -> Result<(usize, usize), Error> {
        let region = |n: &Node| (n.arena_offset as usize, n.out_len());
        match latest {
            _ if v == 0 => Ok((0, self.input_len())),
            Some((id, n)) if *id == v => Ok(region(n)),
            _ => self.node(v - 1).map(|n| region(&n)),
        }
    }

    /// One node: `xs` its inputs, `hist` its streaming state, `y` its output (and scratch).
    fn run_node<P: GraphPath>(
        &self,
        path: &P,
        n: &Node,
        i: u16,
        xs: &[&[P::T]],
        (hist, frame): (&mut [P::T], u64),
        y: &mut [P::T],
    ) -> Result<(), Error> {
        let x = xs.first().copied().unwrap_or(&[]);
        match n.op {
            Op::Conv1d if n.stride_t > 1 => self.run_strided(path, n, i, x, (hist, frame), y),
            Op::Conv1d if n.groups == 1 => {
                let mut taps: [Option<&[P::T]>; MAX_KERNEL] = [None; MAX_KERNEL];
                let kd = (usize::from(n.kernel_t), usize::from(n.dilation));
                let taps = fill_taps(kd, frame, x, hist, &mut taps)?;
                path.weighted(self, n, i, taps, x.len(), y)
            }
            Op::Linear => path.weighted(self, n, i, &[Some(x)], x.len(), y),
            Op::Relu | Op::Sigmoid | Op::Tanh => path.unary(self, n, i, x, y),
            Op::Add | Op::Mul => path.binary(self, n, i, xs, y),
            Op::Concat => path.concat(self, n, i, xs, y),
            Op::Softmax => path.softmax(x, y),
            Op::Conv1d | Op::Gru | Op::Conv2d | Op::AvgPool | Op::MaxPool => {
                path.streaming_op(self, n, i, x, (hist, frame), y)
            }
        }
    }

    /// A conv1d with a time stride `s`: its input enters the ring every frame; on frames
    /// `t ≡ 0 (mod s)` it computes into its held output (the state after the ring), and every
    /// frame it writes the held output.
    fn run_strided<P: GraphPath>(
        &self,
        path: &P,
        n: &Node,
        i: u16,
        x: &[P::T],
        (hist, frame): (&mut [P::T], u64),
        y: &mut [P::T],
    ) -> Result<(), Error> {
        let ring_len = hist.len().checked_sub(y.len()).ok_or(Error::KernelShape)?;
        let (ring, held) = hist.split_at_mut_checked(ring_len).ok_or(Error::KernelShape)?;
        if frame_mod(frame, n.time_stride()) == 0 {
            let plain = Node { stride_t: 0, ..*n };
            self.run_node(path, &plain, i, &[x], (ring, frame), held)?;
        } else {
            let mut taps: [Option<&[P::T]>; MAX_KERNEL] = [None; MAX_KERNEL];
            fill_taps((usize::from(n.kernel_t), usize::from(n.dilation)), frame, x, ring, &mut taps)?;
        }
        copy(held, y)
    }
}

/// What the graph executor runs on each path, beyond the chain's [`Path`].
pub(super) trait GraphPath: Path {
    /// Whether this is the integer path (state sizes differ for a gru).
    const INT: bool;
    /// conv1d with groups 1 or linear: the product of the taps (each `in_len` long), the bias,
    /// the fused activation.
    fn weighted(
        &self,
        m: &Model<'_>,
        n: &Node,
        i: u16,
        taps: &[Option<&[Self::T]>],
        in_len: usize,
        y: &mut [Self::T],
    ) -> Result<(), Error>;
    /// relu, sigmoid, tanh from `x` to `y`.
    fn unary(&self, m: &Model<'_>, n: &Node, i: u16, x: &[Self::T], y: &mut [Self::T]) -> Result<(), Error>;
    /// add, mul.
    fn binary(&self, m: &Model<'_>, n: &Node, i: u16, xs: &[&[Self::T]], y: &mut [Self::T]) -> Result<(), Error>;
    /// concat.
    fn concat(&self, m: &Model<'_>, n: &Node, i: u16, xs: &[&[Self::T]], y: &mut [Self::T]) -> Result<(), Error>;
    /// softmax (the last node).
    fn softmax(&self, x: &[Self::T], y: &mut [Self::T]) -> Result<(), Error>;
    /// Grouped conv1d, gru, conv2d and the pools (through [`super::kern`]).
    fn streaming_op(
        &self,
        m: &Model<'_>,
        n: &Node,
        i: u16,
        x: &[Self::T],
        state: (&mut [Self::T], u64),
        y: &mut [Self::T],
    ) -> Result<(), Error>;
}

fn copy<T: Copy>(x: &[T], y: &mut [T]) -> Result<(), Error> {
    if x.len() != y.len() {
        return Err(Error::KernelShape);
    }
    y.copy_from_slice(x);
    Ok(())
}

impl GraphPath for F32Path {
    const INT: bool = false;
    fn weighted(
        &self,
        m: &Model<'_>,
        n: &Node,
        i: u16,
        taps: &[Option<&[f32]>],
        in_len: usize,
        y: &mut [f32],
    ) -> Result<(), Error> {
        let w = m.weights(n.weight)?;
        let bias = m.bias_of(n, i)?;
        matvec_f32_in(&w, bias.as_ref(), taps, in_len, y, &mut *self.tables()?)?;
        kern::fused_f32(n.act, y);
        Ok(())
    }
    fn unary(&self, m: &Model<'_>, n: &Node, i: u16, x: &[f32], y: &mut [f32]) -> Result<(), Error> {
        let _ = (m, i);
        copy(x, y)?;
        match n.op {
            Op::Relu => act::relu(y),
            Op::Sigmoid => act::sigmoid(y),
            _ => act::tanh(y),
        }
        Ok(())
    }
    fn binary(&self, _: &Model<'_>, n: &Node, _: u16, xs: &[&[f32]], y: &mut [f32]) -> Result<(), Error> {
        let [a, b] = xs else { return Err(Error::KernelShape) };
        if a.len() != y.len() || b.len() != y.len() {
            return Err(Error::KernelShape);
        }
        if n.op == Op::Mul {
            act::mul(a, b, y);
        } else {
            act::add(a, b, y);
        }
        Ok(())
    }
    fn concat(&self, _: &Model<'_>, _: &Node, _: u16, xs: &[&[f32]], y: &mut [f32]) -> Result<(), Error> {
        let mut at = 0;
        for x in xs {
            copy(x, y.get_mut(at..at + x.len()).ok_or(Error::KernelShape)?)?;
            at += x.len();
        }
        if at == y.len() {
            Ok(())
        } else {
            Err(Error::KernelShape)
        }
    }
    fn softmax(&self, x: &[f32], y: &mut [f32]) -> Result<(), Error> {
        copy(x, y)?;
        crate::kernels::softmax_f32(y);
        Ok(())
    }
    #[cfg_attr(
        not(all(feature = "grouped-conv", feature = "gru", feature = "conv2d", feature = "pool")),
        allow(unused_variables)
    )]
    fn streaming_op(
        &self,
        m: &Model<'_>,
        n: &Node,
        i: u16,
        x: &[f32],
        state: (&mut [f32], u64),
        y: &mut [f32],
    ) -> Result<(), Error> {
        match n.op {
            #[cfg(feature = "grouped-conv")]
            Op::Conv1d => kern::conv1d_grouped_f32(m, n, i, x, state, y),
            #[cfg(feature = "gru")]
            Op::Gru => kern::gru_f32(m, n, i, x, state.0, y, &mut *self.tables()?),
            #[cfg(feature = "conv2d")]
            Op::Conv2d => kern::conv2d_f32(m, n, i, x, state, y),
            #[cfg(feature = "pool")]
            Op::AvgPool | Op::MaxPool => kern::pool_f32(n, i, x, state, y),
            _ => Err(Feature::of_node(n).map_or(Error::KernelShape, Error::MissingFeature)),
        }
    }
}

impl GraphPath for I8Path {
    const INT: bool = true;
    fn weighted(
        &self,
        m: &Model<'_>,
        n: &Node,
        i: u16,
        taps: &[Option<&[i8]>],
        in_len: usize,
        y: &mut [i8],
    ) -> Result<(), Error> {
        let w = m.weights(n.weight)?;
        let params = m.int_params_of(n, i)?;
        matvec_i8(&w, &params, taps, in_len, y)?;
        kern::fused_i8(m, n, i, y)
    }
    fn unary(&self, m: &Model<'_>, n: &Node, i: u16, x: &[i8], y: &mut [i8]) -> Result<(), Error> {
        copy(x, y)?;
        match n.op {
            Op::Relu => act::relu_i8(y),
            _ => act::lut_i8(m.int_block_of(n, i)?, y),
        }
        Ok(())
    }
    fn binary(&self, m: &Model<'_>, n: &Node, i: u16, xs: &[&[i8]], y: &mut [i8]) -> Result<(), Error> {
        if n.op == Op::Mul {
            kern::mul_i8(m, n, i, xs, y)
        } else {
            kern::add_i8(m, n, i, xs, y)
        }
    }
    fn concat(&self, m: &Model<'_>, n: &Node, i: u16, xs: &[&[i8]], y: &mut [i8]) -> Result<(), Error> {
        kern::concat_i8(m, n, i, xs, y)
    }
    fn softmax(&self, x: &[i8], y: &mut [i8]) -> Result<(), Error> {
        // The integer path leaves the scores as they are: the argmax is the same.
        copy(x, y)
    }
    #[cfg_attr(
        not(all(feature = "grouped-conv", feature = "gru", feature = "conv2d", feature = "pool")),
        allow(unused_variables)
    )]
    fn streaming_op(
        &self,
        m: &Model<'_>,
        n: &Node,
        i: u16,
        x: &[i8],
        state: (&mut [i8], u64),
        y: &mut [i8],
    ) -> Result<(), Error> {
        match n.op {
            #[cfg(feature = "grouped-conv")]
            Op::Conv1d => kern::conv1d_grouped_i8(m, n, i, x, state, y),
            #[cfg(feature = "gru")]
            Op::Gru => kern::gru_i8(m, n, i, x, state.0, y),
            #[cfg(feature = "conv2d")]
            Op::Conv2d => kern::conv2d_i8(m, n, i, x, state, y),
            #[cfg(feature = "pool")]
            Op::AvgPool | Op::MaxPool => kern::pool_i8(n, i, x, state, y),
            _ => Err(Feature::of_node(n).map_or(Error::KernelShape, Error::MissingFeature)),
        }
    }
}
