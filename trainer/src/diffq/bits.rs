//! Learnable bit widths and pseudo quantisation noise, all differentiable with candle's autograd
//! (no straight-through estimator anywhere).

use super::{BitsParam, DiffqConfig, NoiseKind, QuantLayout};
use candle_core::{Result, Tensor};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

/// Relative quantisation step `1 / (2^b − 1)` for a bit width `b` (plain f64 helper).
pub fn rel_step_of_bits(b: f64) -> f64 {
    1.0 / (b.exp2() - 1.0)
}

fn logit_of(t: f64) -> f64 {
    (t / (1.0 - t)).ln()
}

/// The logit that maps to `cfg.init_bits` under `cfg.param`.
pub fn init_logit(cfg: &DiffqConfig) -> f32 {
    logit_of_bits(f64::from(cfg.init_bits), cfg)
}

/// The logit that maps to `bits` under `cfg.param` (±30, i.e. within 1e-12 bit, at the ends of
/// the range).
pub fn logit_of_bits(bits: f64, cfg: &DiffqConfig) -> f32 {
    let (lo, hi) = (f64::from(cfg.min_bits), f64::from(cfg.max_bits));
    let b = bits.clamp(lo, hi);
    let t = match cfg.param {
        BitsParam::Bits => (b - lo) / (hi - lo),
        BitsParam::Noise => {
            let (ln_hi_noise, ln_lo_noise) = (rel_step_of_bits(lo).ln(), rel_step_of_bits(hi).ln());
            (rel_step_of_bits(b).ln() - ln_hi_noise) / (ln_lo_noise - ln_hi_noise)
        }
    };
    logit_of(t).clamp(-30.0, 30.0) as f32
}

/// Continuous bit widths `b` and relative steps `1/(2^b − 1)` for a tensor of logits.
pub fn bits_and_rel_step(logits: &Tensor, cfg: &DiffqConfig) -> Result<(Tensor, Tensor)> {
    let t = (logits.neg()?.exp()? + 1.0)?.recip()?; // sigmoid, differentiable
    let (lo, hi) = (f64::from(cfg.min_bits), f64::from(cfg.max_bits));
    match cfg.param {
        BitsParam::Bits => {
            let bits = t.affine(hi - lo, lo)?;
            let rel = ((bits.affine(std::f64::consts::LN_2, 0.0)?.exp()? - 1.0)?).recip()?;
            Ok((bits, rel))
        }
        BitsParam::Noise => {
            let (ln_hi_noise, ln_lo_noise) = (rel_step_of_bits(lo).ln(), rel_step_of_bits(hi).ln());
            let rel = t.affine(ln_lo_noise - ln_hi_noise, ln_hi_noise)?.exp()?;
            let bits = (rel.recip()? + 1.0)?.log()?.affine(1.0 / std::f64::consts::LN_2, 0.0)?;
            Ok((bits, rel))
        }
    }
}

/// Continuous bit widths only.
pub fn bits(logits: &Tensor, cfg: &DiffqConfig) -> Result<Tensor> {
    Ok(bits_and_rel_step(logits, cfg)?.0)
}

/// `max(w) − min(w)` over the whole tensor, differentiable (gradient to the extreme entries).
pub fn range(w: &Tensor) -> Result<Tensor> {
    let flat = w.flatten_all()?;
    flat.max(0)? - flat.min(0)?
}

/// Noise scale per logit: `Δ = (max(w) − min(w)) / (2^b − 1)`, shape `(n_logits,)`.
pub fn noise_scale(w: &Tensor, logits: &Tensor, cfg: &DiffqConfig) -> Result<Tensor> {
    let (_, rel) = bits_and_rel_step(logits, cfg)?;
    rel.broadcast_mul(&range(w)?)
}

/// The training-time weight `w + Δ·n`. `noise` has the shape of `w` (independent samples, so
/// its order does not matter), `logits` has `layout.n_logits` entries; each logit covers the
/// weights of its storage groups (consecutive ones in the row layout).
pub fn pseudo_quantize(
    w: &Tensor,
    logits: &Tensor,
    noise: &Tensor,
    layout: &QuantLayout,
    cfg: &DiffqConfig,
) -> Result<Tensor> {
    let gather = logit_gather(layout, w.device())?;
    pseudo_quantize_with(w, logits, noise, layout, gather.as_ref(), cfg)
}

/// Row pairs: the index of each row-major weight's logit (a `u32` tensor of `layout.count`),
/// built once per tensor and reused every step; `None` for row-major groups.
pub fn logit_gather(layout: &QuantLayout, device: &candle_core::Device) -> Result<Option<Tensor>> {
    match layout.row_pairs {
        Some(_) => Ok(Some(Tensor::from_vec(layout.logit_of_weight(), layout.count, device)?)),
        None => Ok(None),
    }
}

/// [`pseudo_quantize`] with the row-pair gather index from [`logit_gather`] already built.
pub fn pseudo_quantize_with(
    w: &Tensor,
    logits: &Tensor,
    noise: &Tensor,
    layout: &QuantLayout,
    gather: Option<&Tensor>,
    cfg: &DiffqConfig,
) -> Result<Tensor> {
    if let Some(idx) = gather {
        // Row pairs: spread each logit's Δ to its weights with a gather (differentiable).
        let delta = noise_scale(w, logits, cfg)?.index_select(idx, 0)?.reshape(w.shape())?;
        return w + noise.broadcast_mul(&delta)?;
    }
    let n = layout.n_logits;
    let per = layout.count / n.max(1);
    let delta = noise_scale(w, logits, cfg)?.reshape((n, 1))?;
    let wg = w.reshape((n, per))?;
    let ng = noise.reshape((n, per))?;
    (wg + ng.broadcast_mul(&delta)?)?.reshape(w.shape())
}

/// Draws `count` noise samples (`N(0,1)/2` or `U[−½, ½]`).
pub fn sample_noise<R: Rng>(kind: NoiseKind, count: usize, rng: &mut R) -> Vec<f32> {
    match kind {
        NoiseKind::Gaussian => (0..count)
            .map(|_| {
                let z: f32 = StandardNormal.sample(rng);
                0.5 * z
            })
            .collect(),
        NoiseKind::Uniform => (0..count).map(|_| rng.random::<f32>() - 0.5).collect(),
    }
}

#[cfg(test)]
#[path = "bits_tests.rs"]
mod tests;
