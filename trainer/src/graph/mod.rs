//! The candle model of a validated description ([`crate::describe`]): one function per op family
//! ([`conv`], [`gru`], the element-wise ops here), with the runtime's causal semantics, so any
//! description computes in training what the runtime will compute frame by frame.

pub mod conv;
pub mod gru;
pub mod norm;
mod task;

pub use task::{bin_gains, task_loss, Described};

use crate::describe::{Act, ModelDesc, Node, Op, Shape, Src};
use crate::model::Params;
use anyhow::{anyhow, bail, Result};
use candle_core::{DType, Device, Tensor, Var};
use norm::{BatchNorm, Norms};
use rand::rngs::StdRng;
use rand::Rng;

/// Fresh trainable tensors of a description, per weight tensor in layer order (a GRU's `W_x`
/// then `W_h`): weights `(rows, row_len)`, He-uniform for the layers feeding a ReLU or anything
/// else, a smaller bound for the output layer, PyTorch's `±1/√H` for a GRU; zero biases; per
/// `norm = "batch"` layer `γ = 1` and running statistics (0, 1).
pub fn init_params(m: &ModelDesc, rng: &mut StdRng, dev: &Device) -> Result<Params> {
    let (mut weights, mut biases) = (Vec::new(), Vec::new());
    let norms = m.nodes.iter().filter(|n| n.norm.is_some()).map(|n| BatchNorm::new(channels(n).0, dev));
    let norms = norms.collect::<candle_core::Result<Vec<_>>>()?;
    let out_node = m.nodes.iter().rposition(|n| n.op.is_weighted());
    for (i, n) in m.nodes.iter().enumerate() {
        for w in &n.weights {
            let fan_in = w.shape.row_len as f32;
            let bound = match n.op {
                Op::Gru { hidden } => 1.0 / (hidden as f32).sqrt(),
                _ if Some(i) == out_node => (3.0 / fan_in).sqrt(),
                _ => (6.0 / fan_in).sqrt(),
            };
            let vals: Vec<f32> = (0..w.shape.count()).map(|_| rng.random_range(-bound..bound)).collect();
            weights.push(Var::from_tensor(&Tensor::from_vec(vals, (w.shape.rows, w.shape.row_len), dev)?)?);
            biases.push(Var::from_tensor(&Tensor::zeros(w.bias, DType::F32, dev)?)?);
        }
    }
    Ok(Params { weights, biases, norms })
}

/// A layer's output channels and the positions of each (a conv2d's frequencies, else 1).
pub fn channels(n: &Node) -> (usize, usize) {
    match n.shape {
        Shape::Map { c, f } if matches!(n.op, Op::Conv2d { .. }) => (c, f),
        s => (s.width(), 1),
    }
}

fn act(x: Tensor, a: Option<Act>) -> candle_core::Result<Tensor> {
    match a {
        None => Ok(x),
        Some(Act::Relu) => x.relu(),
        Some(Act::Sigmoid) => crate::model::sigmoid(&x),
        Some(Act::Tanh) => x.tanh(),
    }
}

/// Mean or maximum of each frame and the `window − 1` before it (zeros before the stream).
fn pool(x: &Tensor, window: usize, max: bool) -> candle_core::Result<Tensor> {
    let t = x.dim(1)?;
    let xp = conv::pad_time(x, window - 1, 0.0)?;
    let taps: Vec<Tensor> = (0..window).map(|j| xp.narrow(1, j, t)).collect::<candle_core::Result<_>>()?;
    let s = Tensor::stack(&taps, 0)?;
    if max {
        s.max(0)
    } else {
        s.mean(0)
    }
}

/// The values a forward pass has computed, and where its weights are.
struct Run<'a> {
    weights: &'a [Tensor],
    biases: &'a [Tensor],
    values: Vec<Tensor>,
    input: Tensor,
    /// The value of the frames before the stream for a layer reading the input.
    input_pad: f32,
    next: usize,
    norms: Norms<'a>,
    next_norm: usize,
}

impl<'a> Run<'a> {
    fn get(&self, s: Src) -> Result<&Tensor> {
        match s {
            Src::Input => Ok(&self.input),
            Src::Node(i) => self.values.get(i).ok_or_else(|| anyhow!("layer {i} read before it ran")),
        }
    }

    /// The next weight tensor and its bias.
    fn take(&mut self) -> Result<(&'a Tensor, &'a Tensor)> {
        let (w, b) = (self.weights.get(self.next), self.biases.get(self.next));
        self.next += 1;
        w.zip(b).ok_or_else(|| anyhow!("{} weight tensors given for a model that needs more", self.weights.len()))
    }

    /// The next weight tensor and the bias to add with it: none with a norm (it is added after).
    fn take_normed(&mut self, n: &Node) -> Result<(&'a Tensor, Tensor)> {
        let (w, b) = self.take()?;
        Ok((w, if n.norm.is_some() { b.zeros_like()? } else { b.clone() }))
    }

    /// `y` normalised and the bias added, for a layer with a norm; else `y`.
    fn normed(&mut self, n: &Node, y: Tensor) -> Result<Tensor> {
        if n.norm.is_none() {
            return Ok(y);
        }
        let b = self.biases.get(self.next.wrapping_sub(1)).ok_or_else(|| anyhow!("no bias for `{}`", n.name))?;
        let (set, train) = match self.norms {
            Norms::Folded => bail!("layer `{}` has a norm, but this forward pass has no norm state", n.name),
            Norms::Train(s) => (s, true),
            Norms::Eval(s) => (s, false),
        };
        let bn = set.get(self.next_norm).ok_or_else(|| anyhow!("no batch norm state for `{}`", n.name))?;
        self.next_norm += 1;
        let (c, f) = channels(n);
        let z = norm::apply(&y, bn, f, train)?;
        let (bs, t, _) = z.dims3()?;
        Ok(z.reshape((bs, t, c, f))?.broadcast_add(&b.reshape((1, 1, c, 1))?)?.reshape((bs, t, c * f))?)
    }

    /// Layer `n`'s output before its fused activation.
    fn linear_part(&mut self, n: &Node) -> Result<Tensor> {
        let y = self.op_output(n)?;
        self.normed(n, y)
    }

    /// Layer `n`'s op (a weighted layer with a norm: without its bias).
    fn op_output(&mut self, n: &Node) -> Result<Tensor> {
        let first = *n.inputs.first().ok_or_else(|| anyhow!("layer `{}` has no input", n.name))?;
        let pad = if first == Src::Input { self.input_pad } else { 0.0 };
        let x = self.get(first)?.clone();
        let (bs, t, _) = x.dims3()?;
        Ok(match n.op {
            Op::Conv1d { kernel, dilation, groups, stride, .. } => {
                let (w, b) = self.take_normed(n)?;
                conv::hold(&conv::conv1d(&x, w, &b, kernel, dilation, groups, pad)?, stride)?
            }
            Op::Linear { out } => {
                let (w, b) = self.take_normed(n)?;
                let width = x.dim(2)?;
                x.reshape((bs * t, width))?.matmul(&w.t()?)?.broadcast_add(&b)?.reshape((bs, t, out))?
            }
            Op::Gru { .. } => {
                let ((wx, bx), (wh, bh)) = (self.take()?, self.take()?);
                gru::gru(&x, wx, wh, bx, bh)?
            }
            Op::Conv2d { kernel, kernel_f, stride_f, dilation, groups, .. } => {
                let Shape::Map { c, f } = n.in_shape else { bail!("conv2d `{}` on a vector", n.name) };
                let (w, b) = self.take_normed(n)?;
                let s = conv::Conv2d { kernel, kernel_f, stride_f, dilation, groups, c, f };
                conv::conv2d(&x, w, &b, s, pad)?
            }
            Op::Add | Op::Mul | Op::Concat => {
                let xs: Vec<Tensor> = n.inputs.iter().map(|&s| self.get(s).cloned()).collect::<Result<_>>()?;
                if n.op == Op::Concat {
                    return concat(&xs, n.shape);
                }
                let mut acc = xs.first().cloned().ok_or_else(|| anyhow!("layer `{}` has no input", n.name))?;
                for v in xs.iter().skip(1) {
                    acc = if n.op == Op::Add { (&acc + v)? } else { (&acc * v)? };
                }
                acc
            }
            Op::Relu | Op::Sigmoid | Op::Tanh | Op::Softmax => x,
            Op::AvgPool { window } => pool(&x, window, false)?,
            Op::MaxPool { window } => pool(&x, window, true)?,
        })
    }
}

/// Joins values along the channels: maps of one frequency size stack channels, otherwise the
/// flattened values join.
fn concat(xs: &[Tensor], shape: Shape) -> Result<Tensor> {
    match shape {
        Shape::Map { f, .. } => {
            let maps: Vec<Tensor> = xs
                .iter()
                .map(|x| {
                    let (b, t, w) = x.dims3()?;
                    x.reshape((b, t, w / f, f))
                })
                .collect::<candle_core::Result<_>>()?;
            let y = Tensor::cat(&maps, 2)?;
            let (b, t, c, f) = y.dims4()?;
            Ok(y.reshape((b, t, c * f))?)
        }
        Shape::Vec(_) => Ok(Tensor::cat(xs, 2)?),
    }
}

/// The model's output before its last squashing (the mask's sigmoid or the classes' softmax):
/// mask logits or class logits `(B, T, n_out)`, for features `(B, T, n_features)`. With
/// `normalize` the features enter as `(x − in_mean)·2^−in_shift` and the frames before the
/// stream (and a conv2d's frequency padding) as the normalised raw zero (training weights);
/// without, raw (exported, folded weights). `norms` holds the batch normalisations' state and
/// says whether they use the batch's statistics (training) or the running ones.
pub fn forward(
    m: &ModelDesc,
    weights: &[Tensor],
    biases: &[Tensor],
    norms: Norms,
    feats: &Tensor,
    normalize: bool,
) -> Result<Tensor> {
    let (mut values, _) = run(m, (weights, biases, norms), feats, normalize, false)?;
    values.pop().ok_or_else(|| anyhow!("empty model"))
}

/// Every layer's value with its activation applied (the output's squashing too) and, per
/// layer, its result before the activation, for raw features and exported weights: what the
/// integer path's calibration measures.
pub fn trace(m: &ModelDesc, weights: &[Tensor], biases: &[Tensor], feats: &Tensor) -> Result<Vec<(Tensor, Tensor)>> {
    let (values, pres) = run(m, (weights, biases, Norms::Folded), feats, false, true)?;
    Ok(pres.into_iter().zip(values).collect())
}

/// Runs every layer; returns the values (the last one unsquashed unless `squash_last`) and,
/// with `squash_last`, each layer's result before its activation.
fn run(
    m: &ModelDesc,
    (weights, biases, norms): (&[Tensor], &[Tensor], Norms),
    feats: &Tensor,
    normalize: bool,
    squash_last: bool,
) -> Result<(Vec<Tensor>, Vec<Tensor>)> {
    let f = &m.frontend;
    let sc = (-f.in_shift as f32).exp2();
    let (input, input_pad) = if normalize {
        (feats.affine(f64::from(sc), -f64::from(f.in_mean * sc))?, -f.in_mean * sc)
    } else {
        (feats.clone(), 0.0)
    };
    let values = Vec::with_capacity(m.nodes.len());
    let mut run = Run { weights, biases, values, input, input_pad, next: 0, norms, next_norm: 0 };
    let mut pres = Vec::new();
    let last = m.nodes.len().saturating_sub(1);
    for (i, n) in m.nodes.iter().enumerate() {
        let pre = run.linear_part(n)?;
        let keep_logits = !squash_last && i == last;
        let v = match n.op {
            _ if keep_logits && matches!(n.op, Op::Sigmoid | Op::Softmax) => pre.clone(),
            Op::Relu => pre.relu()?,
            Op::Sigmoid => crate::model::sigmoid(&pre)?,
            Op::Tanh => pre.tanh()?,
            Op::Softmax => candle_nn::ops::softmax_last_dim(&pre)?,
            _ if keep_logits && matches!(n.act, Some(Act::Sigmoid)) => pre.clone(),
            _ => act(pre.clone(), n.act)?,
        };
        if squash_last {
            pres.push(pre);
        }
        run.values.push(v);
    }
    if run.next != run.weights.len() {
        bail!("{} weight tensors given, the model has {}", run.weights.len(), run.next);
    }
    Ok((run.values, pres))
}

#[cfg(test)]
mod tests;
