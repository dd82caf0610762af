//! The mask network's forward and backward passes on plain slices, every convolution tap one
//! matrix multiply over a strided view (no tap concatenation, no transposes materialised).
//!
//! Activations are stored per batch item with `pad` leading rows (the longest causal reach of
//! any layer), so a tap's time shift is a row offset over the whole batch: `(B·(pad + T)) × C`.
//! The network's input holds the normalised zero in those rows; every later activation holds
//! zeros there, which the layers restore after each multiply (whose rows there read across
//! item boundaries).

use super::gemm::{matmul, View};
use crate::model::Arch;
use anyhow::{anyhow, bail, Result};
use rayon::prelude::*;

/// One weighted layer and where its weight and bias sit in the flat parameter vector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LayerShape {
    pub inp: usize,
    pub out: usize,
    pub kernel: usize,
    pub dilation: usize,
    pub w_off: usize,
    pub b_off: usize,
}

impl LayerShape {
    /// Row shift of tap `j` (tap `kernel − 1` is the current frame).
    fn shift(&self, j: usize) -> usize {
        (self.kernel - 1 - j) * self.dilation
    }

    /// Tap `j` of the weight as a `out × inp` view of the flat parameters.
    fn tap(&self, j: usize) -> View {
        View::rows(0, self.out, self.w_off + j * self.inp, self.inp, self.kernel * self.inp)
    }

    /// The taps as groups read by one multiply each: `(first tap, taps, shift of the first)`.
    /// Without dilation the taps of a row are consecutive rows of the input, so a view with
    /// row stride `inp` over `kernel·inp` columns reads them all (the rows overlap) and one
    /// multiply covers the whole kernel; with dilation each tap is its own group.
    fn groups(&self) -> Vec<(usize, usize, usize)> {
        if self.dilation == 1 {
            vec![(0, self.kernel, self.shift(0))]
        } else {
            (0..self.kernel).map(|j| (j, 1, self.shift(j))).collect()
        }
    }

    /// The weight columns of taps `j..j + taps`, as an `out × taps·inp` view.
    fn weight_cols(&self, j: usize, taps: usize) -> View {
        View::rows(0, self.out, self.w_off + j * self.inp, taps * self.inp, self.kernel * self.inp)
    }

    /// The input rows `pad − shift ..` of `rows` output rows, `taps·inp` columns wide.
    fn input_rows(&self, pad: usize, rows: usize, shift: usize, taps: usize) -> View {
        View { offset: (pad - shift) * self.inp, rows, cols: taps * self.inp, rs: self.inp, cs: 1 }
    }
}

/// The network and batch geometry of the padded layout.
#[derive(Clone, Debug, PartialEq)]
pub struct NetShape {
    pub layers: Vec<LayerShape>,
    pub batch: usize,
    pub frames: usize,
    /// Leading rows of every batch item.
    pub pad: usize,
    /// Flat parameter count: every weight (`out × kernel·inp`, row-major), then every bias.
    pub n_params: usize,
    /// `(x − in_mean)·scale` of the input features, and the padding value `−in_mean·scale`.
    pub in_mean: f32,
    pub in_scale: f32,
}

impl NetShape {
    pub fn new(arch: &Arch, batch: usize, frames: usize) -> NetShape {
        let shapes = arch.weighted();
        let n_w: usize = shapes.iter().map(|w| w.count()).sum();
        let (mut w_off, mut b_off) = (0, n_w);
        let mut layers = Vec::new();
        for w in &shapes {
            layers.push(LayerShape { inp: w.inp, out: w.out, kernel: w.kernel, dilation: w.dilation, w_off, b_off });
            w_off += w.count();
            b_off += w.out;
        }
        let pad = layers.iter().map(|l| (l.kernel - 1) * l.dilation).max().unwrap_or(0);
        NetShape { layers, batch, frames, pad, n_params: b_off, in_mean: arch.in_mean, in_scale: arch.in_scale() }
    }

    /// Rows per batch item.
    pub fn item_rows(&self) -> usize {
        self.pad + self.frames
    }

    /// Rows of an activation buffer.
    pub fn rows(&self) -> usize {
        self.batch * self.item_rows()
    }

    /// Row of frame `t` of item `b`.
    pub fn row(&self, b: usize, t: usize) -> usize {
        b * self.item_rows() + self.pad + t
    }

    pub fn n_in(&self) -> usize {
        self.layers.first().map_or(0, |l| l.inp)
    }

    pub fn n_out(&self) -> usize {
        self.layers.last().map_or(0, |l| l.out)
    }
}

/// `buf[range]`, or an error naming what was out of range.
fn part<'a>(buf: &'a [f32], at: usize, len: usize, what: &str) -> Result<&'a [f32]> {
    buf.get(at..at + len).ok_or_else(|| anyhow!("{what}: {}..{} outside {}", at, at + len, buf.len()))
}

/// Writes the normalised features `(B, T, n_in)` into `x` in the padded layout.
pub fn load_input(s: &NetShape, feats: &[f32], x: &mut Vec<f32>) -> Result<()> {
    let c = s.n_in();
    if feats.len() != s.batch * s.frames * c {
        bail!("{} feature values for a batch of {} × {} frames × {c}", feats.len(), s.batch, s.frames);
    }
    x.clear();
    let pad_value = -s.in_mean * s.in_scale;
    for item in feats.chunks_exact(s.frames * c) {
        x.extend(std::iter::repeat_n(pad_value, s.pad * c));
        x.extend(item.iter().map(|v| (v - s.in_mean) * s.in_scale));
    }
    Ok(())
}

/// Runs `f` on every `len`-long chunk of `data` (a batch item's rows), on `threads` threads.
fn for_items(data: &mut [f32], len: usize, threads: usize, f: impl Fn(&mut [f32]) + Send + Sync) {
    if len == 0 {
        return;
    }
    if threads > 1 {
        data.par_chunks_mut(len).for_each(f);
    } else {
        data.chunks_mut(len).for_each(f);
    }
}

/// One layer forward: `out = bias + Σ_j shift_j(inp) · W_jᵀ`, then ReLU (all but the last
/// layer) and zeroed padding rows.
fn layer_forward(
    s: &NetShape,
    l: &LayerShape,
    params: &[f32],
    inp: &[f32],
    out: &mut Vec<f32>,
    relu: bool,
    threads: usize,
) -> Result<()> {
    let (n, p) = (s.rows(), s.pad);
    let bias = part(params, l.b_off, l.out, "bias")?;
    out.clear();
    for _ in 0..n {
        out.extend_from_slice(bias);
    }
    for (j, taps, sh) in l.groups() {
        matmul(
            (out, View::rows(p, n - p, 0, l.out, l.out)),
            (inp, l.input_rows(p, n - p, sh, taps)),
            (params, l.weight_cols(j, taps).t()),
            true,
            threads,
        )?;
    }
    let head = s.pad * l.out;
    for_items(out, s.item_rows() * l.out, threads, |item| {
        let (pad_rows, frames) = item.split_at_mut(head.min(item.len()));
        pad_rows.iter_mut().for_each(|v| *v = 0.0);
        if relu {
            frames.iter_mut().for_each(|v| *v = v.max(0.0));
        }
    });
    Ok(())
}

/// The forward pass from the padded input `x`: every layer's output into `acts` (ReLU outputs
/// of the hidden layers, then the mask logits).
pub fn forward(s: &NetShape, params: &[f32], x: &[f32], acts: &mut Vec<Vec<f32>>, threads: usize) -> Result<()> {
    if params.len() != s.n_params {
        bail!("{} parameters for a network of {}", params.len(), s.n_params);
    }
    acts.resize_with(s.layers.len(), Vec::new);
    let last = s.layers.len().saturating_sub(1);
    for (i, l) in s.layers.iter().enumerate() {
        let (done, rest) = acts.split_at_mut(i);
        let inp = match done.last() {
            Some(a) => a.as_slice(),
            None => x,
        };
        let out = rest.first_mut().ok_or_else(|| anyhow!("no buffer for layer {i}"))?;
        layer_forward(s, l, params, inp, out, i != last, threads)?;
    }
    Ok(())
}

/// The backward pass: from the gradient of the logits `dz` (padded layout, zero padding rows;
/// consumed), the gradient of every parameter into `grad`. `x` and `acts` are the forward
/// pass's; `spare` is scratch space. The input's own gradient is not computed.
pub fn backward(
    s: &NetShape,
    params: &[f32],
    (x, acts): (&[f32], &[Vec<f32>]),
    (dz, spare): (&mut Vec<f32>, &mut Vec<f32>),
    grad: &mut [f32],
    threads: usize,
) -> Result<()> {
    if grad.len() != s.n_params {
        bail!("{} gradient entries for a network of {}", grad.len(), s.n_params);
    }
    let (n, p) = (s.rows(), s.pad);
    let (mut dy, mut dh) = (dz, spare);
    for (i, l) in s.layers.iter().enumerate().rev() {
        let inp = match i.checked_sub(1) {
            Some(k) => acts.get(k).map(Vec::as_slice).ok_or_else(|| anyhow!("no activation {k}"))?,
            None => x,
        };
        // bias: column sums of dy
        let db = grad.get_mut(l.b_off..l.b_off + l.out).ok_or_else(|| anyhow!("bias gradient {i}"))?;
        db.iter_mut().for_each(|v| *v = 0.0);
        for row in dy.chunks_exact(l.out) {
            db.iter_mut().zip(row).for_each(|(d, g)| *d += g);
        }
        let dy_t = View::rows(p, n - p, 0, l.out, l.out).t();
        for (j, taps, sh) in l.groups() {
            matmul(
                (grad, l.weight_cols(j, taps)),
                (dy, dy_t),
                (inp, l.input_rows(p, n - p, sh, taps)),
                false,
                threads,
            )?;
        }
        if i == 0 {
            break;
        }
        dh.clear();
        dh.resize(n * l.inp, 0.0);
        for j in 0..l.kernel {
            let sh = l.shift(j);
            let dst = View::rows(p - sh, n - p, 0, l.inp, l.inp);
            matmul((dh, dst), (dy, View::rows(p, n - p, 0, l.out, l.out)), (params, l.tap(j)), true, threads)?;
        }
        // through the ReLU (zero where the output was clipped, and in the padding rows)
        let relu_grad = |(g, h): (&mut [f32], &[f32])| {
            g.iter_mut().zip(h).for_each(|(g, &h)| *g = if h > 0.0 { *g } else { 0.0 });
        };
        let item = s.item_rows() * l.inp;
        if threads > 1 && item > 0 {
            dh.par_chunks_mut(item).zip(inp.par_chunks(item)).for_each(relu_grad);
        } else {
            relu_grad((dh.as_mut_slice(), inp));
        }
        std::mem::swap(&mut dy, &mut dh);
    }
    Ok(())
}
