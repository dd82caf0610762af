//! The op zoo: one small format-v5 denoiser with random weights whose graph uses every op of
//! the format (FORMAT.md, "Ops") on both paths, so that the host-vs-QEMU test
//! (`tests/zoo.rs`) runs each op's kernels on every target. Its integer scales are calibrated
//! on the demo clip with the runtime's own f32 path.
//!
//! Input: 32 log-mel bands as one channel of 32 rows. Nodes (value `i + 1` is node `i`'s):
//!
//! | node | op | reads | shape |
//! |---|---|---|---|
//! | 0 | conv2d, 2 × 3 taps, stride 2, fused relu | input | 4 × 16 |
//! | 1 | maxpool, 3 frames (a 2-d value) | 1 | 4 × 16 |
//! | 2 | linear 64 → 16, fused tanh | 2 | 16 |
//! | 3 | conv1d depthwise, 3 taps, dilation 2 | 3 | 16 |
//! | 4 | relu | 4 | 16 |
//! | 5 | gru, 16 units | 5 | 16 |
//! | 6 | conv1d, 4 groups, 2 taps, fused relu | 5 | 16 |
//! | 7 | conv1d, 3 taps, dilation 2, fused sigmoid | 7 | 16 |
//! | 8 | add (residual) | 8, 5 | 16 |
//! | 9 | concat | 6, 9 | 32 |
//! | 10 | linear 32 → 32 (row pairs) | 10 | 32 |
//! | 11 | sigmoid (the gate) | 11 | 32 |
//! | 12 | mul (gating) | 10, 12 | 32 |
//! | 13 | avgpool, 4 frames | 13 | 32 |
//! | 14 | tanh | 14 | 32 |
//! | 15 | linear 32 → 32 (fixed 4 bits) | 15 | 32 |
//! | 16 | softmax: the band gains | 16 | 32 |
//!
//! The format allows a softmax as the last node of any model; here its outputs are the band
//! gains (on the f32 path they sum to 1 over the bands; the integer path passes the logits on,
//! FORMAT.md). Weights are packed (2..=6 bits per group, one tensor in row pairs, one at a fixed
//! 4 bits), biases f32 (stored as the integer path's constants), the filterbank f16.

use crate::repo_root;
use anyhow::{anyhow, Context, Result};
use audio_tools::read_i16;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use runtime::dsp::{self, Analyzer, Complex32, FilterBank, BINS, HOP, SAMPLE_RATE};
use runtime::format::{Features, FrontEnd, Layout, Output};
use runtime::writer::{ConvSpec, GraphCalibration, GraphWriter, TensorId, ValueId, WriteError};
use runtime::{Act, Model, Op, StateF32};

/// Log-mel bands in, one gain per band out.
const BANDS: usize = 32;
/// The weights' seed.
const SEED: u64 = 0x200;

/// The zoo's front end: 8 kHz, 32 log-mel bands in and band gains out (`output`: scores for the
/// calibration prefixes, whose outputs are not gains).
fn front_end(output: Output) -> FrontEnd {
    FrontEnd { features: Features::LogMel, n_bands: BANDS as u16, output, ..FrontEnd::DEFAULT }
}

/// A packed tensor's layout, fixed bit width (else 2..=6 per group) and weight range
/// (`±gain/√fan_in`).
pub(crate) type Tensor = (Layout, Option<u8>, f32);
/// Rows, 2..=6 bits, gain 1.5.
pub(crate) const ROWS: Tensor = (Layout::Rows, None, 1.5);

/// Why the graph stopped before its end.
pub(crate) enum Stop {
    /// The node limit was reached: the graph so far is a calibration prefix.
    Full,
    /// The writer refused a node.
    Write(WriteError),
}

impl From<WriteError> for Stop {
    fn from(e: WriteError) -> Stop {
        Stop::Write(e)
    }
}

/// A graph written node by node (the zoo's, the classifier's in `crate::classifier`).
pub(crate) type Graph = fn(&mut Builder) -> Result<(), Stop>;

/// Writes a graph on the zoo's front end (32 log-mel bands at 8 kHz, one channel of 32 rows),
/// at most `limit` nodes of it, with random weights from the zoo's seed.
pub(crate) struct Builder {
    pub(crate) w: GraphWriter,
    rng: StdRng,
    limit: usize,
    /// Op and fused activation of each node written.
    nodes: Vec<(Op, Act)>,
}

impl Builder {
    fn new(limit: usize, output: Output) -> Result<Builder> {
        let mut w = GraphWriter::new_2d(front_end(output));
        let fb = w.f16_tensor(&dsp::mel_filterbank(SAMPLE_RATE, BANDS))?;
        w.filterbank(fb);
        Ok(Builder { w, rng: StdRng::seed_from_u64(SEED), limit, nodes: Vec::new() })
    }

    /// Room for one more node, which will be `op` with `act`; the last node of a prefix gets no
    /// fused activation (its output is then the value before it, which calibration measures).
    pub(crate) fn room(&mut self, op: Op, act: Act) -> Result<Act, Stop> {
        if self.nodes.len() >= self.limit {
            return Err(Stop::Full);
        }
        self.nodes.push((op, act));
        Ok(if self.nodes.len() == self.limit { Act::None } else { act })
    }

    /// Random DiffQ levels (groups of 2..=6 bits, or `fixed` bits) of a tensor of `count` values
    /// over `±gain/√fan_in`, in `layout`.
    pub(crate) fn packed(
        &mut self,
        count: usize,
        gs: usize,
        fan_in: usize,
        (layout, fixed, gain): Tensor,
    ) -> Result<TensorId, WriteError> {
        let bits: Vec<u8> = (0..count / gs).map(|_| fixed.unwrap_or_else(|| self.rng.random_range(2..=6))).collect();
        let mut levels = Vec::with_capacity(count);
        for &b in &bits {
            levels.extend((0..gs).map(|_| self.rng.random_range(0..(1u32 << b)) as u16));
        }
        let a = gain / (fan_in as f32).sqrt();
        let range = (-a * self.rng.random_range(0.5..1.0), a * self.rng.random_range(0.5..1.0));
        self.w.packed_tensor_in(layout, &levels, &bits, gs, range)
    }

    /// Random biases in ±0.3.
    pub(crate) fn bias(&mut self, n: usize) -> Result<TensorId, WriteError> {
        let b: Vec<f32> = (0..n).map(|_| self.rng.random_range(-0.3..0.3)).collect();
        self.w.f32_tensor(&b)
    }

    /// A conv1d of `spec` on `x` (`c` channels), weights in rows of `gs`.
    fn conv1d(&mut self, x: ValueId, c: usize, spec: ConvSpec, gs: usize) -> Result<ValueId, Stop> {
        let act = self.room(Op::Conv1d, spec.act)?;
        let cg = c / spec.groups;
        let w = self.packed(spec.out_c * spec.kernel * cg, gs, spec.kernel * cg, ROWS)?;
        let b = self.bias(spec.out_c)?;
        Ok(self.w.conv1d(x, w, Some(b), ConvSpec { act, ..spec })?)
    }

    /// A linear layer `e → out` on `x`.
    pub(crate) fn linear(
        &mut self,
        x: ValueId,
        (e, out): (usize, usize),
        act: Act,
        tensor: Tensor,
    ) -> Result<ValueId, Stop> {
        let act = self.room(Op::Linear, act)?;
        let w = self.packed(out * e, 16, e, tensor)?;
        let b = self.bias(out)?;
        Ok(self.w.linear(x, w, Some(b), out, act)?)
    }

    /// An op without weights: `f` writes it.
    pub(crate) fn plain(
        &mut self,
        op: Op,
        f: impl FnOnce(&mut GraphWriter) -> Result<ValueId, WriteError>,
    ) -> Result<ValueId, Stop> {
        self.room(op, Act::None)?;
        Ok(f(&mut self.w)?)
    }
}

/// The graph, node by node (module doc), until `b`'s limit.
fn graph(b: &mut Builder) -> Result<(), Stop> {
    let conv = |out_c, kernel, dilation, groups, act| ConvSpec { out_c, kernel, dilation, groups, act };
    let x = b.w.input();
    let act = b.room(Op::Conv2d, Act::Relu)?;
    let (w, bias) = (b.packed(4 * 2 * 3, 8, 2 * 3, ROWS)?, b.bias(4)?);
    let v1 = b.w.conv2d(x, (w, Some(bias)), conv(4, 2, 1, 1, act), (3, 2))?;
    let v2 = b.plain(Op::MaxPool, |w| w.maxpool(v1, 3))?;
    let v3 = b.linear(v2, (64, 16), Act::Tanh, ROWS)?;
    let v4 = b.conv1d(v3, 16, conv(16, 3, 2, 16, Act::None), 8)?;
    let v5 = b.plain(Op::Relu, |w| w.relu(v4))?;
    b.room(Op::Gru, Act::None)?;
    let (wx, wh) = (b.packed(48 * 16, 16, 16, ROWS)?, b.packed(48 * 16, 16, 16, ROWS)?);
    let (bx, bh) = (b.bias(48)?, b.bias(48)?);
    let v6 = b.w.gru(v5, (wx, wh), (Some(bx), Some(bh)), 16)?;
    let v7 = b.conv1d(v5, 16, conv(16, 2, 1, 4, Act::Relu), 16)?;
    let v8 = b.conv1d(v7, 16, conv(16, 3, 2, 1, Act::Sigmoid), 16)?;
    let v9 = b.plain(Op::Add, |w| w.add(v8, v5))?;
    let v10 = b.plain(Op::Concat, |w| w.concat(&[v6, v9]))?;
    let v11 = b.linear(v10, (32, 32), Act::None, (Layout::RowPairs { row_len: 32, lanes: false }, None, 1.5))?;
    let v12 = b.plain(Op::Sigmoid, |w| w.sigmoid(v11))?;
    let v13 = b.plain(Op::Mul, |w| w.mul(v10, v12))?;
    let v14 = b.plain(Op::AvgPool, |w| w.avgpool(v13, 4))?;
    let v15 = b.plain(Op::Tanh, |w| w.tanh(v14))?;
    let v16 = b.linear(v15, (32, 32), Act::None, (Layout::Rows, Some(4), 6.0))?;
    b.plain(Op::Softmax, |w| w.softmax(v16))?;
    Ok(())
}

/// The first `limit` nodes of `graph` (all of it for `usize::MAX`).
fn build(graph: Graph, limit: usize, output: Output) -> Result<Builder> {
    let mut b = Builder::new(limit, output)?;
    match graph(&mut b) {
        Ok(()) | Err(Stop::Full) => Ok(b),
        Err(Stop::Write(e)) => Err(anyhow!("the graph, node {}: {e}", b.nodes.len() - 1)),
    }
}

/// The demo clip's features (log-mel with `m`'s filterbank, the f32 front end), one frame per hop.
fn clip_features(m: &Model<'_>) -> Result<Vec<Vec<f32>>> {
    let pcm = read_i16(&repo_root().join("data/clip/noisy.wav"), SAMPLE_RATE)?;
    let fb = m.front_end().and_then(|f| f.filterbank.ok_or(runtime::Error::InvalidField(runtime::Part::FrontEnd)));
    let fb = fb.and_then(|t| FilterBank::new(m.tensor(t)?.weights, BANDS)).map_err(|e| anyhow!("filterbank: {e}"))?;
    let (mut analyzer, mut spec) = (Analyzer::new(), [Complex32::new(0.0, 0.0); BINS]);
    let mut frames = Vec::new();
    for hop in pcm.chunks_exact(HOP) {
        let mut x = [0.0f32; HOP];
        x.iter_mut().zip(hop).for_each(|(x, &s)| *x = runtime::pcm::i16_to_f32(s));
        analyzer.push(&x, &mut spec);
        let mut feat = vec![0.0f32; BANDS];
        dsp::band_features(&spec, &fb, &mut feat);
        frames.push(feat);
    }
    Ok(frames)
}

/// The f32 path's outputs of `blob` on `frames`: (max |y|, max y) over every frame.
fn output_range(blob: &[u8], frames: &[Vec<f32>]) -> Result<(f32, f32)> {
    let m = Model::parse(blob).map_err(|e| anyhow!("zoo prefix: {e}"))?;
    let (mut arena, mut state) = (vec![0.0f32; m.f32_arena_len()], vec![0.0f32; m.f32_state_len()]);
    let mut state = StateF32::new(&mut state);
    let mut y = vec![0.0f32; m.output_len()];
    let (mut abs, mut max) = (0.0f32, 0.0f32);
    for f in frames {
        m.step_f32(&mut state, &mut arena, f, &mut y).map_err(|e| anyhow!("zoo prefix: {e}"))?;
        abs = y.iter().fold(abs, |a, v| a.max(v.abs()));
        max = y.iter().fold(max, |a, &v| a.max(v));
    }
    Ok((abs, max))
}

/// Per node `max|v| / 127` of its output on the clip (a relu'd value: its largest; a squashed
/// one: 1/127) and of its value before a fused activation, each measured as the output of the
/// graph cut after that node (f32 path).
fn calibrate(graph: Graph, n_nodes: usize) -> Result<GraphCalibration> {
    let first = build(graph, 1, Output::Scores)?.w.finish()?;
    let frames = clip_features(&Model::parse(&first).map_err(|e| anyhow!("zoo prefix: {e}"))?)?;
    let scale = |m: f32| m.max(1e-6) / 127.0;
    let in_max = frames.iter().flatten().fold(0.0f32, |a, v| a.max(v.abs()));
    let (mut out_scales, mut pre_act_scales) = (Vec::new(), Vec::new());
    for k in 1..=n_nodes {
        let b = build(graph, k, Output::Scores)?;
        let (op, act) = b.nodes.last().copied().ok_or_else(|| anyhow!("no node {k}"))?;
        let (abs, max) = output_range(&b.w.finish()?, &frames)?;
        let squashed = matches!(op, Op::Sigmoid | Op::Tanh) || matches!(act, Act::Sigmoid | Act::Tanh);
        out_scales.push(match act {
            _ if squashed => 1.0 / 127.0,
            Act::Relu => scale(max),
            _ => scale(abs),
        });
        pre_act_scales.push(scale(abs));
    }
    Ok(GraphCalibration { input_scale: scale(in_max), out_scales, pre_act_scales })
}

/// The zoo blob, with integer constants calibrated on the demo clip.
pub fn blob() -> Result<Vec<u8>> {
    blob_of(graph, Output::BandGains)
}

/// The blob of `graph` on the zoo's front end with `output`, its integer constants calibrated on
/// the demo clip.
pub(crate) fn blob_of(graph: Graph, output: Output) -> Result<Vec<u8>> {
    let full = build(graph, usize::MAX, output)?;
    let calib = calibrate(graph, full.nodes.len())?;
    Ok(full.w.finish_with_int(&calib)?)
}

/// Writes the zoo blob to `path` (its folders created) unless it holds those bytes already (a
/// firmware built with it stays current); returns its bytes.
pub fn write(path: &std::path::Path) -> Result<Vec<u8>> {
    write_blob(path, blob()?)
}

/// Writes `b` to `path` (its folders created) unless it holds those bytes already; returns `b`.
pub(crate) fn write_blob(path: &std::path::Path, b: Vec<u8>) -> Result<Vec<u8>> {
    if std::fs::read(path).is_ok_and(|old| old == b) {
        return Ok(b);
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    audio_tools::file::write_atomic(path, &b)?;
    Ok(b)
}
