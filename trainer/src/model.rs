//! The causal streaming mask network, in candle: conv1d layers written as time-shifted matmuls
//! (one matmul per layer over the concatenated taps, which is also the blob's `[out][tap][in]`
//! storage order), then a linear layer and a sigmoid gain per STFT bin.

use anyhow::{bail, Result};
use candle_core::{DType, Device, Tensor, Var};
use rand::rngs::StdRng;
use rand::Rng;
use serde::{Deserialize, Serialize};

/// Network shape and the fixed feature normalisation (folded into layer 0 at export).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Arch {
    pub n_features: usize,
    pub width: usize,
    pub kernel: usize,
    pub dilations: Vec<usize>,
    pub n_out: usize,
    /// Features enter as `(x − in_mean) · 2^−in_shift` (a power of two keeps the fold exact).
    pub in_mean: f32,
    pub in_shift: i32,
}

/// One runtime layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layer {
    Conv { inp: usize, out: usize, kernel: usize, dilation: usize },
    Linear { inp: usize, out: usize },
    Relu(usize),
    Sigmoid(usize),
}

/// Shape of a weighted layer: weight `(out, kernel·inp)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Weighted {
    pub inp: usize,
    pub out: usize,
    pub kernel: usize,
    pub dilation: usize,
    pub is_conv: bool,
}

impl Weighted {
    pub fn count(&self) -> usize {
        self.out * self.kernel * self.inp
    }
}

impl Arch {
    pub fn new(width: usize) -> Arch {
        Arch {
            n_features: runtime::dsp::N_FEATURES,
            width,
            kernel: 3,
            dilations: vec![1, 2, 4],
            n_out: runtime::dsp::BINS,
            in_mean: -6.0,
            in_shift: 2,
        }
    }

    pub fn validate(&self) -> Result<()> {
        if self.n_features != runtime::dsp::N_FEATURES || self.n_out != runtime::dsp::BINS {
            bail!("the model must map {} features to {} gains", runtime::dsp::N_FEATURES, runtime::dsp::BINS);
        }
        if self.width == 0 || self.width % 8 != 0 || self.kernel == 0 || self.kernel > 16 || self.dilations.is_empty() {
            bail!(
                "invalid architecture: width {} (multiple of 8), kernel {} (1..=16), {} conv layers",
                self.width,
                self.kernel,
                self.dilations.len()
            );
        }
        if !(self.in_mean.is_finite() && (-20..=20).contains(&self.in_shift)) {
            bail!("invalid feature normalisation");
        }
        Ok(())
    }

    /// Layers in execution order.
    pub fn layers(&self) -> Vec<Layer> {
        let mut out = Vec::new();
        let mut inp = self.n_features;
        for &d in &self.dilations {
            out.push(Layer::Conv { inp, out: self.width, kernel: self.kernel, dilation: d });
            out.push(Layer::Relu(self.width));
            inp = self.width;
        }
        out.push(Layer::Linear { inp, out: self.n_out });
        out.push(Layer::Sigmoid(self.n_out));
        out
    }

    /// Weighted layers in order.
    pub fn weighted(&self) -> Vec<Weighted> {
        self.layers()
            .into_iter()
            .filter_map(|l| match l {
                Layer::Conv { inp, out, kernel, dilation } => {
                    Some(Weighted { inp, out, kernel, dilation, is_conv: true })
                }
                Layer::Linear { inp, out } => Some(Weighted { inp, out, kernel: 1, dilation: 1, is_conv: false }),
                _ => None,
            })
            .collect()
    }

    /// Multiply-accumulates per frame.
    pub fn macs(&self) -> usize {
        self.weighted().iter().map(Weighted::count).sum()
    }

    pub fn in_scale(&self) -> f32 {
        (-self.in_shift as f32).exp2()
    }
}

/// The trainable weights and biases (f32 on `device`).
pub struct Params {
    pub weights: Vec<Var>,
    pub biases: Vec<Var>,
    /// The batch normalisations of a description's layers with `norm = "batch"`, in layer order.
    pub norms: Vec<crate::graph::norm::BatchNorm>,
}

impl Params {
    /// He-uniform init for the ReLU layers, a smaller one for the mask layer; zero biases.
    pub fn init(arch: &Arch, rng: &mut StdRng, device: &Device) -> Result<Params> {
        let mut weights = Vec::new();
        let mut biases = Vec::new();
        let shapes = arch.weighted();
        for (i, w) in shapes.iter().enumerate() {
            let fan_in = (w.kernel * w.inp) as f32;
            let last = i + 1 == shapes.len();
            let bound = if last { (3.0 / fan_in).sqrt() } else { (6.0 / fan_in).sqrt() };
            let vals: Vec<f32> = (0..w.count()).map(|_| rng.random_range(-bound..bound)).collect();
            weights.push(Var::from_tensor(&Tensor::from_vec(vals, (w.out, w.kernel * w.inp), device)?)?);
            biases.push(Var::from_tensor(&Tensor::zeros(w.out, DType::F32, device)?)?);
        }
        Ok(Params { weights, biases, norms: Vec::new() })
    }

    /// `(name, var)` pairs: `w{i}`, `b{i}`, and per batch normalisation `bn{i}.gamma`,
    /// `bn{i}.mean`, `bn{i}.var`.
    pub fn named(&self) -> Vec<(String, &Var)> {
        let mut v: Vec<(String, &Var)> = self.weights.iter().enumerate().map(|(i, w)| (format!("w{i}"), w)).collect();
        v.extend(self.biases.iter().enumerate().map(|(i, b)| (format!("b{i}"), b)));
        for (i, n) in self.norms.iter().enumerate() {
            v.extend([("gamma", &n.gamma), ("mean", &n.mean), ("var", &n.var)].map(|(k, x)| (format!("bn{i}.{k}"), x)));
        }
        v
    }

    pub fn weight_tensors(&self) -> Vec<Tensor> {
        self.weights.iter().map(|v| v.as_tensor().clone()).collect()
    }

    pub fn bias_tensors(&self) -> Vec<Tensor> {
        self.biases.iter().map(|v| v.as_tensor().clone()).collect()
    }
}

/// Mask logits `(B, T, n_out)` for features `(B, T, n_features)`. With `normalize`, layer 0 sees
/// `(x − in_mean)·2^−in_shift` and its causal padding is the normalised zero (training weights);
/// without it, the raw features (exported, folded weights). Returns every layer's output when
/// `trace` is set (for calibration), else just the last pre-sigmoid output.
pub fn forward_trace(
    arch: &Arch,
    weights: &[Tensor],
    biases: &[Tensor],
    feats: &Tensor,
    normalize: bool,
    trace: bool,
) -> Result<Vec<Tensor>> {
    let (b, t, _) = feats.dims3()?;
    let shapes = arch.weighted();
    if weights.len() != shapes.len() || biases.len() != shapes.len() {
        bail!("{} weights / {} biases for {} layers", weights.len(), biases.len(), shapes.len());
    }
    let mut h = feats.clone();
    let mut outs = Vec::new();
    for (i, ((s, w), bias)) in shapes.iter().zip(weights).zip(biases).enumerate() {
        let pad = (s.kernel - 1) * s.dilation;
        let mut hp = if s.is_conv && pad > 0 { h.pad_with_zeros(1, pad, 0)? } else { h.clone() };
        if i == 0 && normalize {
            let sc = f64::from(arch.in_scale());
            hp = hp.affine(sc, -f64::from(arch.in_mean) * sc)?;
        }
        let x = if s.kernel > 1 {
            let taps: Vec<Tensor> =
                (0..s.kernel).map(|j| hp.narrow(1, j * s.dilation, t)).collect::<candle_core::Result<_>>()?;
            Tensor::cat(&taps, 2)?
        } else {
            hp
        };
        let y = x.reshape((b * t, s.kernel * s.inp))?.matmul(&w.t()?)?.broadcast_add(bias)?.reshape((b, t, s.out))?;
        let last = i + 1 == shapes.len();
        if last {
            if trace {
                outs.push(y.clone());
                outs.push(sigmoid(&y)?);
            } else {
                outs.push(y);
            }
        } else {
            h = y.relu()?;
            if trace {
                outs.push(y);
                outs.push(h.clone());
            }
        }
    }
    Ok(outs)
}

/// Mask logits (pre-sigmoid) `(B, T, n_out)`.
pub fn forward(arch: &Arch, weights: &[Tensor], biases: &[Tensor], feats: &Tensor, normalize: bool) -> Result<Tensor> {
    forward_trace(arch, weights, biases, feats, normalize, false)?.pop().ok_or_else(|| anyhow::anyhow!("empty network"))
}

/// `1 / (1 + e^−x)`, differentiable.
pub fn sigmoid(x: &Tensor) -> candle_core::Result<Tensor> {
    (x.neg()?.exp()? + 1.0)?.recip()
}

/// Bound of the mask logits before the sigmoid.
pub const MASK_LOGIT_LIMIT: f32 = 30.0;
/// Added to the mask before the square root (keeps the gradient finite at a zero mask).
pub const MASK_SQRT_EPS: f64 = 1e-10;

/// The compressed magnitude estimate `(mask·|X|)^0.5 = mask^0.5·|X|^0.5`.
pub fn mask_estimate(logits: &Tensor, sqrt_mix: &Tensor) -> candle_core::Result<Tensor> {
    let m = sigmoid(&logits.clamp(-MASK_LOGIT_LIMIT, MASK_LOGIT_LIMIT)?)?;
    (m + MASK_SQRT_EPS)?.sqrt()?.mul(sqrt_mix)
}

/// MSE between [`mask_estimate`] and `|S|^0.5`.
pub fn mask_loss(logits: &Tensor, sqrt_mix: &Tensor, sqrt_clean: &Tensor) -> candle_core::Result<Tensor> {
    (mask_estimate(logits, sqrt_mix)? - sqrt_clean)?.sqr()?.mean_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// The time-shifted matmul equals the causal convolution of FORMAT.md, computed by hand.
    #[test]
    fn conv_is_causal_dilated_and_tap_major() {
        let dev = Device::Cpu;
        let arch = Arch { width: 8, dilations: vec![2], ..Arch::new(8) };
        let mut rng = StdRng::seed_from_u64(1);
        let p = Params::init(&arch, &mut rng, &dev).unwrap();
        let (t, f) = (7, arch.n_features);
        let x: Vec<f32> = (0..t * f).map(|i| ((i * 13 % 29) as f32 - 14.0) * 0.1).collect();
        let xt = Tensor::from_vec(x.clone(), (1, t, f), &dev).unwrap();
        let outs = forward_trace(&arch, &p.weight_tensors(), &p.bias_tensors(), &xt, false, true).unwrap();
        let y0 = outs[0].flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let w = p.weights[0].as_tensor().flatten_all().unwrap().to_vec1::<f32>().unwrap();
        for tt in 0..t {
            for o in 0..8 {
                let mut acc = 0f32;
                for j in 0..3 {
                    let src = tt as isize - ((2 - j) * 2) as isize;
                    if src < 0 {
                        continue;
                    }
                    for i in 0..f {
                        acc += w[o * 3 * f + j * f + i] * x[src as usize * f + i];
                    }
                }
                assert!((acc - y0[tt * 8 + o]).abs() < 1e-4, "t={tt} o={o}");
            }
        }
        assert_eq!(outs.len(), 4); // conv, relu, linear, sigmoid
    }

    #[test]
    fn default_arch_is_about_58k_macs() {
        let a = Arch::new(64);
        a.validate().unwrap();
        assert_eq!(a.macs(), 128 * 3 * 64 + 2 * 64 * 3 * 64 + 64 * 129);
        assert_eq!(a.layers().len(), 8);
    }

    #[test]
    fn loss_is_zero_for_the_ideal_mask_and_finite_for_extremes() {
        let dev = Device::Cpu;
        let z = Tensor::new(&[[[-200f32, 0.0, 200.0]]], &dev).unwrap();
        let mix = Tensor::new(&[[[1f32, 4.0, 2.0]]], &dev).unwrap();
        let clean = Tensor::new(&[[[0f32, 4.0 * 0.5f32.sqrt(), 2.0]]], &dev).unwrap();
        let l = mask_loss(&z, &mix, &clean).unwrap().to_scalar::<f32>().unwrap();
        assert!(l.abs() < 1e-6, "{l}");
        let zv = Var::from_tensor(&z).unwrap();
        let g = mask_loss(zv.as_tensor(), &mix, &(clean + 1.0).unwrap()).unwrap().backward().unwrap();
        assert!(g
            .get(zv.as_tensor())
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap()
            .iter()
            .all(|v| v.is_finite()));
    }
}
