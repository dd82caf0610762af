//! PyTorch's GRU over time (gates r, z, n; `W_x [3H][in]`, `W_h [3H][H]`, biases `b_x`, `b_h`),
//! the state starting at zero as the runtime's does.

use candle_core::{Result, Tensor};

/// `x (B, T, in)` → the hidden states `(B, T, H)`.
pub fn gru(x: &Tensor, wx: &Tensor, wh: &Tensor, bx: &Tensor, bh: &Tensor) -> Result<Tensor> {
    let (b, t, inp) = x.dims3()?;
    let h3 = wx.dim(0)?;
    let hid = h3 / 3;
    let gx = x.reshape((b * t, inp))?.matmul(&wx.t()?)?.broadcast_add(bx)?.reshape((b, t, h3))?;
    let mut h = Tensor::zeros((b, hid), x.dtype(), x.device())?;
    let mut outs = Vec::with_capacity(t);
    let wht = wh.t()?;
    for k in 0..t {
        let gxk = gx.narrow(1, k, 1)?.squeeze(1)?;
        let gh = h.matmul(&wht)?.broadcast_add(bh)?;
        let part = |g: &Tensor, i: usize| g.narrow(1, i * hid, hid);
        let r = crate::model::sigmoid(&(part(&gxk, 0)? + part(&gh, 0)?)?)?;
        let z = crate::model::sigmoid(&(part(&gxk, 1)? + part(&gh, 1)?)?)?;
        let n = (part(&gxk, 2)? + (r * part(&gh, 2)?)?)?.tanh()?;
        // h' = (1 − z)·n + z·h = n + z·(h − n)
        h = (&n + (z * (&h - &n)?)?)?;
        outs.push(h.clone());
    }
    Tensor::stack(&outs, 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    /// Two steps of a 1-input, 1-unit GRU computed by hand.
    #[test]
    fn matches_the_pytorch_equations() {
        let dev = Device::Cpu;
        let wx = Tensor::new(&[[0.5f32], [-0.3], [0.8]], &dev).unwrap();
        let wh = Tensor::new(&[[0.2f32], [0.4], [-0.6]], &dev).unwrap();
        let bx = Tensor::new(&[0.1f32, 0.0, -0.2], &dev).unwrap();
        let bh = Tensor::new(&[0.0f32, 0.3, 0.1], &dev).unwrap();
        let x = Tensor::new(&[[[1.0f32], [-2.0]]], &dev).unwrap();
        let y = gru(&x, &wx, &wh, &bx, &bh).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let sig = |v: f32| 1.0 / (1.0 + (-v).exp());
        let mut h = 0f32;
        for (k, xv) in [1.0f32, -2.0].into_iter().enumerate() {
            let r = sig(0.5 * xv + 0.1 + 0.2 * h);
            let z = sig(-0.3 * xv + 0.4 * h + 0.3);
            let n = (0.8 * xv - 0.2 + r * (-0.6 * h + 0.1)).tanh();
            h = (1.0 - z) * n + z * h;
            assert!((h - y[k]).abs() < 1e-6, "step {k}: {h} vs {}", y[k]);
        }
    }
}
