//! One frame of a grouped or depthwise causal conv1d on the integer path.

use super::finish_i8::Finish;
use super::grouped::{check_grouped, for_each_chunk, for_each_run, is_matvec, three_taps, Cursor};
use super::matvec_i8::matvec_i8;
use super::shape::non_zero;
use crate::error::{Error, Part};
use crate::format::{IntParams, Packed, Weights, MAX_KERNEL};
use core::num::NonZeroUsize;

/// Longest row (`kernel · in/groups` weights) whose input sum `Σq` is exact in i32.
const MAX_ROW: usize = 1 << 23;

/// The integer twin of [`super::conv_grouped_f32`] (same shapes and storage order; packed
/// weights only), with the constants and formula of a linear layer per output row:
/// `acc = m_min·Σq_row + Σ_g m_bits[b_g−1]·A_{g∩row} + bias_q[n]`,
/// `q = clamp((acc + 2^(S−1)) >> S, −127, 127)`, where `Σq_row` and `A` sum only over the inputs
/// row `n` reads (a `None` tap adds nothing): i64, exact for any input with a valid blob's
/// constants (wrapping, never trapping, on hostile ones). One group whose
/// packed groups lie within one tap is [`matvec_i8`] itself, with the same results.
pub fn conv_grouped_i8(
    w: &Weights<'_>,
    params: &IntParams<'_>,
    taps: &[Option<&[i8]>],
    in_len: usize,
    groups: usize,
    out: &mut [i8],
) -> Result<(), Error> {
    if is_matvec(w, groups, in_len) {
        return matvec_i8(w, params, taps, in_len, out);
    }
    let Weights::Packed(p) = w else {
        return Err(Error::Unsupported(Part::Header));
    };
    let ipg = check_grouped(p.count as usize, taps, in_len, groups, out.len())?;
    if params.bias.len() != out.len() || taps.len() * ipg > MAX_ROW {
        return Err(Error::KernelShape);
    }
    grouped_rows_i8(p, params, taps, ipg, out.len() / groups, out)
}

/// Rows in storage order: per run of levels (one width, one row) an i32 level sum, folded into
/// the row's i64 accumulator with that width's multiplier.
fn grouped_rows_i8(
    p: &Packed<'_>,
    params: &IntParams<'_>,
    taps: &[Option<&[i8]>],
    ipg: usize,
    opg: usize,
    out: &mut [i8],
) -> Result<(), Error> {
    if ipg == 1 {
        return depthwise_rows_i8(p, params, taps, opg, out);
    }
    let mut cur = Cursor::new(taps, ipg, opg);
    let mut outs = out.iter_mut();
    let (mut n, mut sum_q, mut acc) = (0usize, 0i32, 0i64);
    for_each_chunk(p, |b, levels| {
        let mb = i64::from(params.m32(b));
        for_each_run(&mut cur, &levels, |lr, xs, row_end| {
            if let Some(xs) = xs {
                // |a| ≤ 8·128·(2^15 − 1) < 2^25: exact in i32.
                let mut a = 0i32;
                for (l, x) in lr.iter().zip(xs) {
                    sum_q += i32::from(*x);
                    a += i32::from(*x) * *l as i32;
                }
                acc = acc.wrapping_add(mb * i64::from(a));
            }
            if row_end {
                let total = acc.wrapping_add(params.min_term(i64::from(sum_q))).wrapping_add(params.bias_at(n));
                if let Some(y) = outs.next() {
                    *y = params.requant(total);
                }
                (n, sum_q, acc) = (n + 1, 0, 0);
            }
        });
    })
}

/// Depthwise (one input per group): rows in blocks of 8, whose `8·kernel` levels (`kernel`
/// runs of 8, each with its width) are gathered first. A block of one width sums per row
/// `A = Σ_j level_j·q_j` and `Σq` in i32: `acc = bias_q + m_b·A + m_min·Σq`. A block of
/// several widths sums `bias_q + Σ_j m_{b_j}·level_j·q_j + m_min·Σq`: both are the formula's
/// integer (the multipliers are i32, each product a 32×32→64 multiply).
fn depthwise_rows_i8(
    p: &Packed<'_>,
    params: &IntParams<'_>,
    taps: &[Option<&[i8]>],
    opg: usize,
    out: &mut [i8],
) -> Result<(), Error> {
    // Rows of `k` weights, non-zero by type: the row loop holds no panic.
    let dw = Depthwise { params, finish: Finish::new(params, 0), taps, k: non_zero(taps.len())?, opg: non_zero(opg)? };
    let (mut levels, mut widths) = ([0u32; 8 * MAX_KERNEL], [0u8; MAX_KERNEL]);
    let (mut filled, mut n0) = (0usize, 0usize);
    let mut blocks = out.chunks_mut(8);
    for_each_chunk(p, |b, run| {
        if let (Some(dst), Some(w)) = (levels.get_mut(filled..filled + 8), widths.get_mut(filled / 8)) {
            dst.copy_from_slice(&run);
            *w = b;
        }
        filled += 8;
        if filled == 8 * dw.k.get() {
            if let Some(ys) = blocks.next() {
                dw.block(&levels, &widths, n0, ys);
            }
            (filled, n0) = (0, n0 + 8);
        }
    })?;
    if let Some(ys) = blocks.next() {
        dw.block(&levels, &widths, n0, ys); // the last rows (fewer than 8)
    }
    Ok(())
}

/// A depthwise frame's constants: `k` taps, `opg` outputs per input.
struct Depthwise<'k, 'p> {
    params: &'k IntParams<'p>,
    /// The output stage: `requant(acc + bias_q[n])`.
    finish: Finish<'k, 'p>,
    taps: &'k [Option<&'k [i8]>],
    k: NonZeroUsize,
    opg: NonZeroUsize,
}

impl Depthwise<'_, '_> {
    /// Rows `n0..n0 + ys.len()` (at most 8) from their `ys.len()·k` levels and the widths of
    /// the runs of 8 that hold them.
    fn block(&self, levels: &[u32], widths: &[u8], n0: usize, ys: &mut [i8]) {
        let k = self.k.get();
        let runs = widths.get(..(ys.len() * k).div_ceil(8)).unwrap_or_default();
        let Some((&b, rest)) = runs.split_first() else { return };
        if rest.iter().any(|&w| w != b) {
            return self.block_mixed(levels, widths, n0, ys);
        }
        let (mb, m_min) = (self.params.m32(b), self.params.m_min);
        if self.block_k3(levels, (mb, m_min), n0, ys) {
            return;
        }
        // Each tap's inputs of the block's rows.
        let xs: [Option<&[i8]>; MAX_KERNEL] = core::array::from_fn(|j| {
            let t = self.taps.get(j).copied().flatten()?;
            if self.opg.get() == 1 {
                t.get(n0..)
            } else {
                t.get(n0 / self.opg..=(n0 + ys.len() - 1) / self.opg)
            }
        });
        let g0 = n0 / self.opg;
        for (r, (y, row)) in ys.iter_mut().zip(levels.chunks_exact(k)).enumerate() {
            let at = (n0 + r) / self.opg - g0;
            // |A| ≤ MAX_KERNEL·(2^15 − 1)·128 < 2^31.
            let (mut a, mut sum_q) = (0i32, 0i32);
            for (l, x) in row.iter().zip(&xs) {
                if let Some(x) = x.and_then(|x| x.get(at)) {
                    a += i32::from(*x) * *l as i32;
                    sum_q += i32::from(*x);
                }
            }
            *y = self.finish.one(row_sum((mb, m_min), a, sum_q), n0 + r);
        }
    }

    /// The common shape, a block of one width with 3 taps, one output per channel and every
    /// tap's inputs present, in one loop; `false` (nothing done) for any other block.
    #[inline(always)]
    fn block_k3(&self, levels: &[u32], m: (i32, i32), n0: usize, ys: &mut [i8]) -> bool {
        let Some([x0, x1, x2]) = three_taps(self.taps, self.opg.get(), n0, ys.len()) else { return false };
        let rows = levels.chunks_exact(3).zip(x0.iter().zip(x1).zip(x2)).map(|(l, ((a, b), c))| {
            let [l0, l1, l2] = [0, 1, 2].map(|j| l.get(j).copied().unwrap_or(0) as i32);
            let [a, b, c] = [*a, *b, *c].map(i32::from);
            row_sum(m, a * l0 + b * l1 + c * l2, a + b + c)
        });
        for (r, (y, acc)) in ys.iter_mut().zip(rows).enumerate() {
            *y = self.finish.one(acc, n0 + r);
        }
        true
    }

    /// A block whose runs have several widths: `Σ_j m_{b_j}·(level_j·q_j) + m_min·Σq`, tap by
    /// tap (out of line: blocks of one width are the rule).
    #[inline(never)]
    fn block_mixed(&self, levels: &[u32], widths: &[u8], n0: usize, ys: &mut [i8]) {
        let k = self.k.get();
        for (r, y) in ys.iter_mut().enumerate() {
            let g = (n0 + r) / self.opg;
            let (mut acc, mut sum_q) = (0i64, 0i32);
            for (j, t) in self.taps.iter().enumerate() {
                if let Some(x) = t.and_then(|t| t.get(g)) {
                    let i = r * k + j;
                    let mb = self.params.m32(widths.get(i / 8).copied().unwrap_or(0));
                    // A level below 2^15 times an input: exact in i32.
                    let lx = levels.get(i).copied().unwrap_or(0) as i32 * i32::from(*x);
                    acc = acc.wrapping_add(i64::from(mb) * i64::from(lx));
                    sum_q += i32::from(*x);
                }
            }
            *y = self.finish.one(acc.wrapping_add(self.params.min_term(i64::from(sum_q))), n0 + r);
        }
    }
}

/// A depthwise row's sum of one width: `m_b·A + m_min·Σq`, each a 32×32→64 multiply (the two
/// multipliers passed in registers: through `IntParams::min_term` the 3-tap loop measured 0.4 est.
/// cycles per MAC more).
#[inline(always)]
fn row_sum((mb, m_min): (i32, i32), a: i32, sum_q: i32) -> i64 {
    (i64::from(mb) * i64::from(a)).wrapping_add(i64::from(m_min) * i64::from(sum_q))
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::kernels::test_util::{grouped_ref, OwnedPacked, OwnedParams, Rng};
    use std::vec::Vec;

    /// (in, out, kernel, groups, group size), as the f32 kernel's tests.
    const SHAPES: [(usize, usize, usize, usize, usize); 10] = [
        (16, 16, 3, 16, 24),
        (5, 10, 8, 5, 16),
        (64, 64, 3, 64, 64),
        (16, 6, 2, 2, 8),
        (16, 6, 2, 2, 32),
        (12, 8, 5, 4, 40),
        (9, 6, 4, 3, 24),
        (8, 5, 3, 1, 40),
        (7, 7, 8, 7, 8),
        (3, 9, 8, 3, 24),
    ];

    struct Case {
        t: OwnedPacked,
        c: OwnedParams,
        taps: Vec<Option<Vec<i8>>>,
        bias: Vec<f32>,
    }

    fn case(rng: &mut Rng, (in_len, out_len, k, groups, gs): (usize, usize, usize, usize, usize), none: bool) -> Case {
        let t = OwnedPacked::random(rng, out_len * k * in_len / groups, gs, &[2, 3, 8, 11], -0.7, 0.9);
        let bias = rng.f32s(out_len, 0.5);
        let c = OwnedParams::new(t.min, t.max, &bias, 1.0 / 64.0, 1.0 / 32.0);
        let taps = (0..k).map(|j| if none && j == 0 { None } else { Some(rng.i8s(in_len)) }).collect();
        Case { t, c, taps, bias }
    }

    /// The formula, weight by weight, in i64.
    fn reference(cs: &Case, in_len: usize, groups: usize, out_len: usize) -> Vec<i8> {
        let p = cs.c.params();
        let (k, ipg, opg) = (cs.taps.len(), in_len / groups, out_len / groups);
        (0..out_len)
            .map(|n| {
                let mut acc = p.bias_at(n);
                for (j, tap) in cs.taps.iter().enumerate() {
                    for i in 0..ipg {
                        let idx = (n * k + j) * ipg + i;
                        let q = tap.as_ref().map_or(0, |x| i64::from(x[(n / opg) * ipg + i]));
                        let b = cs.t.widths[idx / cs.t.group_size];
                        acc += q * (i64::from(p.m_min) + p.m(b) * i64::from(cs.t.levels[idx]));
                    }
                }
                p.requant(acc)
            })
            .collect()
    }

    #[test]
    fn grouped_i8_equals_the_formula_and_tracks_f64() {
        let mut rng = Rng::new(21);
        let mut worst = 0.0f64;
        for shape @ (in_len, out_len, _, groups, _) in SHAPES {
            for none in [false, true] {
                let cs = case(&mut rng, shape, none);
                let taps: Vec<Option<&[i8]>> = cs.taps.iter().map(|t| t.as_deref()).collect();
                let mut out = std::vec![0i8; out_len];
                let w = Weights::Packed(cs.t.packed());
                if groups == 1 && in_len % shape.4 == 0 {
                    grouped_rows_i8(&cs.t.packed(), &cs.c.params(), &taps, in_len, out_len, &mut out).unwrap();
                } else {
                    conv_grouped_i8(&w, &cs.c.params(), &taps, in_len, groups, &mut out).unwrap();
                }
                assert_eq!(out, reference(&cs, in_len, groups, out_len), "shape {shape:?}");
                // Against the f64 frame on the dequantised inputs, in output steps.
                let x64: Vec<Option<Vec<f64>>> = cs
                    .taps
                    .iter()
                    .map(|t| t.as_ref().map(|v| v.iter().map(|&q| f64::from(q) / 64.0).collect()))
                    .collect();
                let yf = grouped_ref(|i| cs.t.weight(i), &x64, in_len, groups, out_len);
                for ((q, y), b) in out.iter().zip(&yf).zip(&cs.bias) {
                    let want = ((y + f64::from(*b)) * 32.0).clamp(-127.0, 127.0);
                    worst = worst.max((f64::from(*q) - want).abs());
                }
            }
        }
        // Rounding to a step (0.5) plus the constants' and biases' fixed-point error.
        std::println!("grouped int vs f64: {worst} output steps");
        assert!(worst <= 0.51, "int vs f64: {worst} output steps");
    }

    #[test]
    fn one_group_walk_equals_matvec_i8() {
        let mut rng = Rng::new(22);
        for gs in [16, 32] {
            let cs = case(&mut rng, (32, 6, 2, 1, gs), true);
            let taps: Vec<Option<&[i8]>> = cs.taps.iter().map(|t| t.as_deref()).collect();
            let (mut a, mut b) = ([0i8; 6], [0i8; 6]);
            grouped_rows_i8(&cs.t.packed(), &cs.c.params(), &taps, 32, 6, &mut a).unwrap();
            matvec_i8(&Weights::Packed(cs.t.packed()), &cs.c.params(), &taps, 32, &mut b).unwrap();
            assert_eq!(a, b, "group size {gs}");
            let mut c = [0i8; 6];
            conv_grouped_i8(&Weights::Packed(cs.t.packed()), &cs.c.params(), &taps, 32, 1, &mut c).unwrap();
            assert_eq!(c, b);
        }
    }

    #[test]
    fn inconsistent_lengths_are_kernel_shape_errors() {
        let mut rng = Rng::new(23);
        let cs = case(&mut rng, (16, 16, 3, 16, 24), false);
        let taps: Vec<Option<&[i8]>> = cs.taps.iter().map(|t| t.as_deref()).collect();
        let w = Weights::Packed(cs.t.packed());
        let mut out = [0i8; 16];
        assert!(conv_grouped_i8(&w, &cs.c.params(), &taps, 16, 16, &mut out).is_ok());
        assert_eq!(conv_grouped_i8(&w, &cs.c.params(), &taps, 16, 16, &mut out[..8]), Err(Error::KernelShape));
        assert_eq!(conv_grouped_i8(&w, &cs.c.params(), &taps, 16, 3, &mut out), Err(Error::KernelShape));
        let short = [Some(&[0i8; 15][..]), taps[1], taps[2]];
        assert_eq!(conv_grouped_i8(&w, &cs.c.params(), &short, 16, 16, &mut out), Err(Error::KernelShape));
    }
}
