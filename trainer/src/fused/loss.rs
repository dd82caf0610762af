//! The loss terms of a step on the mask logits: the task MSE between `(sigmoid(z)·|X|)^0.5` and
//! `|S|^0.5` and, with a teacher, the same distance to the teacher's estimate; their gradient
//! with respect to the logits. The formulas are [`crate::model::mask_estimate`]'s.

use super::net::NetShape;
use anyhow::{bail, Result};
use rayon::prelude::*;

/// The candle graph's clamp of the logits and the ε under the square root.
const Z_LIMIT: f32 = crate::model::MASK_LOGIT_LIMIT;
const SQRT_EPS: f32 = crate::model::MASK_SQRT_EPS as f32;

/// What the backward pass needs from the forward pass, per data element.
#[derive(Default)]
pub struct LossCache {
    /// `∂estimate/∂z` (zero where the clamp is active).
    pub dest_dz: Vec<f32>,
    /// `estimate − |S|^0.5`.
    pub task_diff: Vec<f32>,
    /// `estimate − teacher estimate` (with a teacher).
    pub teacher_diff: Vec<f32>,
}

/// `e^x` for `x` in [−88, 88], within 2 ulp of the exact value: `2^n·p(r)` with
/// `x = n·ln 2 + r`, `|r| ≤ ln 2 / 2` and `p` the degree-6 Taylor polynomial; branch-free, so
/// the loops below vectorise.
#[inline(always)]
fn exp(x: f32) -> f32 {
    const SHIFTER: f32 = 12_582_912.0; // 1.5·2^23: adding it rounds to an integer
    let x = x.clamp(-87.0, 87.0);
    let shifted = x * std::f32::consts::LOG2_E + SHIFTER;
    let n = shifted - SHIFTER;
    let r = x - n * 0.693_145_75 - n * 1.428_606_8e-6; // ln 2 split in two (Cody–Waite)
    let p = 1.0 + r * (1.0 + r * (0.5 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    // n as a two's complement integer in the low bits of `shifted`, then 2^n from its exponent
    let n_bits = shifted.to_bits().wrapping_sub(SHIFTER.to_bits());
    p * f32::from_bits(n_bits.wrapping_add(127) << 23)
}

/// `sqrt(sigmoid(clamp(z)) + ε)` and its derivative in `z`.
#[inline(always)]
fn root_mask(z: f32) -> (f32, f32) {
    let zc = z.clamp(-Z_LIMIT, Z_LIMIT);
    let m = 1.0 / (1.0 + exp(-zc));
    let r = (m + SQRT_EPS).sqrt();
    let inside = if z > -Z_LIMIT && z < Z_LIMIT { 1.0 } else { 0.0 };
    (r, inside * 0.5 / r * m * (1.0 - m))
}

/// `Σ v²` in eight lanes (so that it vectorises), in f64 at the end.
fn sum_sq(v: &[f32]) -> f64 {
    let mut lanes = [0f32; 8];
    let chunks = v.chunks_exact(8);
    let tail: f32 = chunks.remainder().iter().map(|x| x * x).sum();
    for c in chunks {
        lanes.iter_mut().zip(c).for_each(|(l, x)| *l += x * x);
    }
    lanes.iter().map(|&l| f64::from(l)).sum::<f64>() + f64::from(tail)
}

/// The estimates `(sigmoid(z)·|X|)^0.5` of the logits in `z` (padded layout) as `(B·T) × n_out`.
pub fn estimate(s: &NetShape, z: &[f32], sqrt_mix: &[f32], out: &mut Vec<f32>) -> Result<()> {
    let k = s.n_out();
    check_len(s, z, sqrt_mix)?;
    out.clear();
    for (zi, mi) in data_rows(s, z).zip(sqrt_mix.chunks_exact(k)) {
        out.extend(zi.iter().zip(mi).map(|(&z, &m)| root_mask(z).0 * m));
    }
    Ok(())
}

fn check_len(s: &NetShape, z: &[f32], data: &[f32]) -> Result<()> {
    let k = s.n_out();
    if z.len() != s.rows() * k || data.len() != s.batch * s.frames * k {
        bail!("{} logits and {} targets for a batch of {} × {} frames × {k}", z.len(), data.len(), s.batch, s.frames);
    }
    Ok(())
}

/// The frame rows of the padded logits, batch item by batch item.
fn data_rows<'a>(s: &NetShape, z: &'a [f32]) -> impl Iterator<Item = &'a [f32]> {
    let (k, pad) = (s.n_out(), s.pad);
    z.chunks_exact(s.item_rows() * k).flat_map(move |item| item.get(pad * k..).unwrap_or_default().chunks_exact(k))
}

/// Task loss and (with `teacher`) the distance to the teacher's estimate, both means over every
/// element; fills `cache` for [`loss_grad`].
pub fn loss(
    s: &NetShape,
    z: &[f32],
    (sqrt_mix, sqrt_clean): (&[f32], &[f32]),
    teacher: Option<&[f32]>,
    cache: &mut LossCache,
    threads: usize,
) -> Result<(f64, f64)> {
    check_len(s, z, sqrt_mix)?;
    if sqrt_clean.len() != sqrt_mix.len() || teacher.is_some_and(|t| t.len() != sqrt_mix.len()) {
        bail!("the loss targets differ in length");
    }
    let (k, n, per) = (s.n_out(), sqrt_mix.len(), s.frames * s.n_out());
    let LossCache { dest_dz, task_diff, teacher_diff } = cache;
    dest_dz.resize(n, 0.0);
    task_diff.resize(n, 0.0);
    teacher_diff.clear();
    if per == 0 {
        return Ok((0.0, 0.0));
    }
    let item = |(i, (dd, td)): (usize, (&mut [f32], &mut [f32]))| {
        let zi = z.get(s.row(i, 0) * k..s.row(i, 0) * k + per).unwrap_or_default();
        let at = i * per..(i + 1) * per;
        let (mi, ci) = (sqrt_mix.get(at.clone()).unwrap_or_default(), sqrt_clean.get(at).unwrap_or_default());
        for ((((&z, &m), &c), d), t) in zi.iter().zip(mi).zip(ci).zip(dd.iter_mut()).zip(td.iter_mut()) {
            let (r, dr) = root_mask(z);
            *d = dr * m;
            *t = r * m - c;
        }
    };
    if threads > 1 {
        dest_dz.par_chunks_mut(per).zip(task_diff.par_chunks_mut(per)).enumerate().for_each(item);
    } else {
        dest_dz.chunks_mut(per).zip(task_diff.chunks_mut(per)).enumerate().for_each(item);
    }
    if let Some(t) = teacher {
        // estimate − teacher = (estimate − clean) + clean − teacher
        teacher_diff.extend(task_diff.iter().zip(sqrt_clean).zip(t).map(|((d, c), t)| d + c - t));
    }
    let count = (s.batch * s.frames * k).max(1) as f64;
    Ok((sum_sq(task_diff) / count, sum_sq(teacher_diff) / count))
}

/// The gradient of `g_task·task + g_teacher·distance` with respect to the logits, in the padded
/// layout with zero padding rows.
pub fn loss_grad(s: &NetShape, cache: &LossCache, (g_task, g_teacher): (f32, f32), dz: &mut Vec<f32>, threads: usize) {
    let (k, per) = (s.n_out(), s.frames * s.n_out());
    let n = (s.batch * per).max(1) as f32;
    let (a, b) = (2.0 * g_task / n, 2.0 * g_teacher / n);
    dz.resize(s.rows() * k, 0.0);
    let (pad, teacher) = (s.pad * k, !cache.teacher_diff.is_empty());
    let item = |(i, dzi): (usize, &mut [f32])| {
        let (head, dst) = dzi.split_at_mut(pad.min(dzi.len()));
        head.iter_mut().for_each(|v| *v = 0.0);
        let at = i * per..(i + 1) * per;
        let d = cache.dest_dz.get(at.clone()).unwrap_or_default();
        let td = cache.task_diff.get(at.clone()).unwrap_or_default();
        if teacher {
            let tt = cache.teacher_diff.get(at).unwrap_or_default();
            for (((o, &d), &x), &y) in dst.iter_mut().zip(d).zip(td).zip(tt) {
                *o = d * (a * x + b * y);
            }
        } else {
            for ((o, &d), &x) in dst.iter_mut().zip(d).zip(td) {
                *o = d * a * x;
            }
        }
    };
    let item_len = s.item_rows() * k;
    if item_len == 0 {
        return;
    }
    if threads > 1 {
        dz.par_chunks_mut(item_len).enumerate().for_each(item);
    } else {
        dz.chunks_mut(item_len).enumerate().for_each(item);
    }
}
