//! Schedules of a training run: the model's learning rate, the λ controller's size target and
//! the controller itself.

use crate::config::TrainConfig;

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

/// Proportional gain of the λ controller (log λ per unit of log size miss).
pub const DUAL_P: f64 = 4.0;
/// Above the target the λ controller integrates only within +25% (in log) of it.
pub const DUAL_WINDOW: f64 = 0.25;

/// One step of the λ controller: PI control of log λ on the constraint `size ≤ goal`, aiming
/// 1.5% inside it. Returns the new integral term and λ. The proportional part reacts at once; the
/// integral part (dual ascent) removes the steady-state miss. It winds up only near the goal
/// (anti-windup), so λ does not grow while the bits are still on their way down; below the goal
/// it always winds down, so that a slack constraint lets λ fall towards 0 instead of holding the
/// bits far under the budget (a 48 KiB target landed 28% under before).
pub fn dual_step(log_i: f64, size: f64, goal: f64, dual_lr: f64) -> (f64, f64) {
    let g = (size / (0.985 * goal)).ln().clamp(-1.0, 1.0);
    let log_i = if g < DUAL_WINDOW { (log_i + dual_lr * g / DUAL_WINDOW).clamp(-12.0, 12.0) } else { log_i };
    (log_i, (log_i + DUAL_P * g).exp())
}

/// The λ controller of a run with a size target: λ and the integral term of its PI control.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SizeControl {
    pub lambda: f64,
    /// The integral term, log λ's part that [`dual_step`] winds up and down.
    pub log_i: f64,
    /// The blob's size at the initial bits, where the annealed target starts.
    size0: f64,
}

impl SizeControl {
    /// A controller at `lambda` with the integral term `log_i` (a resumed run's), or `ln λ`.
    pub fn new(lambda: f64, log_i: Option<f64>, size0: f64) -> SizeControl {
        SizeControl { lambda, log_i: log_i.unwrap_or(lambda.max(1e-4).ln()), size0 }
    }

    /// After step `step` of `steps`, which measured the differentiable size `size`: one PI step
    /// towards the annealed target (nothing without a target).
    pub fn update(&mut self, cfg: &TrainConfig, size: f64, step: usize, steps: usize) {
        let Some(target) = cfg.target_bytes else { return };
        let goal = annealed_target(target, self.size0, step, steps, cfg.target_anneal);
        (self.log_i, self.lambda) = dual_step(self.log_i, size, goal, cfg.dual_lr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::preset;

    #[test]
    fn cosine_lr_decays_over_the_frozen_phase_only() {
        let base = TrainConfig { lr: 1e-3, lr_cosine: true, ..preset("tiny").unwrap().train };
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

    #[test]
    fn size_control_steps_towards_the_annealed_target_and_only_with_one() {
        let cfg = TrainConfig { target_bytes: Some(20_000.0), target_anneal: 0.5, ..preset("tiny").unwrap().train };
        let mut c = SizeControl::new(1.0, None, 80_000.0);
        assert_eq!(c.log_i, 0.0);
        c.update(&cfg, 50_000.0, 250, 1000);
        let goal = annealed_target(20_000.0, 80_000.0, 250, 1000, 0.5);
        assert!((goal - 40_000.0).abs() < 1e-6, "halfway through the annealing: the geometric mean");
        let (i, l) = dual_step(0.0, 50_000.0, goal, cfg.dual_lr);
        assert_eq!((c.log_i, c.lambda), (i, l));
        assert!(l > 1.0, "over the goal λ grows");
        let resumed = SizeControl::new(0.5, Some(-3.0), 80_000.0);
        assert_eq!(resumed.log_i, -3.0);
        let mut fixed = SizeControl::new(0.5, None, 80_000.0);
        fixed.update(&TrainConfig { target_bytes: None, ..cfg }, 50_000.0, 250, 1000);
        assert_eq!(fixed.lambda, 0.5, "without a target λ stays");
    }

    #[test]
    fn dual_step_winds_up_near_the_goal_only_and_down_whenever_under_it() {
        let (goal, lr) = (20_000.0, 0.01);
        // At the aim (1.5% inside the goal) nothing moves: λ = e^log_i.
        let (i, l) = dual_step(0.0, 0.985 * goal, goal, lr);
        assert!(i.abs() < 1e-12 && (l - 1.0).abs() < 1e-12);
        // 10% over: the integral grows by dual_lr·g/window, λ by e^{P·g} on top.
        let g = (1.1f64 / 0.985).ln();
        let (i, l) = dual_step(0.0, 1.1 * goal, goal, lr);
        assert!((i - lr * g / DUAL_WINDOW).abs() < 1e-12);
        assert!((l - (i + DUAL_P * g).exp()).abs() < 1e-12);
        // Far over (bits on their way down): no wind-up, only the proportional part.
        let (i, l) = dual_step(0.5, 2.0 * goal, goal, lr);
        assert_eq!(i, 0.5);
        assert!((l - (0.5 + DUAL_P * (2.0f64 / 0.985).ln()).exp()).abs() < 1e-9);
        // Far under (a slack budget): the integral keeps winding down and λ falls towards 0.
        let mut i = 0.0;
        let mut l = 1.0;
        for _ in 0..1000 {
            (i, l) = dual_step(i, 0.7 * goal, goal, lr);
        }
        assert_eq!(i, -12.0, "the integral is bounded");
        assert!(l < 1e-5, "λ {l} should have collapsed on a slack constraint");
    }
}
