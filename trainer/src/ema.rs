//! Exponential moving average of the model's weights (`train --ema DECAY`).
//!
//! The average starts at a given step (DiffQ: when the bits are frozen, so that every averaged
//! weight was trained under the exported quantisation's noise scale) and uses the decay
//! `min(DECAY, 1 − 1/(n + 1))` at its n-th update: a plain running mean at first, so the
//! weights of the first averaged step do not linger with weight DECAY^n.

use anyhow::{bail, Result};
use candle_core::{Tensor, Var};
use std::collections::HashMap;

pub struct WeightAverage {
    decay: f64,
    /// Updates so far.
    n: u64,
    avg: Vec<Tensor>,
}

/// The decay used at update `n` (0-based): 0 (copy) first, then the running mean, capped at `decay`.
pub fn decay_at(decay: f64, n: u64) -> f64 {
    decay.min(1.0 - 1.0 / (n as f64 + 1.0))
}

impl WeightAverage {
    pub fn new(vars: &[&Var], decay: f64) -> Result<WeightAverage> {
        if !(0.0..1.0).contains(&decay) {
            bail!("--ema must be in [0, 1), got {decay}");
        }
        let avg = vars.iter().map(|v| v.as_tensor().copy()).collect::<candle_core::Result<_>>()?;
        Ok(WeightAverage { decay, n: 0, avg })
    }

    /// Folds the vars' current values into the average.
    pub fn update(&mut self, vars: &[&Var]) -> Result<()> {
        let d = decay_at(self.decay, self.n);
        for (a, v) in self.avg.iter_mut().zip(vars) {
            *a = ((&*a * d)? + (v.as_tensor().detach() * (1.0 - d))?)?;
        }
        self.n += 1;
        Ok(())
    }

    /// Writes the average into the vars (the end of training) and returns their trained values
    /// as checkpoint tensors `ema_raw.{i}`, so that a resumed run continues from those.
    pub fn copy_to(&self, vars: &[&Var]) -> Result<Vec<(String, Tensor)>> {
        let mut raw = Vec::new();
        for (i, (a, v)) in self.avg.iter().zip(vars).enumerate() {
            raw.push((format!("ema_raw.{i}"), v.as_tensor().copy()?)); // a copy: `set` below writes in place
            v.set(a)?;
        }
        Ok(raw)
    }

    /// Puts back the trained values saved by [`WeightAverage::copy_to`], if the checkpoint has them.
    pub fn restore_raw(vars: &[&Var], tensors: &HashMap<String, Tensor>) -> Result<()> {
        for (i, v) in vars.iter().enumerate() {
            if let Some(t) = tensors.get(&format!("ema_raw.{i}")) {
                v.set(&t.to_device(v.as_tensor().device())?)?;
            }
        }
        Ok(())
    }

    /// Checkpoint tensors `ema.{i}`.
    pub fn state(&self) -> Vec<(String, Tensor)> {
        self.avg.iter().enumerate().map(|(i, a)| (format!("ema.{i}"), a.clone())).collect()
    }

    /// Restores the average saved by [`WeightAverage::state`] after `n` updates.
    pub fn load(&mut self, n: u64, tensors: &HashMap<String, Tensor>) -> Result<()> {
        for (i, a) in self.avg.iter_mut().enumerate() {
            match tensors.get(&format!("ema.{i}")) {
                Some(t) if t.shape() == a.shape() => *a = t.to_device(a.device())?,
                _ => bail!("the checkpoint has no weight average ema.{i} to resume"),
            }
        }
        self.n = n;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn running_mean_then_exponential() {
        assert_eq!(decay_at(0.9, 0), 0.0);
        assert_eq!(decay_at(0.9, 1), 0.5);
        assert!((decay_at(0.9, 2) - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(decay_at(0.9, 100), 0.9);
        let x = Var::new(&[0.0f32], &Device::Cpu).unwrap();
        let mut e = WeightAverage::new(&[&x], 0.5).unwrap();
        // values 1, 2, 3, 4: mean of the first two (1.5), then 0.5·1.5 + 0.5·3 = 2.25, 0.5·2.25 + 0.5·4 = 3.125
        for v in [1.0f32, 2.0, 3.0, 4.0] {
            x.set(&Tensor::new(&[v], &Device::Cpu).unwrap()).unwrap();
            e.update(&[&x]).unwrap();
        }
        let y = Var::new(&[0.0f32], &Device::Cpu).unwrap();
        let raw = e.copy_to(&[&y]).unwrap();
        assert_eq!(raw.len(), 1);
        assert!((y.as_tensor().to_vec1::<f32>().unwrap()[0] - 3.125).abs() < 1e-6);
        assert!(WeightAverage::new(&[&x], 1.0).is_err());
    }
}
