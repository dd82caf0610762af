//! One frame of a grouped or depthwise causal conv1d on the f32 path.

use super::grouped::{check_grouped, for_each_chunk, for_each_run, is_matvec, three_taps, Cursor};
use super::matvec_f32::{add_bias, matvec_f32, plain_values, ReadValue};
use super::shape::non_zero;
use crate::error::Error;
use crate::format::{Bias, Packed, Weights, MAX_KERNEL};
use crate::quant::{scale_for_bits, MAX_BITS};
use core::num::NonZeroUsize;

/// `out[n] = bias[n] + Σ_j Σ_{i<ipg} W[n, j, i] · taps[j][g(n)·ipg + i]` with `groups` groups:
/// `ipg = in_len / groups` inputs and `opg = out.len() / groups` outputs per group,
/// `g(n) = n / opg`; W stored `[out][kernel][ipg]` (packed: row-major layout only, groups may
/// span rows). A `None` tap is a frame before the stream start (zeros). Each packed weight is
/// dequantised as FORMAT.md says (`min + level·scale_b`, f32, no fused multiply-add) and summed
/// in storage order. One group whose packed groups lie within one tap is [`matvec_f32`] itself
/// (the same results bit for bit).
pub fn conv_grouped_f32(
    w: &Weights<'_>,
    bias: Option<&Bias<'_>>,
    taps: &[Option<&[f32]>],
    in_len: usize,
    groups: usize,
    out: &mut [f32],
) -> Result<(), Error> {
    if is_matvec(w, groups, in_len) {
        return matvec_f32(w, bias, taps, in_len, out);
    }
    let ipg = check_grouped(w.count(), taps, in_len, groups, out.len())?;
    grouped_rows_f32(w, taps, ipg, out.len() / groups, out)?;
    add_bias(bias, out)
}

/// The weighted sums, row after row, without the bias (`opg` outputs per group).
fn grouped_rows_f32(
    w: &Weights<'_>,
    taps: &[Option<&[f32]>],
    ipg: usize,
    opg: usize,
    out: &mut [f32],
) -> Result<(), Error> {
    if let (Weights::Packed(p), 1) = (w, ipg) {
        return depthwise_rows_f32(p, taps, opg, out);
    }
    let mut cur = Cursor::new(taps, ipg, opg);
    let mut outs = out.iter_mut();
    let mut acc = 0.0f32;
    let mut put = |ws: &[f32]| {
        for_each_run(&mut cur, ws, |wr, xs, row_end| {
            if let Some(xs) = xs {
                for (wv, x) in wr.iter().zip(xs) {
                    acc += wv * x;
                }
            }
            if row_end {
                if let Some(y) = outs.next() {
                    *y = acc;
                }
                acc = 0.0;
            }
        })
    };
    match (w, plain_values(w)) {
        (Weights::Packed(p), _) => {
            let scales = scales(p);
            for_each_chunk(p, |b, levels| {
                let scale = scales.get(usize::from(b)).copied().unwrap_or(0.0);
                put(&levels.map(|l| p.min + l as f32 * scale));
            })?;
        }
        (_, Some((d, size, read))) => plain_rows(d, size, read, &mut put),
        (_, None) => return Err(Error::KernelShape),
    }
    Ok(())
}

/// `put` over plain little-endian values of `size` bytes each, read by `read`, 8 at a time
/// (one copy for both kinds).
#[inline(never)]
fn plain_rows(d: &[u8], size: usize, read: ReadValue, put: &mut impl FnMut(&[f32])) {
    d.chunks(8 * size).for_each(|c| put(plain8(c, size, read).get(..c.len() / size).unwrap_or(&[])));
}

/// `scale_b` for every width (index = width).
fn scales(p: &Packed<'_>) -> [f32; MAX_BITS as usize + 1] {
    core::array::from_fn(|b| scale_for_bits(p.min, p.max, b as u8))
}

/// Up to 8 little-endian values of `size` bytes.
fn plain8(c: &[u8], size: usize, read: ReadValue) -> [f32; 8] {
    let mut v = [0.0f32; 8];
    for (o, b) in v.iter_mut().zip(c.chunks_exact(size)) {
        *o = read(b);
    }
    v
}

/// Depthwise (one input per group): rows in blocks of 8, whose `8·kernel` weights (`kernel`
/// runs of 8 levels) are dequantised first, then each row's few products summed in storage
/// order (the same sums as the general walk).
fn depthwise_rows_f32(p: &Packed<'_>, taps: &[Option<&[f32]>], opg: usize, out: &mut [f32]) -> Result<(), Error> {
    // Rows of `k` weights, non-zero by type: the row loop holds no panic.
    let (k, scales) = (non_zero(taps.len())?, scales(p));
    let mut buf = [0.0f32; 8 * MAX_KERNEL];
    let (mut filled, mut n0) = (0usize, 0usize);
    let mut blocks = out.chunks_mut(8);
    for_each_chunk(p, |b, levels| {
        let scale = scales.get(usize::from(b)).copied().unwrap_or(0.0);
        if let Some(dst) = buf.get_mut(filled..filled + 8) {
            for (d, l) in dst.iter_mut().zip(levels) {
                *d = p.min + l as f32 * scale;
            }
        }
        filled += 8;
        if filled == 8 * k.get() {
            if let Some(ys) = blocks.next() {
                depthwise_block_f32(&buf, (taps, k), opg, n0, ys);
            }
            (filled, n0) = (0, n0 + 8);
        }
    })?;
    if let Some(ys) = blocks.next() {
        depthwise_block_f32(&buf, (taps, k), opg, n0, ys); // the last rows (fewer than 8)
    }
    Ok(())
}

#[inline(always)]
fn depthwise_block_f32(w: &[f32], (taps, k): (&[Option<&[f32]>], NonZeroUsize), opg: usize, n0: usize, ys: &mut [f32]) {
    if depthwise_k3_f32(w, taps, opg, n0, ys) {
        return;
    }
    for (r, (y, wr)) in ys.iter_mut().zip(w.chunks_exact(k.get())).enumerate() {
        let g = (n0 + r) / opg.max(1);
        let mut acc = 0.0f32;
        for (wv, t) in wr.iter().zip(taps) {
            if let Some(x) = t.and_then(|t| t.get(g)) {
                acc += wv * x;
            }
        }
        *y = acc;
    }
}

/// The common shape, 3 taps, one output per channel and every tap's inputs present, in one
/// loop (each row's products still summed in tap order); `false` (nothing done) otherwise.
#[inline(always)]
fn depthwise_k3_f32(w: &[f32], taps: &[Option<&[f32]>], opg: usize, n0: usize, ys: &mut [f32]) -> bool {
    let Some([x0, x1, x2]) = three_taps(taps, opg, n0, ys.len()) else { return false };
    for ((y, wr), ((a, b), c)) in ys.iter_mut().zip(w.chunks_exact(3)).zip(x0.iter().zip(x1).zip(x2)) {
        let [w0, w1, w2] = [0, 1, 2].map(|j| wr.get(j).copied().unwrap_or(0.0));
        let mut acc = 0.0f32;
        acc += w0 * a;
        acc += w1 * b;
        acc += w2 * c;
        *y = acc;
    }
    true
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::kernels::test_util::{f32_bytes, grouped_ref, random_taps_f32, OwnedPacked, Rng};
    use std::vec::Vec;

    /// (in, out, kernel, groups, group size): depthwise with groups spanning 8 and 21 rows (and
    /// two outputs per input, 10 rows: a last block of 2), a row
    /// holding two groups, groups that never line up with rows, odd channel counts, one group.
    pub(crate) const SHAPES: [(usize, usize, usize, usize, usize); 8] = [
        (16, 16, 3, 16, 24),
        (5, 10, 8, 5, 16),
        (64, 64, 3, 64, 64),
        (16, 6, 2, 2, 8),
        (16, 6, 2, 2, 32),
        (12, 8, 5, 4, 40),
        (9, 6, 4, 3, 24),
        (8, 5, 3, 1, 40),
    ];

    fn check(rng: &mut Rng, (in_len, out_len, k, groups, gs): (usize, usize, usize, usize, usize), none_first: bool) {
        let count = out_len * k * in_len / groups;
        let t = OwnedPacked::random(rng, count, gs, &[2, 3, 8, 11], -0.7, 0.9);
        let taps = random_taps_f32(rng, k, in_len, none_first);
        let tap_refs: Vec<Option<&[f32]>> = taps.iter().map(|t| t.as_deref()).collect();
        let bias = rng.f32s(out_len, 1.0);
        let bias_bytes = f32_bytes(&bias);
        let mut out = std::vec![0.0f32; out_len];
        let b = Bias::F32(&bias_bytes);
        if groups == 1 && in_len % gs == 0 {
            // The general walk, which such a frame would otherwise skip.
            grouped_rows_f32(&Weights::Packed(t.packed()), &tap_refs, in_len, out_len, &mut out).unwrap();
            add_bias(Some(&b), &mut out).unwrap();
        } else {
            conv_grouped_f32(&Weights::Packed(t.packed()), Some(&b), &tap_refs, in_len, groups, &mut out).unwrap();
        }
        let taps64: Vec<Option<Vec<f64>>> =
            taps.iter().map(|t| t.as_ref().map(|v| v.iter().map(|&x| f64::from(x)).collect())).collect();
        let want = grouped_ref(|i| t.weight(i), &taps64, in_len, groups, out_len);
        // f32 rounding of at most k·ipg + 2 terms of |w·x| ≤ 1.8.
        let tol = 1e-6 * (k * in_len / groups + 2) as f64 * 2.0;
        for (n, (y, r)) in out.iter().zip(&want).enumerate() {
            let err = (f64::from(*y) - (r + f64::from(bias[n]))).abs();
            assert!(
                err <= tol,
                "shape {:?} row {n}: {y} vs {r}: error {err:e} > {tol:e}",
                (in_len, out_len, k, groups)
            );
        }
    }

    #[test]
    fn grouped_f32_matches_f64_reference() {
        let mut rng = Rng::new(11);
        for shape in SHAPES {
            check(&mut rng, shape, false);
            check(&mut rng, shape, true);
        }
    }

    #[test]
    fn grouped_f32_plain_weights_match_f64_reference() {
        let mut rng = Rng::new(12);
        let (in_len, out_len, k, groups) = (6, 9, 2, 3);
        let w = rng.f32s(out_len * k * 2, 1.0);
        let wb = f32_bytes(&w);
        let taps = random_taps_f32(&mut rng, k, in_len, false);
        let tap_refs: Vec<Option<&[f32]>> = taps.iter().map(|t| t.as_deref()).collect();
        let mut out = [0.0f32; 9];
        conv_grouped_f32(&Weights::F32(&wb), None, &tap_refs, in_len, groups, &mut out).unwrap();
        let taps64: Vec<Option<Vec<f64>>> =
            taps.iter().map(|t| t.as_ref().map(|v| v.iter().map(|&x| f64::from(x)).collect())).collect();
        let want = grouped_ref(|i| f64::from(w[i]), &taps64, in_len, groups, out_len);
        for (y, r) in out.iter().zip(&want) {
            assert!((f64::from(*y) - r).abs() < 1e-5, "{y} vs {r}");
        }
    }

    #[test]
    fn one_group_is_matvec_bit_for_bit() {
        let mut rng = Rng::new(13);
        let t = OwnedPacked::random(&mut rng, 4 * 2 * 16, 16, &[3, 5], -0.5, 0.5);
        let taps = random_taps_f32(&mut rng, 2, 16, true);
        let tap_refs: Vec<Option<&[f32]>> = taps.iter().map(|t| t.as_deref()).collect();
        let (mut a, mut b) = ([0.0f32; 4], [0.0f32; 4]);
        let w = Weights::Packed(t.packed());
        conv_grouped_f32(&w, None, &tap_refs, 16, 1, &mut a).unwrap();
        matvec_f32(&w, None, &tap_refs, 16, &mut b).unwrap();
        assert_eq!(a.map(f32::to_bits), b.map(f32::to_bits));
    }

    #[test]
    fn inconsistent_lengths_are_kernel_shape_errors() {
        let mut rng = Rng::new(14);
        let t = OwnedPacked::random(&mut rng, 16 * 3, 24, &[4], -0.5, 0.5);
        let w = Weights::Packed(t.packed());
        let x = [0.5f32; 16];
        let short = [0.5f32; 15];
        let mut out = [0.0f32; 16];
        let taps = [Some(&x[..]), Some(&x[..]), Some(&x[..])];
        assert!(conv_grouped_f32(&w, None, &taps, 16, 16, &mut out).is_ok());
        let bad_tap = [Some(&x[..]), Some(&short[..]), Some(&x[..])];
        assert_eq!(conv_grouped_f32(&w, None, &bad_tap, 16, 16, &mut out), Err(Error::KernelShape));
        assert_eq!(conv_grouped_f32(&w, None, &taps[..2], 16, 16, &mut out), Err(Error::KernelShape));
        assert_eq!(conv_grouped_f32(&w, None, &taps, 16, 0, &mut out), Err(Error::KernelShape));
        assert_eq!(conv_grouped_f32(&w, None, &taps, 16, 16, &mut out[..15]), Err(Error::KernelShape));
        assert_eq!(conv_grouped_f32(&w, None, &taps, 16, 5, &mut out), Err(Error::KernelShape));
    }
}
