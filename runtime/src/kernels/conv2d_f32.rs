//! One time column of a conv2d (time-causal, frequency "same") on the f32 path.

use super::conv2d::{conv2d_walk, Conv2dShape, Conv2dSink, Span, BLOCK};
use super::grouped::LevelWalk;
use super::matvec_f32::{bias_value, plain_values, ReadValue};
use crate::error::Error;
use crate::format::{Bias, Weights};
use crate::quant::{scale_for_bits, MAX_BITS};

/// `out[c·F_out + f] = bias[c] + Σ_{j, i, k} W[c, j, i, k] · taps[j][(g(c)·ipg + i)·F + f·stride_f
/// − pad + k]` (see [`Conv2dShape`] and the `conv2d` module: storage `[C_out][k_t][C_in/G][k_f]`,
/// `pad = (k_f − 1)/2`, zeros outside the input). `taps[j]`: the input column `[C_in][F]` of
/// `k_t − 1 − j` frames ago (`None` before the stream start); `out`: `[C_out][F_out]`; `bias`:
/// one value per output channel. Packed weights are dequantised as FORMAT.md says
/// (`min + level·scale_b`, no fused multiply-add), each output summed in storage order.
pub fn conv2d_f32(
    w: &Weights<'_>,
    bias: Option<&Bias<'_>>,
    taps: &[Option<&[f32]>],
    shape: &Conv2dShape,
    out: &mut [f32],
) -> Result<(), Error> {
    let c_out = shape.check(w.count(), taps, out.len())?;
    if bias.is_some_and(|b| b.len() != c_out) {
        return Err(Error::KernelShape);
    }
    let mut sink = F32Sink { bias, f_out: shape.f_out(), out, acc: [0.0; BLOCK] };
    match (w, plain_values(w)) {
        (Weights::Packed(p), _) => {
            let scales: [f32; MAX_BITS as usize + 1] = core::array::from_fn(|b| scale_for_bits(p.min, p.max, b as u8));
            let next = |lw: &mut LevelWalk<'_>| {
                let (b, l) = lw.next_level()?;
                Ok(p.min + l as f32 * scales.get(usize::from(b)).copied().unwrap_or(0.0))
            };
            conv2d_walk(LevelWalk::new(p)?, next, taps, shape, c_out, &mut sink)
        }
        // Plain values (f32 or f16) share one copy of the walk, the reader chosen at run time.
        (_, Some((d, size, read))) => plain(d, size, read, taps, shape, c_out, &mut sink),
        (_, None) => Err(Error::KernelShape),
    }
}

/// [`conv2d_f32`] on plain little-endian values of `size` bytes each, read by `read` (one copy
/// for both kinds).
#[inline(never)]
fn plain(
    d: &[u8],
    size: usize,
    read: ReadValue,
    taps: &[Option<&[f32]>],
    shape: &Conv2dShape,
    c_out: usize,
    sink: &mut F32Sink<'_, '_>,
) -> Result<(), Error> {
    let next = |it: &mut core::slice::ChunksExact<'_, u8>| it.next().map(read).ok_or(Error::KernelShape);
    conv2d_walk(d.chunks_exact(size), next, taps, shape, c_out, sink)
}

/// The f32 kernel's state: one block of one channel's outputs, each the sum of its products
/// so far, in storage order.
struct F32Sink<'k, 'b> {
    bias: Option<&'k Bias<'b>>,
    f_out: usize,
    out: &'k mut [f32],
    acc: [f32; BLOCK],
}

impl Conv2dSink<f32, f32> for F32Sink<'_, '_> {
    fn start(&mut self, _group: usize, _fo0: usize, len: usize, _fresh: bool) {
        self.acc.iter_mut().take(len).for_each(|a| *a = 0.0);
    }

    #[inline(always)]
    fn weight(&mut self, w: f32, xs: Option<Span<'_, f32>>) {
        if let Some(xs) = xs {
            xs.each(&mut self.acc, |a, x| *a += w * x);
        }
    }

    fn end(&mut self, channel: usize, fo0: usize, len: usize) {
        let b = bias_value(self.bias, channel);
        let outs = self.out.get_mut(channel * self.f_out + fo0..).unwrap_or_default();
        outs.iter_mut().zip(&self.acc).take(len).for_each(|(y, a)| *y = a + b);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    extern crate std;
    use super::*;
    use crate::kernels::test_util::{f32_bytes, OwnedPacked, Rng};
    use std::vec::Vec;

    /// (shape, k_t, C_out, group size): stride 1 and 2, odd and even k_f, groups and depthwise,
    /// groups spanning rows and rows holding several groups, outputs in several blocks.
    pub(crate) fn shapes() -> [(Conv2dShape, usize, usize, usize); 8] {
        let s = |c_in, freq, k_f, stride_f, groups| Conv2dShape { c_in, freq, k_f, stride_f, groups };
        [
            (s(4, 10, 3, 1, 1), 2, 6, 16),
            (s(4, 9, 3, 2, 2), 3, 4, 24),
            (s(6, 7, 2, 1, 3), 2, 3, 8),
            (s(8, 12, 3, 2, 8), 2, 8, 48),
            (s(3, 5, 5, 3, 1), 1, 8, 40),
            (s(2, 16, 1, 1, 1), 4, 4, 8),
            (s(2, 70, 3, 1, 2), 2, 4, 24),
            (s(3, 75, 4, 2, 1), 2, 2, 8),
        ]
    }

    /// Calls `f(output, weight, tap, input)` (indices) for every product of the frame of
    /// `k_t` taps, each output's products in storage order, padding left out.
    fn products(s: &Conv2dShape, k_t: usize, c_out: usize, mut f: impl FnMut(usize, usize, usize, usize)) {
        let (ipg, opg, f_out, pad) = (s.c_in / s.groups, c_out / s.groups, s.f_out(), (s.k_f - 1) as i64 / 2);
        for c in 0..c_out {
            for fo in 0..f_out {
                for j in 0..k_t {
                    for i in 0..ipg {
                        for k in 0..s.k_f {
                            let pos = (fo * s.stride_f + k) as i64 - pad;
                            if (0..s.freq as i64).contains(&pos) {
                                let idx = ((c * k_t + j) * ipg + i) * s.k_f + k;
                                f(c * f_out + fo, idx, j, ((c / opg) * ipg + i) * s.freq + pos as usize);
                            }
                        }
                    }
                }
            }
        }
    }

    /// The f64 frame without bias, `w(idx)` weight `idx` of the `[C_out][k_t][C_in/G][k_f]`
    /// tensor, `x` the taps as f64.
    pub(crate) fn reference(
        w: impl Fn(usize) -> f64,
        x: &[Option<Vec<f64>>],
        s: &Conv2dShape,
        c_out: usize,
    ) -> Vec<f64> {
        let mut out = std::vec![0.0; c_out * s.f_out()];
        products(s, x.len(), c_out, |o, idx, j, inp| {
            if let Some(t) = &x[j] {
                out[o] += w(idx) * t[inp];
            }
        });
        out
    }

    /// The frame in f32, each output's products summed in storage order, as FORMAT.md
    /// dequantises (`min + level·scale_b`), then the bias: what the kernel must equal exactly.
    fn storage_order(t: &OwnedPacked, x: &[Option<&[f32]>], bias: &[f32], s: &Conv2dShape, c_out: usize) -> Vec<f32> {
        let mut out = std::vec![0.0f32; c_out * s.f_out()];
        products(s, x.len(), c_out, |o, idx, j, inp| {
            if let Some(xs) = x[j] {
                out[o] += t.weight(idx) as f32 * xs[inp]; // the weight: an f32 widened, exact
            }
        });
        out.iter_mut().enumerate().for_each(|(o, y)| *y += bias[o / s.f_out()]);
        out
    }

    #[test]
    fn conv2d_f32_matches_f64_reference() {
        let mut rng = Rng::new(71);
        for (shape, k_t, c_out, gs) in shapes() {
            let count = c_out * k_t * shape.k_f * shape.c_in / shape.groups;
            let t = OwnedPacked::random(&mut rng, count, gs, &[2, 5, 8, 12], -0.6, 0.8);
            let taps: Vec<Option<Vec<f32>>> =
                (0..k_t).map(|j| (j > 0 || k_t == 1).then(|| rng.f32s(shape.c_in * shape.freq, 2.0))).collect();
            let refs: Vec<Option<&[f32]>> = taps.iter().map(|t| t.as_deref()).collect();
            let bias = rng.f32s(c_out, 1.0);
            let bb = f32_bytes(&bias);
            let mut out = std::vec![0.0f32; c_out * shape.f_out()];
            conv2d_f32(&Weights::Packed(t.packed()), Some(&Bias::F32(&bb)), &refs, &shape, &mut out).unwrap();
            let x64: Vec<Option<Vec<f64>>> =
                taps.iter().map(|t| t.as_ref().map(|v| v.iter().map(|&x| f64::from(x)).collect())).collect();
            let want = reference(|i| t.weight(i), &x64, &shape, c_out);
            assert_eq!(out, storage_order(&t, &refs, &bias, &shape, c_out), "{shape:?}");
            let tol = 4e-6 * (count / c_out + 2) as f64;
            for (i, (y, r)) in out.iter().zip(&want).enumerate() {
                let err = (f64::from(*y) - r - f64::from(bias[i / shape.f_out()])).abs();
                assert!(err <= tol, "{shape:?} output {i}: error {err:e} > {tol:e}");
            }
        }
    }

    #[test]
    fn conv2d_f32_plain_weights_and_shape_errors() {
        let mut rng = Rng::new(72);
        let shape = Conv2dShape { c_in: 2, freq: 5, k_f: 3, stride_f: 2, groups: 2 };
        let w = rng.f32s(4 * 2 * 3, 1.0);
        let wb = f32_bytes(&w);
        let x = rng.f32s(10, 2.0);
        let taps = [Some(&x[..]), Some(&x[..])];
        let mut out = [0.0f32; 12];
        conv2d_f32(&Weights::F32(&wb), None, &taps, &shape, &mut out).unwrap();
        let x64 = std::vec![Some(x.iter().map(|&v| f64::from(v)).collect::<Vec<_>>()); 2];
        let want = reference(|i| f64::from(w[i]), &x64, &shape, 4);
        for (y, r) in out.iter().zip(&want) {
            assert!((f64::from(*y) - r).abs() < 1e-5, "{y} vs {r}");
        }
        let wt = Weights::F32(&wb);
        assert_eq!(conv2d_f32(&wt, None, &taps, &shape, &mut out[..11]), Err(Error::KernelShape));
        assert_eq!(conv2d_f32(&wt, None, &taps[..1], &shape, &mut out), Err(Error::KernelShape));
        let short = [Some(&x[..9]), Some(&x[..])];
        assert_eq!(conv2d_f32(&wt, None, &short, &shape, &mut out), Err(Error::KernelShape));
        let bad = Conv2dShape { groups: 3, ..shape };
        assert_eq!(conv2d_f32(&wt, None, &taps, &bad, &mut out), Err(Error::KernelShape));
        let b3 = f32_bytes(&[0.0; 3]);
        assert_eq!(conv2d_f32(&wt, Some(&Bias::F32(&b3)), &taps, &shape, &mut out), Err(Error::KernelShape));
    }
}
