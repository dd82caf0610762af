//! One time column of a conv2d (time-causal, frequency "same") on the integer path.

use super::conv2d::{conv2d_walk, input_sums, Conv2dShape, Conv2dSink, Span, BLOCK};
use super::finish_i8::Finish;
use super::grouped::LevelWalk;
use crate::error::{Error, Part};
use crate::format::{IntParams, Weights};

/// Longest row (`k_t · k_f · C_in/G` weights) whose input sum is exact in i32.
const MAX_ROW: usize = 1 << 23;
/// Levels summed in i32 before folding into i64: `256·128·(2^15 − 1) < 2^31`.
const FLUSH: u32 = 256;

/// The integer twin of [`super::conv2d_f32`] (same shapes, storage order and padding; packed
/// weights only). Each output `(c, f)` uses the constants of a linear layer with one row per
/// output channel: `acc = m_min·Σq + Σ_g m_bits[b_g−1]·A_g + bias_q[c]` over the inputs the
/// output reads (padding and `None` taps add nothing), `q = clamp((acc + 2^(S−1)) >> S, −127,
/// 127)`; the writer lays the bias constants `c[n]` out per output channel (`C_out` values).
pub fn conv2d_i8(
    w: &Weights<'_>,
    params: &IntParams<'_>,
    taps: &[Option<&[i8]>],
    shape: &Conv2dShape,
    out: &mut [i8],
) -> Result<(), Error> {
    let Weights::Packed(p) = w else {
        return Err(Error::Unsupported(Part::Header));
    };
    let c_out = shape.check(p.count as usize, taps, out.len())?;
    if params.bias.len() != c_out || taps.len() * shape.k_f * (shape.c_in / shape.groups) > MAX_ROW {
        return Err(Error::KernelShape);
    }
    let mut sink = IntSink {
        params,
        finish: Finish::new(params, 0),
        m: core::array::from_fn(|b| params.m32(b as u8)),
        taps,
        shape,
        out,
        acc: [0; BLOCK],
        a: [0; BLOCK],
        sum_q: [0; BLOCK],
        b: 0,
        n: 0,
        len: 0,
    };
    conv2d_walk(LevelWalk::new(p)?, LevelWalk::next_level, taps, shape, c_out, &mut sink)
}

/// The integer kernel's state for one block of one channel's outputs.
struct IntSink<'k, 'p, 't> {
    params: &'k IntParams<'p>,
    /// The output stage: `requant(acc + bias_q[c])`.
    finish: Finish<'k, 'p>,
    /// `m_bits[b − 1]` at index `b` (0 at index 0), as stored (each product with an i32 sum is
    /// one 32×32→64 multiply); a table in the sink, not `IntParams::m32` per fold: that measured
    /// 0.35 instructions per MAC more on kbench's conv2d rows (14.81 → 15.16).
    m: [i32; 16],
    taps: &'k [Option<&'t [i8]>],
    shape: &'k Conv2dShape,
    out: &'k mut [i8],
    /// Per block output: the i64 sum of folded runs, the current run's i32 level sum (one
    /// width `b`, `n` levels so far), the inputs' sum Σq (one per channel group and block).
    acc: [i64; BLOCK],
    a: [i32; BLOCK],
    sum_q: [i32; BLOCK],
    b: u8,
    n: u32,
    len: usize,
}

impl IntSink<'_, '_, '_> {
    /// Folds the current run into the i64 sums: `acc += m_b·a`, `a = 0`.
    fn fold(&mut self) {
        let mb = self.m.get(usize::from(self.b)).copied().unwrap_or(0);
        for (s, v) in self.acc.iter_mut().zip(self.a.iter_mut()).take(self.len) {
            *s = s.wrapping_add(i64::from(mb) * i64::from(*v));
            *v = 0;
        }
        self.n = 0;
    }
}

impl Conv2dSink<(u8, u32), i8> for IntSink<'_, '_, '_> {
    fn start(&mut self, group: usize, fo0: usize, len: usize, fresh: bool) {
        if fresh {
            input_sums(self.taps, self.shape, group, fo0, self.sum_q.get_mut(..len).unwrap_or_default());
        }
        self.acc.iter_mut().take(len).for_each(|s| *s = 0);
        (self.n, self.len) = (0, len);
    }

    #[inline(always)]
    fn weight(&mut self, (b, l): (u8, u32), xs: Option<Span<'_, i8>>) {
        if b != self.b || self.n == FLUSH {
            self.fold();
            self.b = b;
        }
        if let Some(xs) = xs {
            xs.each(&mut self.a, |s, q| *s += i32::from(q) * l as i32);
        }
        self.n += 1;
    }

    fn end(&mut self, channel: usize, fo0: usize, len: usize) {
        self.fold();
        let m_min = self.params.m_min;
        let outs = self.out.get_mut(channel * self.shape.f_out() + fo0..).unwrap_or_default();
        for ((y, s), q) in outs.iter_mut().zip(&self.acc).zip(&self.sum_q).take(len) {
            *y = self.finish.one(s.wrapping_add(i64::from(m_min) * i64::from(*q)), channel);
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::kernels::conv2d_f32::tests::{reference, shapes};
    use crate::kernels::test_util::{OwnedPacked, OwnedParams, Rng};
    use std::vec::Vec;

    /// Exact against the formula computed weight by weight, and within half an output step
    /// (plus the constants' rounding) of the f64 frame on the dequantised inputs.
    #[test]
    fn conv2d_i8_equals_the_formula_and_tracks_f64() {
        let mut rng = Rng::new(81);
        let mut worst = 0.0f64;
        for (shape, k_t, c_out, gs) in shapes() {
            let count = c_out * k_t * shape.k_f * shape.c_in / shape.groups;
            let t = OwnedPacked::random(&mut rng, count, gs, &[2, 5, 8, 12], -0.6, 0.8);
            let bias = rng.f32s(c_out, 0.5);
            let c = OwnedParams::new(t.min, t.max, &bias, 1.0 / 64.0, 1.0 / 32.0);
            let taps: Vec<Option<Vec<i8>>> =
                (0..k_t).map(|j| (j > 0 || k_t == 1).then(|| rng.i8s(shape.c_in * shape.freq))).collect();
            let refs: Vec<Option<&[i8]>> = taps.iter().map(|t| t.as_deref()).collect();
            let mut out = std::vec![0i8; c_out * shape.f_out()];
            conv2d_i8(&Weights::Packed(t.packed()), &c.params(), &refs, &shape, &mut out).unwrap();
            let p = c.params();
            let x64: Vec<Option<Vec<f64>>> =
                taps.iter().map(|t| t.as_ref().map(|v| v.iter().map(|&q| f64::from(q)).collect())).collect();
            // The formula: Σ q·(m_min + m_b·level) in i64 (exact through f64: |terms| < 2^53).
            let exact = reference(
                |i| (p.m_min as f64) + (p.m(t.widths[i / gs]) * i64::from(t.levels[i])) as f64,
                &x64,
                &shape,
                c_out,
            );
            let real = reference(|i| t.weight(i) / 64.0, &x64, &shape, c_out);
            for (i, q) in out.iter().enumerate() {
                let ch = i / shape.f_out();
                assert_eq!(*q, p.requant(exact[i] as i64 + p.bias_at(ch)), "{shape:?} output {i}");
                let want = ((real[i] + f64::from(bias[ch])) * 32.0).clamp(-127.0, 127.0);
                worst = worst.max((f64::from(*q) - want).abs());
            }
        }
        std::println!("conv2d int vs f64: {worst} output steps");
        assert!(worst <= 0.51, "int vs f64: {worst} output steps");
    }

    #[test]
    fn conv2d_i8_rejects_inconsistent_lengths() {
        let mut rng = Rng::new(82);
        let shape = Conv2dShape { c_in: 4, freq: 6, k_f: 3, stride_f: 2, groups: 4 };
        let t = OwnedPacked::random(&mut rng, 8 * 2 * 3, 16, &[4], -0.5, 0.5);
        let c = OwnedParams::new(t.min, t.max, &[0.0; 8], 1.0 / 64.0, 1.0 / 32.0);
        let x = rng.i8s(24);
        let taps = [None, Some(&x[..])];
        let w = Weights::Packed(t.packed());
        let mut out = [0i8; 24];
        assert!(conv2d_i8(&w, &c.params(), &taps, &shape, &mut out).is_ok());
        assert_eq!(conv2d_i8(&w, &c.params(), &taps, &shape, &mut out[..21]), Err(Error::KernelShape));
        let c7 = OwnedParams::new(t.min, t.max, &[0.0; 7], 1.0 / 64.0, 1.0 / 32.0);
        assert_eq!(conv2d_i8(&w, &c7.params(), &taps, &shape, &mut out), Err(Error::KernelShape));
    }
}
