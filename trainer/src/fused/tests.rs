//! The fused op against candle's graph: the same logits, loss terms and gradients.

use super::*;
use crate::model::{self, Params};
use candle_core::{Device, Var};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn small_arch(kernel: usize, dilations: Vec<usize>) -> Arch {
    Arch { n_features: 6, width: 8, kernel, dilations, n_out: 5, in_mean: -6.0, in_shift: 2 }
}

fn batch(arch: &Arch, b: usize, t: usize, rng: &mut StdRng) -> Batch {
    let mut v = |n: usize, lo: f32, hi: f32| (0..n).map(|_| rng.random_range(lo..hi)).collect::<Vec<f32>>();
    Batch {
        b,
        t,
        width: arch.n_features,
        bins: arch.n_out,
        feats: v(b * t * arch.n_features, -12.0, 2.0),
        sqrt_mix: v(b * t * arch.n_out, 0.0, 3.0),
        sqrt_clean: v(b * t * arch.n_out, 0.0, 3.0),
    }
}

fn tensors(a: &Arch, bt: &Batch, dev: &Device) -> (Tensor, Tensor, Tensor) {
    let f = Tensor::from_slice(&bt.feats, (bt.b, bt.t, a.n_features), dev).unwrap();
    let m = Tensor::from_slice(&bt.sqrt_mix, (bt.b, bt.t, a.n_out), dev).unwrap();
    let c = Tensor::from_slice(&bt.sqrt_clean, (bt.b, bt.t, a.n_out), dev).unwrap();
    (f, m, c)
}

/// Largest difference relative to the largest magnitude.
fn rel_diff(a: &Tensor, b: &Tensor) -> f32 {
    let a = a.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let b = b.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    assert_eq!(a.len(), b.len());
    let scale = a.iter().chain(&b).fold(0f32, |m, v| m.max(v.abs())).max(1e-12);
    a.iter().zip(&b).fold(0f32, |m, (x, y)| m.max((x - y).abs())) / scale
}

/// Fused and graph loss terms and gradients for one case (teacher blend `alpha` if given).
fn check(arch: &Arch, b: usize, t: usize, alpha: Option<f64>, threads: usize, seed: u64) {
    let dev = Device::Cpu;
    let mut rng = StdRng::seed_from_u64(seed);
    let p = Params::init(arch, &mut rng, &dev).unwrap();
    // non-zero biases, and weights large enough that some logits leave the clamp's range
    for v in p.biases.iter().chain(&p.weights) {
        let n = v.as_tensor().elem_count();
        let noise: Vec<f32> = (0..n).map(|_| rng.random_range(-0.5..0.5)).collect();
        v.set(&(v.as_tensor() + Tensor::from_vec(noise, v.shape(), &dev).unwrap()).unwrap()).unwrap();
    }
    let bt = batch(arch, b, t, &mut rng);
    let teacher = alpha.map(|_| Params::init(arch, &mut rng, &dev).unwrap());
    let (f, m, c) = tensors(arch, &bt, &dev);

    // candle's graph
    let z = model::forward(arch, &p.weight_tensors(), &p.bias_tensors(), &f, true).unwrap();
    let task = model::mask_loss(&z, &m, &c).unwrap();
    let (fit, dist) = match (&teacher, alpha) {
        (Some(tp), Some(a)) => {
            let tz = model::forward(arch, &tp.weight_tensors(), &tp.bias_tensors(), &f, true).unwrap();
            let est = model::mask_estimate(&tz, &m).unwrap();
            let d = model::mask_loss(&z, &m, &est).unwrap();
            (((&task * (1.0 - a)).unwrap() + (&d * a).unwrap()).unwrap(), Some(d))
        }
        _ => (task.clone(), None),
    };
    let g_graph = fit.backward().unwrap();

    // the fused op
    let fused = FusedNet::new(threads);
    let tw = teacher.as_ref().map(|tp| (tp.weight_tensors(), tp.bias_tensors()));
    fused.prepare(arch, &bt, tw.as_ref().map(|(w, b)| (w.as_slice(), b.as_slice()))).unwrap();
    let terms = fused.loss(&p.weight_tensors(), &p.bias_tensors()).unwrap();
    let ftask = terms.get(0).unwrap();
    let ffit = match alpha {
        Some(a) => ((&ftask * (1.0 - a)).unwrap() + (terms.get(1).unwrap() * a).unwrap()).unwrap(),
        None => ftask.clone(),
    };
    let g_fused = ffit.backward().unwrap();

    let (lt, lf) = (task.to_scalar::<f32>().unwrap(), ftask.to_scalar::<f32>().unwrap());
    assert!((lt - lf).abs() <= 1e-5 * lt.abs().max(1e-6), "task loss {lt} vs {lf}");
    if let Some(d) = dist {
        let (a, b) = (d.to_scalar::<f32>().unwrap(), terms.get(1).unwrap().to_scalar::<f32>().unwrap());
        assert!((a - b).abs() <= 1e-5 * a.abs().max(1e-6), "teacher distance {a} vs {b}");
    }
    for (name, v) in p.named() {
        let d = rel_diff(g_graph.get(v.as_tensor()).unwrap(), g_fused.get(v.as_tensor()).unwrap());
        assert!(d < 1e-4, "{name}: relative gradient difference {d} ({arch:?}, batch {b} × {t} frames)");
    }
}

#[test]
fn fused_loss_and_gradients_equal_the_graphs() {
    check(&small_arch(3, vec![1, 2, 4]), 3, 11, None, 1, 1);
    check(&small_arch(2, vec![3]), 2, 5, None, 2, 2);
    check(&small_arch(1, vec![1, 1]), 2, 4, None, 1, 3); // kernel 1: no padding rows
    check(&small_arch(3, vec![4]), 2, 3, None, 1, 4); // reach (8) beyond the item's length
}

#[test]
fn fused_teacher_distance_and_its_gradients_equal_the_graphs() {
    check(&small_arch(3, vec![1, 2]), 2, 9, Some(0.3), 2, 5);
}

#[test]
fn fused_gradients_reach_the_diffq_weights_and_bit_logits() {
    use crate::config::Method;
    use crate::diffq::DiffqConfig;
    use crate::qstate::QState;
    let dev = Device::Cpu;
    let arch = Arch::new(16);
    let cfg = DiffqConfig { min_size: 0, group_size: 16, ..DiffqConfig::default() };
    let qs = QState::new(Method::Diffq, &arch, &cfg, &dev).unwrap();
    let mut rng = StdRng::seed_from_u64(7);
    let p = Params::init(&arch, &mut rng, &dev).unwrap();
    let bt = batch(&arch, 2, 6, &mut rng);
    let (f, m, c) = tensors(&arch, &bt, &dev);
    let grads = |fused: bool| {
        let w = qs.train_weights(&p, &mut StdRng::seed_from_u64(9)).unwrap();
        let loss = if fused {
            let fnet = FusedNet::new(1);
            fnet.prepare(&arch, &bt, None).unwrap();
            fnet.loss(&w, &p.bias_tensors()).unwrap().get(0).unwrap()
        } else {
            let z = model::forward(&arch, &w, &p.bias_tensors(), &f, true).unwrap();
            model::mask_loss(&z, &m, &c).unwrap()
        };
        loss.backward().unwrap()
    };
    let (g, h) = (grads(false), grads(true));
    let vars: Vec<&Var> = p.weights.iter().chain(&p.biases).chain(qs.logit_vars()).collect();
    for v in vars {
        let d = rel_diff(g.get(v.as_tensor()).unwrap(), h.get(v.as_tensor()).unwrap());
        assert!(d < 1e-4, "relative gradient difference {d}");
    }
}

#[test]
fn a_stale_forward_pass_is_refused() {
    let arch = small_arch(3, vec![1]);
    let mut rng = StdRng::seed_from_u64(3);
    let p = Params::init(&arch, &mut rng, &Device::Cpu).unwrap();
    let fused = FusedNet::new(1);
    fused.prepare(&arch, &batch(&arch, 1, 4, &mut rng), None).unwrap();
    let first = fused.loss(&p.weight_tensors(), &p.bias_tensors()).unwrap();
    let _second = fused.loss(&p.weight_tensors(), &p.bias_tensors()).unwrap();
    assert!(first.backward().is_err());
}
