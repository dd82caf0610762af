//! Adam without weight decay, with its state exposed so checkpoints can resume exactly.

use anyhow::Result;
use candle_core::backprop::GradStore;
use candle_core::{Tensor, Var};
use std::collections::HashMap;

pub struct Adam {
    pub lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    pub t: u64,
    m: Vec<Tensor>,
    v: Vec<Tensor>,
}

impl Adam {
    pub fn new(vars: &[&Var], lr: f64) -> Result<Adam> {
        let m = vars.iter().map(|v| v.as_tensor().zeros_like()).collect::<candle_core::Result<Vec<_>>>()?;
        let v = m.clone();
        Ok(Adam { lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, t: 0, m, v })
    }

    /// One update of every var that received a gradient.
    pub fn step(&mut self, vars: &[&Var], grads: &GradStore) -> Result<()> {
        self.t += 1;
        let t = self.t as i32;
        let c1 = 1.0 - self.beta1.powi(t);
        let c2 = 1.0 - self.beta2.powi(t);
        for ((var, m), v) in vars.iter().zip(self.m.iter_mut()).zip(self.v.iter_mut()) {
            let Some(g) = grads.get(var.as_tensor()) else { continue };
            *m = ((&*m * self.beta1)? + (g * (1.0 - self.beta1))?)?;
            *v = ((&*v * self.beta2)? + (g.sqr()? * (1.0 - self.beta2))?)?;
            let upd = (&*m * (self.lr / c1))?.div(&((&*v * (1.0 / c2))?.sqrt()? + self.eps)?)?;
            var.set(&var.as_tensor().sub(&upd)?)?;
        }
        Ok(())
    }

    /// State tensors named `{prefix}.{i}.m` / `.v`.
    pub fn state(&self, prefix: &str) -> Vec<(String, Tensor)> {
        let mut out = Vec::new();
        for (i, (m, v)) in self.m.iter().zip(&self.v).enumerate() {
            out.push((format!("{prefix}.{i}.m"), m.clone()));
            out.push((format!("{prefix}.{i}.v"), v.clone()));
        }
        out
    }

    /// Restores the moments saved by [`Adam::state`] (missing entries stay zero).
    pub fn load(&mut self, prefix: &str, t: u64, tensors: &HashMap<String, Tensor>) -> Result<()> {
        self.t = t;
        for (i, (m, v)) in self.m.iter_mut().zip(self.v.iter_mut()).enumerate() {
            if let (Some(a), Some(b)) =
                (tensors.get(&format!("{prefix}.{i}.m")), tensors.get(&format!("{prefix}.{i}.v")))
            {
                *m = a.to_device(m.device())?;
                *v = b.to_device(v.device())?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn first_step_moves_by_lr_and_minimises_a_quadratic() {
        let x = Var::new(&[3.0f32, -2.0], &Device::Cpu).unwrap();
        let mut opt = Adam::new(&[&x], 0.1).unwrap();
        let g = x.as_tensor().sqr().unwrap().sum_all().unwrap().backward().unwrap();
        opt.step(&[&x], &g).unwrap();
        let v = x.as_tensor().to_vec1::<f32>().unwrap();
        assert!((v[0] - 2.9).abs() < 1e-5 && (v[1] + 1.9).abs() < 1e-5, "{v:?}");
        for _ in 0..300 {
            let g = x.as_tensor().sqr().unwrap().sum_all().unwrap().backward().unwrap();
            opt.step(&[&x], &g).unwrap();
        }
        let v = x.as_tensor().to_vec1::<f32>().unwrap();
        assert!(v.iter().all(|a| a.abs() < 0.05), "{v:?}");
    }
}
