//! Schedules of a training run: the model's learning rate and the λ controller's size target.

use crate::train::TrainConfig;

/// The model's learning rate at `step` of `steps`.
pub fn lr_at(cfg: &TrainConfig, step: usize, steps: usize) -> f64 {
    if !cfg.lr_cosine || steps == 0 {
        return cfg.lr;
    }
    // With `--freeze-bits` the decay spans the frozen phase only: before it the weights must keep
    // up with bit widths that are still moving.
    let start = cfg.freeze_bits.map_or(0, |f| ((f * steps as f64) as usize).min(steps));
    if step < start {
        return cfg.lr;
    }
    let t = (step - start) as f64 / (steps - start).max(1) as f64;
    cfg.lr * (0.01 + 0.99 * 0.5 * (1.0 + (std::f64::consts::PI * t).cos()))
}

/// The size the λ controller aims at after `step` steps: geometric interpolation from `size0`
/// (the initial size) to `target` over the first `anneal` fraction of training, then `target`.
/// A gradual descent lets the task gradient shape the bit allocation on the way down.
pub fn annealed_target(target: f64, size0: f64, step: usize, steps: usize, anneal: f64) -> f64 {
    let span = anneal * steps as f64;
    if span <= 0.0 || size0 <= target {
        return target;
    }
    let frac = (step as f64 / span).min(1.0);
    (target.ln() + (1.0 - frac) * (size0.ln() - target.ln())).exp()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::preset;

    #[test]
    fn cosine_lr_decays_over_the_frozen_phase_only() {
        let base = TrainConfig { lr: 1e-3, lr_cosine: true, ..preset("tiny").unwrap().2 };
        assert_eq!(lr_at(&base, 0, 1000), 1e-3);
        assert!((lr_at(&base, 500, 1000) - 1e-3 * (0.01 + 0.99 * 0.5)).abs() < 1e-12);
        assert!((lr_at(&base, 1000, 1000) - 1e-5).abs() < 1e-12);
        let frozen = TrainConfig { freeze_bits: Some(0.8), ..base.clone() };
        assert_eq!(lr_at(&frozen, 799, 1000), 1e-3);
        assert_eq!(lr_at(&frozen, 800, 1000), 1e-3);
        assert!((lr_at(&frozen, 900, 1000) - 1e-3 * (0.01 + 0.99 * 0.5)).abs() < 1e-12);
        assert!((lr_at(&frozen, 1000, 1000) - 1e-5).abs() < 1e-12);
        assert_eq!(lr_at(&TrainConfig { lr_cosine: false, ..frozen }, 900, 1000), 1e-3);
    }

    #[test]
    fn annealed_target_goes_geometrically_from_initial_size_to_target() {
        let (t, s0) = (25_000.0, 100_000.0);
        assert!((annealed_target(t, s0, 0, 1000, 0.5) - s0).abs() < 1e-6);
        assert!((annealed_target(t, s0, 250, 1000, 0.5) - 50_000.0).abs() < 1e-6);
        assert_eq!(annealed_target(t, s0, 500, 1000, 0.5), t);
        assert_eq!(annealed_target(t, s0, 900, 1000, 0.5), t);
        assert_eq!(annealed_target(t, s0, 10, 1000, 0.0), t);
        assert_eq!(annealed_target(t, 20_000.0, 10, 1000, 0.5), t);
    }
}
