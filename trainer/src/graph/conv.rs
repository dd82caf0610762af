//! Causal convolutions as time-shifted matmuls (the runtime's storage order): conv1d
//! `[out][tap][in/groups]`, conv2d `[out][tap][in_channels/groups][kernel_f]` with "same" zero
//! padding in frequency. Values are `(B, T, width)`, maps channel-major.

use candle_core::{Result, Tensor, D};

/// `x` `(B, T, W)` with `n` frames of `pad` (a constant) before the first.
pub fn pad_time(x: &Tensor, n: usize, pad: f32) -> Result<Tensor> {
    if n == 0 {
        return Ok(x.clone());
    }
    let (b, _, w) = x.dims3()?;
    let front = (Tensor::zeros((b, n, w), x.dtype(), x.device())? + f64::from(pad))?;
    Tensor::cat(&[&front, x], 1)
}

/// Sample and hold over time: frame `t` of `y (B, T, W)` replaced by frame `stride·⌊t/stride⌋`
/// (a strided conv1d computes on frames `t ≡ 0 mod stride` and holds that output in between,
/// as the runtime runs it).
pub fn hold(y: &Tensor, stride: usize) -> Result<Tensor> {
    if stride <= 1 {
        return Ok(y.clone());
    }
    let t = y.dim(1)?;
    let idx: Vec<u32> = (0..t).map(|i| (i / stride * stride) as u32).collect();
    y.index_select(&Tensor::from_vec(idx, t, y.device())?, 1)
}

/// `x (N, K·in)` rows laid out `[K][in]`, times the grouped weight `w (out, K·in/g)`: group `i`
/// reads inputs `[i·in/g, (i+1)·in/g)` of every run of `in` and writes outputs `[i·out/g, …)`.
pub fn grouped_matmul(x: &Tensor, w: &Tensor, runs: usize, groups: usize) -> Result<Tensor> {
    if groups == 1 {
        return x.matmul(&w.t()?);
    }
    let (n, len) = x.dims2()?;
    let (out, _) = w.dims2()?;
    let ipg = len / runs / groups;
    let opg = out / groups;
    let xg = x.reshape((n, runs, groups, ipg))?.transpose(1, 2)?.reshape((n, groups, runs * ipg))?.transpose(0, 1)?;
    let wg = w.reshape((groups, opg, runs * ipg))?.transpose(1, 2)?;
    xg.contiguous()?.matmul(&wg.contiguous()?)?.transpose(0, 1)?.reshape((n, out))
}

/// One causal conv1d: `x (B, T, in)` → `(B, T, out)`; `pad` is the value of the frames before
/// the stream (the features' raw zero, normalised, for a layer reading the input; else 0).
pub fn conv1d(
    x: &Tensor,
    w: &Tensor,
    b: &Tensor,
    kernel: usize,
    dilation: usize,
    groups: usize,
    pad: f32,
) -> Result<Tensor> {
    let (bs, t, inp) = x.dims3()?;
    let out = w.dim(0)?;
    let xp = pad_time(x, (kernel - 1) * dilation, pad)?;
    let taps: Vec<Tensor> = (0..kernel).map(|j| xp.narrow(1, j * dilation, t)).collect::<Result<_>>()?;
    let xs = if kernel > 1 { Tensor::cat(&taps, 2)? } else { xp };
    let y = grouped_matmul(&xs.reshape((bs * t, kernel * inp))?, w, kernel, groups)?;
    y.broadcast_add(b)?.reshape((bs, t, out))
}

/// `x` `(B, T, C, F)` with `n` positions of `pad` on both sides of the frequency axis.
fn pad_freq(x: &Tensor, n: usize, pad: f32) -> Result<Tensor> {
    if pad == 0.0 {
        return x.pad_with_zeros(3, n, n);
    }
    let (b, t, c, _) = x.dims4()?;
    let side = (Tensor::zeros((b, t, c, n), x.dtype(), x.device())? + f64::from(pad))?;
    Tensor::cat(&[&side, x, &side], 3)
}

/// The shape of a conv2d: taps in time and frequency, strides, groups, input map `c × f`.
#[derive(Clone, Copy, Debug)]
pub struct Conv2d {
    pub kernel: usize,
    pub kernel_f: usize,
    pub stride_f: usize,
    pub dilation: usize,
    pub groups: usize,
    pub c: usize,
    pub f: usize,
}

/// One conv2d over `x (B, T, c·f)` → `(B, T, out·⌈f/stride_f⌉)`; `pad` is the value before the
/// stream and outside the frequency range (the features' raw zero, normalised, for a layer
/// reading the input, so that export can fold the normalisation into its bias; else 0).
pub fn conv2d(x: &Tensor, w: &Tensor, b: &Tensor, s: Conv2d, pad: f32) -> Result<Tensor> {
    let (bs, t, _) = x.dims3()?;
    let out = w.dim(0)?;
    let f_out = s.f.div_ceil(s.stride_f);
    let half = (s.kernel_f - 1) / 2;
    let xp = pad_time(x, (s.kernel - 1) * s.dilation, pad)?;
    let tp = xp.dim(1)?;
    let xp = xp.reshape((bs, tp, s.c, s.f))?;
    let xp = if half > 0 { pad_freq(&xp, half, pad)? } else { xp };
    let idx: Vec<u32> = (0..f_out).map(|p| (p * s.stride_f) as u32).collect();
    let idx = Tensor::from_vec(idx, f_out, x.device())?;
    let mut cols = Vec::with_capacity(s.kernel);
    for j in 0..s.kernel {
        let frames = xp.narrow(1, j * s.dilation, t)?;
        let mut taps = Vec::with_capacity(s.kernel_f);
        for u in 0..s.kernel_f {
            let shifted = frames.narrow(3, u, s.f)?;
            taps.push(if s.stride_f > 1 { shifted.contiguous()?.index_select(&idx, 3)? } else { shifted });
        }
        // (B, T, C, F_out, kernel_f) → (B, T, F_out, C·kernel_f): one tap's run `[c][u]`
        let run = Tensor::stack(&taps, 4)?.permute((0, 1, 3, 2, 4))?;
        cols.push(run.reshape((bs, t, f_out, s.c * s.kernel_f))?);
    }
    let xs = Tensor::cat(&cols, D::Minus1)?.reshape((bs * t * f_out, s.kernel * s.c * s.kernel_f))?;
    let y = grouped_matmul(&xs, w, s.kernel, s.groups)?.broadcast_add(b)?;
    y.reshape((bs, t, f_out, out))?.permute((0, 1, 3, 2))?.reshape((bs, t, out * f_out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    fn t(v: Vec<f32>, shape: &[usize]) -> Tensor {
        Tensor::from_vec(v, shape, &Device::Cpu).unwrap()
    }

    fn vals(n: usize, k: usize) -> Vec<f32> {
        (0..n).map(|i| ((i * k % 23) as f32 - 11.0) * 0.1).collect()
    }

    /// Grouped conv1d equals the direct sum `Σ_j Σ_i W[n, j, i]·x[t − (K−1−j)·d][g(n)·ipg + i]`.
    #[test]
    fn grouped_conv1d_is_the_direct_sum() {
        let (tl, inp, out, k, d, g) = (6, 4, 6, 3, 2, 2);
        let (ipg, opg) = (inp / g, out / g);
        let x = vals(tl * inp, 7);
        let w = vals(out * k * ipg, 5);
        let b = vals(out, 3);
        let y =
            conv1d(&t(x.clone(), &[1, tl, inp]), &t(w.clone(), &[out, k * ipg]), &t(b.clone(), &[out]), k, d, g, 0.0)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap();
        for tt in 0..tl {
            for n in 0..out {
                let mut acc = b[n];
                for j in 0..k {
                    let Some(src) = (tt + j * d).checked_sub((k - 1) * d) else { continue };
                    for i in 0..ipg {
                        acc += w[n * k * ipg + j * ipg + i] * x[src * inp + (n / opg) * ipg + i];
                    }
                }
                assert!((acc - y[tt * out + n]).abs() < 1e-5, "t {tt} n {n}: {acc} vs {}", y[tt * out + n]);
            }
        }
    }

    /// conv2d equals the direct sum `Σ_j Σ_i Σ_u W[n][j][i][u]·x[…]`, with "same" padding, a
    /// frequency stride and groups of two channels.
    #[test]
    fn conv2d_is_the_direct_sum() {
        let s = Conv2d { kernel: 2, kernel_f: 3, stride_f: 2, dilation: 1, groups: 2, c: 4, f: 5 };
        let (tl, out) = (4, 4);
        let f_out = 3;
        let x = vals(tl * s.c * s.f, 7);
        let cg = s.c / s.groups;
        let row = s.kernel * s.kernel_f * cg;
        let w = vals(out * row, 5);
        let b = vals(out, 3);
        let y = conv2d(&t(x.clone(), &[1, tl, s.c * s.f]), &t(w.clone(), &[out, row]), &t(b.clone(), &[out]), s, 0.0)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        for tt in 0..tl {
            for n in 0..out {
                for p in 0..f_out {
                    let mut acc = b[n];
                    for j in 0..s.kernel {
                        let Some(src) = (tt + j).checked_sub(s.kernel - 1) else { continue };
                        for i in 0..cg {
                            for u in 0..s.kernel_f {
                                let Some(fi) = (p * s.stride_f + u).checked_sub(1).filter(|&v| v < s.f) else {
                                    continue;
                                };
                                let ci = n / (out / s.groups) * cg + i;
                                let wi = n * row + (j * cg + i) * s.kernel_f + u;
                                acc += w[wi] * x[src * s.c * s.f + ci * s.f + fi];
                            }
                        }
                    }
                    let got = y[tt * out * f_out + n * f_out + p];
                    assert!((acc - got).abs() < 1e-5, "t {tt} n {n} p {p}: {acc} vs {got}");
                }
            }
        }
    }
}
