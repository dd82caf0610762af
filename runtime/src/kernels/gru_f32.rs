//! One step of a GRU cell on the f32 path (PyTorch's gate order r, z, n).

use super::act::{sigmoid, tanh};
use super::matvec_f32::matvec_f32_in;
use super::nibble_table_f32::Tables;
use crate::error::Error;
use crate::format::{Bias, Weights};

/// One GRU step: with `g_x = W_x·x + b_x`, `g_h = W_h·h + b_h` (each `3H` long, gates r, z, n),
/// `r = σ(g_x,r + g_h,r)`, `z = σ(g_x,z + g_h,z)`, `n = tanh(g_x,n + r ⊙ g_h,n)`,
/// `h ← (1 − z) ⊙ n + z ⊙ h`. `W_x` is `[3H][I]`, `W_h` `[3H][H]` (packed, f32 or f16), `I =
/// x.len()`, `H = h.len()`; `h` is the state and, after the call, the output. `scratch`: at least
/// `6H` values (its contents on entry do not matter).
pub fn gru_f32(
    w_x: &Weights<'_>,
    b_x: Option<&Bias<'_>>,
    w_h: &Weights<'_>,
    b_h: Option<&Bias<'_>>,
    x: &[f32],
    h: &mut [f32],
    scratch: &mut [f32],
) -> Result<(), Error> {
    gru_f32_in((w_x, b_x), (w_h, b_h), x, h, scratch, &mut Tables::new())
}

/// [`gru_f32`] with the room for a table of sums shared by the products of a step.
pub(crate) fn gru_f32_in(
    (w_x, b_x): (&Weights<'_>, Option<&Bias<'_>>),
    (w_h, b_h): (&Weights<'_>, Option<&Bias<'_>>),
    x: &[f32],
    h: &mut [f32],
    scratch: &mut [f32],
    tables: &mut Tables,
) -> Result<(), Error> {
    let hn = h.len();
    let g = hn.checked_mul(3).ok_or(Error::KernelShape)?;
    let (gx, rest) = scratch.split_at_mut_checked(g).ok_or(Error::KernelShape)?;
    let gh = rest.get_mut(..g).ok_or(Error::KernelShape)?;
    matvec_f32_in(w_x, b_x, &[Some(x)], x.len(), gx, tables)?;
    matvec_f32_in(w_h, b_h, &[Some(h)], hn, gh, tables)?;
    let (gx_rz, gx_n) = gx.split_at_mut(2 * hn);
    let (gh_rz, gh_n) = gh.split_at_mut(2 * hn);
    for (a, b) in gx_rz.iter_mut().zip(gh_rz.iter()) {
        *a += *b;
    }
    sigmoid(gx_rz);
    let (r, z) = gx_rz.split_at(hn);
    for ((a, b), rv) in gx_n.iter_mut().zip(gh_n.iter()).zip(r) {
        *a += *rv * *b;
    }
    tanh(gx_n);
    for ((hv, zv), nv) in h.iter_mut().zip(z).zip(gx_n.iter()) {
        *hv = (1.0 - *zv) * *nv + *zv * *hv;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::kernels::test_util::{f32_bytes, OwnedPacked, Rng};
    use std::vec::Vec;

    fn sig(v: f64) -> f64 {
        1.0 / (1.0 + (-v).exp())
    }

    /// f64 reference step.
    fn step_ref(wx: &OwnedPacked, bx: &[f32], wh: &OwnedPacked, bh: &[f32], x: &[f32], h: &mut [f64]) {
        let hn = h.len();
        let gate = |t: &OwnedPacked, b: &[f32], v: &[f64], row: usize| -> f64 {
            f64::from(b[row]) + (0..v.len()).map(|i| t.weight(row * v.len() + i) * v[i]).sum::<f64>()
        };
        let xv: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
        let hv = h.to_vec();
        for k in 0..hn {
            let r = sig(gate(wx, bx, &xv, k) + gate(wh, bh, &hv, k));
            let z = sig(gate(wx, bx, &xv, hn + k) + gate(wh, bh, &hv, hn + k));
            let n = (gate(wx, bx, &xv, 2 * hn + k) + r * gate(wh, bh, &hv, 2 * hn + k)).tanh();
            h[k] = (1.0 - z) * n + z * hv[k];
        }
    }

    #[test]
    fn gru_f32_matches_f64_reference() {
        let mut rng = Rng::new(31);
        for (i_len, hn, gs) in [(16, 8, 8), (24, 40, 8)] {
            let wx = OwnedPacked::random(&mut rng, 3 * hn * i_len, gs, &[3, 4, 9], -0.4, 0.35);
            let wh = OwnedPacked::random(&mut rng, 3 * hn * hn, gs, &[2, 8], -0.3, 0.3);
            let (bx, bh) = (rng.f32s(3 * hn, 0.5), rng.f32s(3 * hn, 0.5));
            let (bxb, bhb) = (f32_bytes(&bx), f32_bytes(&bh));
            let mut h = std::vec![0.0f32; hn];
            let mut h64 = std::vec![0.0f64; hn];
            let mut scratch = std::vec![0.0f32; 6 * hn];
            let mut worst = 0.0f64;
            for _ in 0..20 {
                let x = rng.f32s(i_len, 2.0);
                let (wxw, whw) = (Weights::Packed(wx.packed()), Weights::Packed(wh.packed()));
                gru_f32(&wxw, Some(&Bias::F32(&bxb)), &whw, Some(&Bias::F32(&bhb)), &x, &mut h, &mut scratch).unwrap();
                step_ref(&wx, &bx, &wh, &bh, &x, &mut h64);
                for (a, b) in h.iter().zip(&h64) {
                    worst = worst.max((f64::from(*a) - b).abs());
                }
            }
            assert!(worst < 2e-5, "I={i_len} H={hn}: f32 vs f64 {worst:e}");
        }
    }

    #[test]
    fn gru_f32_short_scratch_is_a_kernel_shape_error() {
        let w = [0u8; 3 * 2 * 2 * 4];
        let mut h = [0.0f32; 2];
        let mut scratch = [0.0f32; 11];
        let x = [1.0f32; 2];
        let wt = Weights::F32(&w);
        assert_eq!(gru_f32(&wt, None, &wt, None, &x, &mut h, &mut scratch), Err(Error::KernelShape));
        let mut scratch = [0.0f32; 12];
        assert_eq!(gru_f32(&wt, None, &wt, None, &x, &mut h, &mut scratch), Ok(()));
        assert_eq!(gru_f32(&wt, None, &wt, None, &x[..1], &mut h, &mut scratch), Err(Error::KernelShape));
    }
}
