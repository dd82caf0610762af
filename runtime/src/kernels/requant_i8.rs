//! Element-wise int8 operations that move their result to a new scale with fixed-point
//! constants (computed once by [`requant_consts`] / [`requant_mul_consts`]):
//! `q = clamp((Σ m_k·q_k + 2^(S−1)) >> S, −127, 127)` (add, concat) and
//! `q = clamp((m·q_a·q_b + 2^(S−1)) >> S, −127, 127)` (mul).

use crate::error::Error;
use crate::format::{MAX_ADD_M, MAX_CONCAT_M, MAX_ELEMENTWISE_SHIFT, MAX_MUL_M};

/// Largest shift `S` of the element-wise constants (FORMAT.md).
const REQUANT_MAX_SHIFT: u32 = MAX_ELEMENTWISE_SHIFT as u32;

fn check_consts(shift: u32, ms: &[i32], limit: i32) -> Result<(), Error> {
    if (1..=REQUANT_MAX_SHIFT).contains(&shift) && ms.iter().all(|m| m.unsigned_abs() < limit.unsigned_abs()) {
        Ok(())
    } else {
        Err(Error::KernelShape)
    }
}

/// `(v + 2^(S−1)) >> S` clamped to int8, in i32: the callers' sums are below `2^30` in
/// magnitude (an add's two products `|m·q| ≤ (2^22 − 1)·128`, a concat's one `≤ (2^23 − 1)·128`),
/// and `2^(S−1) ≤ 2^29` (`S ≤ 30`), so `v + 2^(S−1)` stays below `2^31`: the same integer as in
/// i64, without 64-bit shifts (a third of the instructions per value on a 32-bit core).
#[inline(always)]
fn round_shift(v: i32, shift: u32) -> i8 {
    ((v + (1i32 << (shift - 1))) >> shift).clamp(-127, 127) as i8
}

/// `out = requant(m_a·a + m_b·b)`: all three the same length, `S` in 1..=30, `|m| < 2^22`
/// (else `Error::KernelShape`): the sum and its rounding term stay below 2^31, so it is taken in
/// i32.
pub fn add_i8(a: &[i8], b: &[i8], m_a: i32, m_b: i32, shift: u32, out: &mut [i8]) -> Result<(), Error> {
    check_consts(shift, &[m_a, m_b], MAX_ADD_M)?;
    if a.len() != out.len() || b.len() != out.len() {
        return Err(Error::KernelShape);
    }
    for ((o, x), y) in out.iter_mut().zip(a).zip(b) {
        let v = m_a * i32::from(*x) + m_b * i32::from(*y);
        *o = round_shift(v, shift);
    }
    Ok(())
}

/// `out = requant(m·a·b)`: all three the same length, `S` in 1..=30, `|m| < 2^16` (else
/// `Error::KernelShape`); `|m·a·b| < 2^30`, so the whole sum stays in i32.
pub fn mul_i8(a: &[i8], b: &[i8], m: i32, shift: u32, out: &mut [i8]) -> Result<(), Error> {
    check_consts(shift, &[m], MAX_MUL_M)?;
    if a.len() != out.len() || b.len() != out.len() {
        return Err(Error::KernelShape);
    }
    let half = 1i32 << (shift - 1);
    for ((o, x), y) in out.iter_mut().zip(a).zip(b) {
        let v = m * (i32::from(*x) * i32::from(*y));
        *o = ((v + half) >> shift).clamp(-127, 127) as i8;
    }
    Ok(())
}

/// `out` = the inputs one after another, input `k` requantised with its own `m_k` (a one-input
/// add; `m_k = 2^S` copies exactly). `out.len()` must be the inputs' total length; `S` in
/// 1..=30, `|m_k| < 2^23`.
pub fn concat_i8(inputs: &[(&[i8], i32)], shift: u32, out: &mut [i8]) -> Result<(), Error> {
    if inputs.iter().map(|(x, _)| x.len()).sum::<usize>() != out.len() {
        return Err(Error::KernelShape);
    }
    let mut rest = out;
    for &(x, m) in inputs {
        check_consts(shift, &[m], MAX_CONCAT_M)?;
        let (o, tail) = rest.split_at_mut_checked(x.len()).ok_or(Error::KernelShape)?;
        if m == 1 << shift {
            o.copy_from_slice(x);
            // A copy of −128 is clamped as the formula would.
            o.iter_mut().for_each(|v| *v = (*v).max(-127));
        } else {
            for (v, q) in o.iter_mut().zip(x) {
                *v = round_shift(m * i32::from(*q), shift);
            }
        }
        rest = tail;
    }
    Ok(())
}

/// `m_k = round(r_k·2^S)` for the largest `S ≤ 30` keeping every `|m_k| < limit`, written to
/// `ms`; `None` when even `S = 1` does not (or a ratio is not finite). The one rule for the
/// element-wise constants: the writer stores what it picks.
pub fn requant_multipliers(ratios: impl Iterator<Item = f64> + Clone, limit: i32, ms: &mut [i32]) -> Option<u32> {
    if ratios.clone().any(|r| !r.is_finite()) {
        return None;
    }
    for shift in (1..=REQUANT_MAX_SHIFT).rev() {
        let unit = (1u64 << shift) as f64;
        let fits = ratios.clone().all(|r| libm::round(r * unit).abs() < f64::from(limit));
        if fits {
            for (m, r) in ms.iter_mut().zip(ratios) {
                *m = libm::round(r * unit) as i32;
            }
            return Some(shift);
        }
    }
    None
}

/// The add/concat constants for inputs at scales `s_in` and an output at `s_out`:
/// `m_k = round(s_in[k]/s_out · 2^S)` (f64) with the largest `S` in 1..=30 that keeps every
/// `|m_k| < 2^22` (an add's bound), written to `ms` (as long as `s_in`); `None` if no `S` does or a scale is not
/// finite and positive. The result is within 0.5 output steps of the exact sum plus
/// `Σ_k 127·0.5/2^S` (the multipliers' rounding).
pub fn requant_consts(s_in: &[f32], s_out: f32, ms: &mut [i32]) -> Option<u32> {
    let positive = |s: f32| s.is_finite() && s > 0.0;
    if ms.len() != s_in.len() || !positive(s_out) || !s_in.iter().all(|s| positive(*s)) {
        return None;
    }
    requant_multipliers(s_in.iter().map(|s| f64::from(*s) / f64::from(s_out)), MAX_ADD_M, ms)
}

/// The mul constants for inputs at scales `s_a`, `s_b` and an output at `s_out`:
/// `(S, m = round(s_a·s_b/s_out · 2^S))`, the largest `S` in 1..=30 with `|m| < 2^16`.
pub fn requant_mul_consts(s_a: f32, s_b: f32, s_out: f32) -> Option<(u32, i32)> {
    if ![s_a, s_b, s_out].iter().all(|s| s.is_finite() && *s > 0.0) {
        return None;
    }
    let mut m = [0i32];
    let r = f64::from(s_a) * f64::from(s_b) / f64::from(s_out);
    let shift = requant_multipliers(core::iter::once(r), MAX_MUL_M, &mut m)?;
    let [m] = m;
    Some((shift, m))
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::kernels::test_util::Rng;
    use std::vec::Vec;

    /// Every int8 value but −128 (what the kernels produce), as a test input.
    fn all_q() -> Vec<i8> {
        (-127..=127).collect()
    }

    /// Log-uniform scale in [2^lo, 2^hi).
    fn scale(rng: &mut Rng, lo: f64, hi: f64) -> f32 {
        rng.uniform(lo, hi).exp2() as f32
    }

    #[test]
    fn add_is_within_half_a_step_of_f64() {
        let mut rng = Rng::new(61);
        let q = all_q();
        let mut overall = 0.0f64;
        for _ in 0..12 {
            let (sa, sb, so) = (scale(&mut rng, -9.0, -3.0), scale(&mut rng, -9.0, -3.0), scale(&mut rng, -8.0, -2.0));
            let mut m = [0i32; 2];
            let s = requant_consts(&[sa, sb], so, &mut m).unwrap();
            let bound = 0.5 + 2.0 * 127.0 * 0.5 / f64::from(1u32 << s) * 1.0001;
            let mut worst = 0.0f64;
            for &qb in &q {
                let b = std::vec![qb; q.len()];
                let mut out = std::vec![0i8; q.len()];
                add_i8(&q, &b, m[0], m[1], s, &mut out).unwrap();
                for (y, qa) in out.iter().zip(&q) {
                    let want = ((f64::from(*qa) * f64::from(sa) + f64::from(qb) * f64::from(sb)) / f64::from(so))
                        .clamp(-127.0, 127.0);
                    worst = worst.max((f64::from(*y) - want).abs());
                }
            }
            overall = overall.max(worst);
            assert!(worst <= bound, "add: {worst} > {bound} (S = {s}, m = {m:?})");
        }
        std::println!("add vs f64: {overall} output steps");
    }

    /// The definition in i64, for the extreme constants and inputs.
    fn by_definition(v: i64, shift: u32) -> i8 {
        ((v + (1i64 << (shift - 1))) >> shift).clamp(-127, 127) as i8
    }

    #[test]
    fn extreme_constants_give_the_i64_formula() {
        let q: Vec<i8> = (-128..=127).collect();
        let limits = [MAX_ADD_M - 1, -(MAX_ADD_M - 1), 1, 0];
        for shift in [1, 2, 17, 29, 30] {
            for (&m_a, &m_b) in limits.iter().flat_map(|a| limits.iter().map(move |b| (a, b))) {
                for &qb in &[-128i8, -127, 0, 127] {
                    let b = std::vec![qb; q.len()];
                    let mut out = std::vec![0i8; q.len()];
                    add_i8(&q, &b, m_a, m_b, shift, &mut out).unwrap();
                    for (y, qa) in out.iter().zip(&q) {
                        let v = i64::from(m_a) * i64::from(*qa) + i64::from(m_b) * i64::from(qb);
                        assert_eq!(
                            *y,
                            by_definition(v, shift),
                            "add m = ({m_a}, {m_b}), S = {shift}, q = ({qa}, {qb})"
                        );
                    }
                }
            }
            for m in [MAX_CONCAT_M - 1, -(MAX_CONCAT_M - 1), 3] {
                let mut out = std::vec![0i8; q.len()];
                concat_i8(&[(&q, m)], shift, &mut out).unwrap();
                for (y, qa) in out.iter().zip(&q) {
                    assert_eq!(*y, by_definition(i64::from(m) * i64::from(*qa), shift), "concat m = {m}, S = {shift}");
                }
            }
        }
    }

    #[test]
    fn mul_is_within_half_a_step_of_f64() {
        let mut rng = Rng::new(62);
        let q = all_q();
        let mut overall = 0.0f64;
        for _ in 0..12 {
            let (sa, sb, so) = (scale(&mut rng, -8.0, -2.0), scale(&mut rng, -8.0, -2.0), scale(&mut rng, -9.0, -3.0));
            let (s, m) = requant_mul_consts(sa, sb, so).unwrap();
            let bound = 0.5 + 127.0 * 127.0 * 0.5 / f64::from(1u32 << s) * 1.0001;
            let mut worst = 0.0f64;
            for &qb in &q {
                let b = std::vec![qb; q.len()];
                let mut out = std::vec![0i8; q.len()];
                mul_i8(&q, &b, m, s, &mut out).unwrap();
                for (y, qa) in out.iter().zip(&q) {
                    let want = (f64::from(*qa) * f64::from(sa) * f64::from(qb) * f64::from(sb) / f64::from(so))
                        .clamp(-127.0, 127.0);
                    worst = worst.max((f64::from(*y) - want).abs());
                }
            }
            overall = overall.max(worst);
            assert!(worst <= bound, "mul: {worst} > {bound} (S = {s}, m = {m})");
        }
        std::println!("mul vs f64: {overall} output steps");
    }

    #[test]
    fn consts_take_the_largest_shift_within_the_bounds() {
        let mut m = [0i32; 2];
        let s = requant_consts(&[0.25, 0.5], 1.0 / 64.0, &mut m).unwrap();
        // Ratios 16 and 32: 32·2^S < 2^22 (FORMAT.md's add bound) → S = 16.
        assert_eq!((s, m), (16, [16 << 16, 32 << 16]));
        assert!(m.iter().all(|v| v.abs() < MAX_ADD_M));
        let (s, mm) = requant_mul_consts(1.0 / 16.0, 1.0 / 16.0, 1.0 / 128.0).unwrap();
        // Ratio 0.5: 0.5·2^S < 2^16 → S = 16.
        assert_eq!((s, mm), (16, 1 << 15));
        // Tiny ratios stop at S = 30.
        assert_eq!(requant_mul_consts(1e-6, 1e-6, 1.0).map(|c| c.0), Some(30));
        assert_eq!(requant_consts(&[1e9], 1e-9, &mut m[..1]), None, "ratio beyond 2^22");
        assert_eq!(requant_consts(&[0.0], 1.0, &mut m[..1]), None);
        assert_eq!(requant_consts(&[1.0, 1.0], 1.0, &mut m[..1]), None);
    }

    #[test]
    fn concat_copies_exactly_and_rescales_the_rest() {
        let a: Vec<i8> = all_q();
        let b: Vec<i8> = (0..40).map(|i| (i * 6 - 120) as i8).collect();
        let mut ms = [0i32; 2];
        let s = requant_consts(&[0.1, 0.05], 0.1, &mut ms).unwrap();
        assert_eq!(ms[0], 1 << s, "the same scale copies");
        let mut out = std::vec![0i8; a.len() + b.len()];
        concat_i8(&[(&a, ms[0]), (&b, ms[1])], s, &mut out).unwrap();
        assert_eq!(&out[..a.len()], &a[..]);
        for (y, q) in out[a.len()..].iter().zip(&b) {
            assert!((f64::from(*y) - f64::from(*q) * 0.5).abs() <= 0.5, "{y} vs {q}/2");
        }
        let mut short = std::vec![0i8; a.len() + b.len() - 1];
        assert_eq!(concat_i8(&[(&a, ms[0]), (&b, ms[1])], s, &mut short), Err(Error::KernelShape));
    }

    #[test]
    fn bad_lengths_and_constants_are_kernel_shape_errors() {
        let (a, b) = ([1i8; 4], [2i8; 3]);
        let mut out = [0i8; 4];
        assert_eq!(add_i8(&a, &b, 1, 1, 1, &mut out), Err(Error::KernelShape));
        assert_eq!(mul_i8(&a, &b, 1, 1, &mut out), Err(Error::KernelShape));
        assert_eq!(add_i8(&a, &a, MAX_ADD_M, 1, 1, &mut out), Err(Error::KernelShape));
        assert_eq!(mul_i8(&a, &a, 1 << 16, 1, &mut out), Err(Error::KernelShape));
        assert_eq!(add_i8(&a, &a, 1, 1, 0, &mut out), Err(Error::KernelShape));
        assert_eq!(add_i8(&a, &a, 1, 1, 31, &mut out), Err(Error::KernelShape));
        // The extremes of inputs and constants stay exact (no overflow).
        let lo = [-128i8; 4];
        add_i8(&lo, &lo, MAX_ADD_M - 1, MAX_ADD_M - 1, 30, &mut out).unwrap();
        // (2·(2^22 − 1)·(−128) + 2^29) >> 30 = floor(−0.4999998) = −1.
        assert_eq!(out, [-1; 4]);
        mul_i8(&lo, &lo, MAX_MUL_M - 1, 1, &mut out).unwrap();
        assert_eq!(out, [127; 4]);
    }
}
