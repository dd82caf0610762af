//! Batch normalisation of a weighted layer (`norm = "batch"`): per output channel, between the
//! layer's weights and its bias, so that the layer computes `s·(W·x − μ) + b` with
//! `s = γ/√(σ² + ε)`. Training normalises by the batch's statistics (over batch × time, and a
//! conv2d's frequency positions) and moves the running statistics towards them; evaluation uses
//! the running statistics; export folds them into the weights (`W' = s·W`, `b' = b − s·μ`), so
//! the blob holds a plain layer.

use candle_core::{DType, Device, Result, Tensor, Var};

/// Weight of a batch's statistics in the running ones (PyTorch's default).
pub const MOMENTUM: f64 = 0.1;
/// Added to the variance before its square root (PyTorch's default).
pub const EPS: f64 = 1e-5;

/// One layer's batch normalisation: the trained scale `γ` and the running statistics (the
/// biased variance of each batch), one value per output channel.
pub struct BatchNorm {
    pub gamma: Var,
    pub mean: Var,
    pub var: Var,
}

impl BatchNorm {
    /// `γ = 1`, running mean 0 and variance 1.
    pub fn new(channels: usize, dev: &Device) -> Result<BatchNorm> {
        Ok(BatchNorm {
            gamma: Var::from_tensor(&Tensor::ones(channels, DType::F32, dev)?)?,
            mean: Var::from_tensor(&Tensor::zeros(channels, DType::F32, dev)?)?,
            var: Var::from_tensor(&Tensor::ones(channels, DType::F32, dev)?)?,
        })
    }
}

/// How a forward pass treats the layers with a norm.
#[derive(Clone, Copy)]
pub enum Norms<'a> {
    /// The description has none (an exported graph: folded).
    Folded,
    /// Batch statistics; the running statistics move towards them.
    Train(&'a [BatchNorm]),
    /// Running statistics.
    Eval(&'a [BatchNorm]),
}

/// `y (B, T, c·f)` (channel-major, `f` positions per channel) normalised per channel by `bn`.
pub fn apply(y: &Tensor, bn: &BatchNorm, f: usize, train: bool) -> Result<Tensor> {
    let (b, t, w) = y.dims3()?;
    let c = w / f.max(1);
    let y3 = y.reshape((b * t, c, f))?;
    let (mean, var) = if train {
        let m = y3.mean_keepdim(2)?.mean_keepdim(0)?;
        let v = y3.broadcast_sub(&m)?.sqr()?.mean_keepdim(2)?.mean_keepdim(0)?;
        let run = |r: &Var, batch: &Tensor| -> Result<()> {
            r.set(&((r.as_tensor() * (1.0 - MOMENTUM))? + (batch.detach().flatten_all()? * MOMENTUM)?)?)
        };
        run(&bn.mean, &m)?;
        run(&bn.var, &v)?;
        (m, v)
    } else {
        (bn.mean.as_tensor().reshape((1, c, 1))?, bn.var.as_tensor().reshape((1, c, 1))?)
    };
    let scale = (var + EPS)?.sqrt()?.recip()?.broadcast_mul(&bn.gamma.as_tensor().reshape((1, c, 1))?)?;
    y3.broadcast_sub(&mean)?.broadcast_mul(&scale)?.reshape((b, t, w))
}

/// Folds running statistics into a weight tensor of `rows` output channels (row-major) and its
/// bias: `W' = s·W`, `b' = b − s·μ`, `s = γ/√(σ² + ε)`, in f64.
pub fn fold(weight: &mut [f32], bias: &mut [f32], gamma: &[f32], mean: &[f32], var: &[f32]) {
    let rows = bias.len();
    let row = weight.len() / rows.max(1);
    for (o, b) in bias.iter_mut().enumerate() {
        let (g, m, v) = (gamma.get(o), mean.get(o), var.get(o));
        let (Some(&g), Some(&m), Some(&v)) = (g, m, v) else { continue };
        let s = f64::from(g) / (f64::from(v) + EPS).sqrt();
        for w in weight.iter_mut().skip(o * row).take(row) {
            *w = (f64::from(*w) * s) as f32;
        }
        *b = (f64::from(*b) - s * f64::from(m)) as f32;
    }
}
