//! One step of a GRU cell on the integer path: int8 gate pre-activations at the fixed scale
//! 1/16, Q15 gates from tables, the state `h` in Q15.

use super::gru_tables::{SIG, TANH};
use super::matvec_i8::matvec_i8;
use crate::error::Error;
use crate::format::{IntParams, Weights};

/// Scale of a GRU's int8 output (`h` rounded to 1/128): also the recurrent product's input.
pub const GRU_OUT_SCALE: f32 = 1.0 / 128.0;
/// Scale of the int8 gate pre-activations both products give (their constants' output scale).
pub const GRU_GATE_SCALE: f32 = 1.0 / 16.0;

/// `h` (Q15) as the int8 output: `clamp((h + 128) >> 8, −127, 127)`, scale 1/128.
#[inline]
fn h_to_i8(h: i32) -> i8 {
    crate::quant::clamp127((h + 128) >> 8)
}

/// A gate table entry for a gate input `q` (scale 1/16).
#[inline]
fn table(t: &[i16; 256], q: i32) -> i32 {
    t.get(usize::from(q.clamp(-128, 127) as i8 as u8)).map_or(0, |&v| i32::from(v))
}

/// One gate update from the pre-activations (gate scale) of `x` (`gx`: r, z, n) and of the
/// previous `h_i8` (`gh`), `h` in Q15; returns `h'` in Q15.
#[inline]
fn update(gx: [i8; 3], gh: [i8; 3], h: i32) -> i32 {
    let [xr, xz, xn] = gx.map(i32::from);
    let [hr, hz, hn] = gh.map(i32::from);
    let r = table(&SIG, xr + hr); // 0..=32767
    let z = table(&SIG, xz + hz);
    let n_pre = i32::from(crate::quant::clamp127(xn + ((r * hn + (1 << 14)) >> 15)));
    blend(z, h, table(&TANH, n_pre)) // n: −32767..=32767
}

/// `h' = n + ((z·(h − n) + 2^14) >> 15)` for `z` in 0..=32767, `h`, `n` i16. `|z·(h − n)| ≤
/// 32767·65535 < 2^31 − 2^14`, and the rounded product lies between 0 and `h − n`, so `h'` lies
/// between `n` and `h`: an i16 (the clamp never acts).
#[inline]
fn blend(z: i32, h: i32, n: i32) -> i32 {
    (n + ((z * (h - n) + (1 << 14)) >> 15)).clamp(-32768, 32767)
}

/// One integer GRU step (PyTorch gate order r, z, n), `H = out.len()`, `I = x.len()`:
/// `g_x = matvec_i8(W_x, params_x, [x])` and `g_h = matvec_i8(W_h, params_h, [h_i8])` give `3H`
/// int8 pre-activations at scale [`GRU_GATE_SCALE`] (the writer's constants aim there), with
/// `h_i8 = clamp((h + 128) >> 8, −127, 127)` of the previous state; then per unit
/// `r = SIG[sat8(g_x,r + g_h,r)]`, `z = SIG[sat8(g_x,z + g_h,z)]` (Q15),
/// `n = TANH[clamp(g_x,n + ((r·g_h,n + 2^14) >> 15), −127, 127)]`,
/// `h' = n + ((z·(h − n) + 2^14) >> 15)` (i32, arithmetic shifts). `state`: `h` as `H`
/// little-endian i16 Q15 values (`2H` bytes; zeros start the stream); `out`: `h'` as int8 at
/// scale [`GRU_OUT_SCALE`]; `scratch`: at least `6H` bytes.
#[allow(clippy::too_many_arguments)]
pub fn gru_i8(
    w_x: &Weights<'_>,
    params_x: &IntParams<'_>,
    w_h: &Weights<'_>,
    params_h: &IntParams<'_>,
    x: &[i8],
    state: &mut [i8],
    out: &mut [i8],
    scratch: &mut [i8],
) -> Result<(), Error> {
    let hn = out.len();
    let g = hn.checked_mul(3).ok_or(Error::KernelShape)?;
    if state.len() != 2 * hn {
        return Err(Error::KernelShape);
    }
    let (gx, rest) = scratch.split_at_mut_checked(g).ok_or(Error::KernelShape)?;
    let gh = rest.get_mut(..g).ok_or(Error::KernelShape)?;
    for (o, s) in out.iter_mut().zip(state.chunks_exact(2)) {
        *o = h_to_i8(q15_at(s));
    }
    matvec_i8(w_x, params_x, &[Some(x)], x.len(), gx)?;
    matvec_i8(w_h, params_h, &[Some(&*out)], hn, gh)?;
    let ((gx_r, gx_z, gx_n), (gh_r, gh_z, gh_n)) = thirds(gx, hn).zip(thirds(gh, hn)).ok_or(Error::KernelShape)?;
    let gates = gx_r.iter().zip(gx_z).zip(gx_n).zip(gh_r.iter().zip(gh_z.iter()).zip(gh_n.iter()));
    for ((o, s), (((xr, xz), xn), ((hr, hz), hnv))) in out.iter_mut().zip(state.chunks_exact_mut(2)).zip(gates) {
        let h = update([*xr, *xz, *xn], [*hr, *hz, *hnv], q15_at(s));
        let [lo, hi] = (h as i16).to_le_bytes();
        if let [a, b] = s {
            (*a, *b) = (lo as i8, hi as i8);
        }
        *o = h_to_i8(h);
    }
    Ok(())
}

/// The gates' three parts of `v` (r, z, n), `h` values each. Lengths are 3H, so the checked splits
/// never fail; unlike `split_at` they keep a panic path out of builds where LLVM does not prove it.
#[inline]
fn thirds(v: &[i8], h: usize) -> Option<(&[i8], &[i8], &[i8])> {
    let (r, zn) = v.split_at_checked(h)?;
    let (z, n) = zn.split_at_checked(h)?;
    Some((r, z, n))
}

/// The little-endian i16 in two state bytes.
#[inline]
fn q15_at(s: &[i8]) -> i32 {
    match s {
        [lo, hi] => i32::from(i16::from_le_bytes([*lo as u8, *hi as u8])),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::format::Bias;
    use crate::kernels::gru_f32::gru_f32;
    use crate::kernels::test_util::{f32_bytes, OwnedPacked, OwnedParams, Rng};
    use std::vec::Vec;

    fn round_away(v: f64) -> i64 {
        (v.abs() + 0.5).floor().copysign(v) as i64
    }

    #[test]
    fn tables_equal_their_definition_in_f64() {
        for byte in 0..=255u8 {
            let q = f64::from(byte as i8) / 16.0;
            let sig = round_away(32768.0 / (1.0 + (-q).exp())).min(32767);
            let tanh = round_away(32767.0 * q.tanh());
            assert_eq!(i64::from(SIG[usize::from(byte)]), sig, "SIG[{}]", byte as i8);
            assert_eq!(i64::from(TANH[usize::from(byte)]), tanh, "TANH[{}]", byte as i8);
        }
    }

    /// Random I = H = 64 GRUs, 200 steps of inputs in ±2: the integer state against the f32
    /// one, `(max, mean)` of `|h_int/32768 − h_f32|`.
    fn int_vs_f32(bits: u8, seed: u64) -> (f64, f64) {
        let (i_len, hn, steps) = (64usize, 64usize, 200);
        let mut rng = Rng::new(seed);
        let wx = OwnedPacked::random(&mut rng, 3 * hn * i_len, 64, &[bits], -0.25, 0.25);
        let wh = OwnedPacked::random(&mut rng, 3 * hn * hn, 64, &[bits], -0.25, 0.25);
        let (bx, bh) = (rng.f32s(3 * hn, 0.5), rng.f32s(3 * hn, 0.5));
        let (bxb, bhb) = (f32_bytes(&bx), f32_bytes(&bh));
        let sx = 2.0 / 127.0;
        let px = OwnedParams::new(wx.min, wx.max, &bx, sx, f64::from(GRU_GATE_SCALE));
        let ph = OwnedParams::new(wh.min, wh.max, &bh, f64::from(GRU_OUT_SCALE), f64::from(GRU_GATE_SCALE));
        let (wxw, whw) = (Weights::Packed(wx.packed()), Weights::Packed(wh.packed()));
        let (mut h, mut sf) = (std::vec![0.0f32; hn], std::vec![0.0f32; 6 * hn]);
        let (mut state, mut out, mut si) = (std::vec![0i8; 2 * hn], std::vec![0i8; hn], std::vec![0i8; 6 * hn]);
        let (mut worst, mut total) = (0.0f64, 0.0f64);
        for _ in 0..steps {
            let x = rng.f32s(i_len, 2.0);
            let xq: Vec<i8> = x.iter().map(|&v| (f64::from(v) / sx).round().clamp(-127.0, 127.0) as i8).collect();
            gru_f32(&wxw, Some(&Bias::F32(&bxb)), &whw, Some(&Bias::F32(&bhb)), &x, &mut h, &mut sf).unwrap();
            gru_i8(&wxw, &px.params(), &whw, &ph.params(), &xq, &mut state, &mut out, &mut si).unwrap();
            for (k, hf) in h.iter().enumerate() {
                let hq = i16::from_le_bytes([state[2 * k] as u8, state[2 * k + 1] as u8]);
                let err = (f64::from(hq) / 32768.0 - f64::from(*hf)).abs();
                (worst, total) = (worst.max(err), total + err);
                assert_eq!(out[k], h_to_i8(i32::from(hq)));
            }
        }
        (worst, total / (steps * hn) as f64)
    }

    /// Measured (seeds 43, 48): 3-bit max 0.090, mean 0.0099; 8-bit max 0.082, mean 0.0098 (the
    /// gates' 1/16 steps dominate, not the weights' widths).
    #[test]
    fn gru_i8_tracks_the_f32_gru() {
        for (bits, max_bound, mean_bound) in [(3u8, 0.12, 0.013), (8, 0.11, 0.013)] {
            let (worst, mean) = int_vs_f32(bits, 40 + u64::from(bits));
            std::println!("{bits}-bit: max {worst:.4}, mean {mean:.5}");
            assert!(worst <= max_bound && mean <= mean_bound, "{bits}-bit: max {worst}, mean {mean}");
        }
    }

    #[test]
    fn gru_i8_rejects_inconsistent_lengths() {
        let mut rng = Rng::new(50);
        let w = OwnedPacked::random(&mut rng, 3 * 8 * 8, 8, &[4], -0.5, 0.5);
        let c = OwnedParams::new(w.min, w.max, &[0.0; 24], 1.0 / 64.0, 1.0 / 16.0);
        let wt = Weights::Packed(w.packed());
        let x = [3i8; 8];
        let (mut state, mut out, mut scratch) = ([0i8; 16], [0i8; 8], [0i8; 48]);
        assert!(gru_i8(&wt, &c.params(), &wt, &c.params(), &x, &mut state, &mut out, &mut scratch).is_ok());
        let r = gru_i8(&wt, &c.params(), &wt, &c.params(), &x, &mut state, &mut out, &mut scratch[..47]);
        assert_eq!(r, Err(Error::KernelShape));
        let r = gru_i8(&wt, &c.params(), &wt, &c.params(), &x, &mut state[..15], &mut out, &mut scratch);
        assert_eq!(r, Err(Error::KernelShape));
        let r = gru_i8(&wt, &c.params(), &wt, &c.params(), &x[..7], &mut state, &mut out, &mut scratch);
        assert_eq!(r, Err(Error::KernelShape));
    }

    /// `h'` lies between `n` and `h` (so inside i16) at the extremes of gate and values.
    #[test]
    fn blend_stays_between_n_and_h() {
        let vals = [-32768, -32767, -16385, -1, 0, 1, 16384, 32767];
        for z in [0, 1, 16383, 16384, 32766, 32767] {
            for h in vals {
                for n in vals {
                    let v = blend(z, h, n);
                    assert!(v >= h.min(n) && v <= h.max(n), "z {z} h {h} n {n}: {v}");
                }
            }
        }
        assert_eq!(blend(0, 1000, -500), -500, "z = 0: the candidate");
        assert_eq!(blend(32767, 1000, -500), 1000, "z ≈ 1: the old state (rounded)");
    }
}
