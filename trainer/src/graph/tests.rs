use super::*;
use crate::describe;
use crate::model::{self, Arch, Params};
use rand::Rng;
use rand::SeedableRng;
use std::path::Path;

fn load(name: &str) -> ModelDesc {
    describe::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../models").join(name)).unwrap()
}

fn feats(b: usize, t: usize, f: usize) -> Tensor {
    let v: Vec<f32> = (0..b * t * f).map(|i| ((i * 37 % 101) as f32) * -0.1).collect();
    Tensor::from_vec(v, (b, t, f), &Device::Cpu).unwrap()
}

/// `models/conv.model.toml` computes exactly what the built-in model computes with the same
/// weights, normalised (training) and raw (exported).
#[test]
fn the_conv_description_computes_the_builtin_model() {
    let m = load("conv.model.toml");
    let arch = Arch::new(64);
    let p = Params::init(&arch, &mut StdRng::seed_from_u64(3), &Device::Cpu).unwrap();
    let x = feats(2, 9, arch.n_features);
    for normalize in [true, false] {
        let want = model::forward(&arch, &p.weight_tensors(), &p.bias_tensors(), &x, normalize).unwrap();
        let got = forward(&m, &p.weight_tensors(), &p.bias_tensors(), Norms::Folded, &x, normalize).unwrap();
        let d = (want - got).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
        assert!(d < 1e-5, "normalize {normalize}: {d}");
    }
}

/// Every reference description runs forward and backward with the output width it declares,
/// and is causal: changing the last frame changes no earlier output.
#[test]
fn every_reference_model_runs_causally_with_gradients() {
    for name in ["conv.model.toml", "tcn.model.toml", "gru.model.toml", "conv2d.model.toml"] {
        let m = load(name);
        let p = init_params(&m, &mut StdRng::seed_from_u64(1), &Device::Cpu).unwrap();
        let nf = m.frontend.n_features();
        let x = feats(2, 12, nf);
        let y = forward(&m, &p.weight_tensors(), &p.bias_tensors(), Norms::Folded, &x, true).unwrap();
        assert_eq!(y.dims3().unwrap(), (2, 12, m.frontend.n_outputs()), "{name}");
        let g = y.sqr().unwrap().mean_all().unwrap().backward().unwrap();
        for w in &p.weights {
            let gw = g.get(w.as_tensor()).unwrap_or_else(|| panic!("{name}: a weight without gradient"));
            assert!(gw.abs().unwrap().sum_all().unwrap().to_scalar::<f32>().unwrap() > 0.0, "{name}");
        }
        let last = (x.narrow(1, 11, 1).unwrap() + 1.0).unwrap();
        let x2 = Tensor::cat(&[&x.narrow(1, 0, 11).unwrap(), &last], 1).unwrap();
        let y2 = forward(&m, &p.weight_tensors(), &p.bias_tensors(), Norms::Folded, &x2, true).unwrap();
        let d = (y.narrow(1, 0, 11).unwrap() - y2.narrow(1, 0, 11).unwrap())
            .unwrap()
            .abs()
            .unwrap()
            .max_all()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        assert_eq!(d, 0.0, "{name} is not causal");
    }
}

/// A band mask of all ones is an all-ones bin mask (the mel bands sum to 1 in every bin): the
/// loss of a clean input is zero; a band mask of zeros leaves nothing.
#[test]
fn band_masks_spread_to_the_bins_as_the_runtime_spreads_them() {
    let d = Described::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/gru.model.toml")).unwrap();
    let fb = d.filterbank_tensor(&Device::Cpu).unwrap().unwrap();
    let bins = runtime::dsp::BINS;
    let mix =
        Tensor::from_vec((0..2 * bins).map(|i| (i % 7) as f32 * 0.3).collect(), (1, 2, bins), &Device::Cpu).unwrap();
    let open = Tensor::full(40f32, (1, 2, 32), &Device::Cpu).unwrap();
    let l = task_loss(&open, Some(&fb), &mix, &mix).unwrap().to_scalar::<f32>().unwrap();
    assert!(l < 1e-9, "{l}");
    let shut = Tensor::full(-40f32, (1, 2, 32), &Device::Cpu).unwrap();
    let zero = mix.zeros_like().unwrap();
    let l = task_loss(&shut, Some(&fb), &mix, &zero).unwrap().to_scalar::<f32>().unwrap();
    assert!(l < 1e-9, "{l}");
}

/// A description whose four weighted layers (conv2d on the input, a linear flattening its map,
/// conv1d, linear) carry `norm = "batch"`.
const NORMED: &str = r#"
[quant]
group_size = 8
[[layer]]
name = "c2"
op = "conv2d"
out = 4
kernel = 2
kernel_f = 3
stride_f = 2
norm = "batch"
act = "relu"
[[layer]]
name = "flat"
op = "linear"
out = 24
norm = "batch"
act = "relu"
[[layer]]
name = "c1"
op = "conv1d"
out = 16
kernel = 3
dilation = 2
norm = "batch"
act = "tanh"
[[layer]]
name = "mask"
op = "linear"
out = 129
norm = "batch"
act = "sigmoid"
"#;

/// Unquantised, a layer with batch normalisation in evaluation mode computes what the same layer
/// with the statistics folded into its weights and bias computes (max error 1e-4 on logits of
/// order 1–10); a training pass moves the running statistics by MOMENTUM towards the batch's.
#[test]
fn batch_norm_folds_into_the_weights() {
    let m = describe::parse(NORMED, Path::new("normed.toml")).unwrap();
    let dev = Device::Cpu;
    let p = init_params(&m, &mut StdRng::seed_from_u64(5), &dev).unwrap();
    assert_eq!(p.norms.len(), 4);
    let mut rng = StdRng::seed_from_u64(9);
    for (bn, b) in p.norms.iter().zip(&p.biases) {
        let c = bn.gamma.as_tensor().dim(0).unwrap();
        let mut r = |lo: f32, hi: f32| -> Tensor {
            let v: Vec<f32> = (0..c).map(|_| rng.random_range(lo..hi)).collect();
            Tensor::from_vec(v, c, &dev).unwrap()
        };
        bn.gamma.set(&r(0.5, 2.0)).unwrap();
        bn.mean.set(&r(-1.0, 1.0)).unwrap();
        bn.var.set(&r(0.1, 3.0)).unwrap();
        b.set(&r(-0.5, 0.5)).unwrap();
    }
    let x = feats(2, 10, m.frontend.n_features());
    let (w, b) = (p.weight_tensors(), p.bias_tensors());
    let want = forward(&m, &w, &b, Norms::Eval(&p.norms), &x, true).unwrap();
    let (mut fw, mut fb) = (Vec::new(), Vec::new());
    for ((w, b), bn) in w.iter().zip(&b).zip(&p.norms) {
        let v = |t: &Tensor| t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let (mut wv, mut bv) = (v(w), v(b));
        norm::fold(&mut wv, &mut bv, &v(bn.gamma.as_tensor()), &v(bn.mean.as_tensor()), &v(bn.var.as_tensor()));
        fw.push(Tensor::from_vec(wv, w.shape(), &dev).unwrap());
        fb.push(Tensor::from_vec(bv, b.shape(), &dev).unwrap());
    }
    let mut folded = m.clone();
    folded.nodes.iter_mut().for_each(|n| n.norm = None);
    let got = forward(&folded, &fw, &fb, Norms::Folded, &x, true).unwrap();
    let d = (&want - &got).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
    let scale = want.abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
    eprintln!("fold: max error {d:e} on logits up to {scale}");
    assert!(d < 1e-4 && scale > 0.5, "{d} (logits up to {scale})");
    assert!(forward(&m, &w, &b, Norms::Folded, &x, true).is_err(), "a norm without its state must not run");

    let before = p.norms[1].mean.as_tensor().to_vec1::<f32>().unwrap();
    let _ = forward(&m, &w, &b, Norms::Train(&p.norms), &x, true).unwrap();
    let after = p.norms[1].mean.as_tensor().to_vec1::<f32>().unwrap();
    let moved = before.iter().zip(&after).filter(|(a, b)| (*a - *b).abs() > 1e-6).count();
    assert_eq!(moved, before.len(), "every running mean moves in training");
}

/// Two strided conv1d layers (stride 2 with 3 taps, dilation 2; stride 3, grouped) and a head:
/// the candle forward (a strided conv as the full conv sampled and held) equals the runtime's
/// f32 path of the exported blob, frame by frame, within 2e-5.
#[test]
fn strided_conv1d_runs_as_the_runtime_runs() {
    let text = r#"
[quant]
group_size = 8
[[layer]]
name = "c1"
op = "conv1d"
out = 16
kernel = 3
dilation = 2
stride = 2
act = "relu"
[[layer]]
name = "c2"
op = "conv1d"
out = 16
kernel = 2
groups = 4
stride = 3
act = "tanh"
[[layer]]
name = "mask"
op = "linear"
out = 129
act = "sigmoid"
"#;
    let m = describe::parse(text, Path::new("strided.toml")).unwrap();
    let mut rng = StdRng::seed_from_u64(21);
    let p = init_params(&m, &mut rng, &Device::Cpu).unwrap();
    let tensors = p
        .weights
        .iter()
        .map(|w| {
            let rows = w.as_tensor().dim(0).unwrap();
            crate::describe::write::GraphTensor {
                rows,
                weight: w.as_tensor().flatten_all().unwrap().to_vec1().unwrap(),
                bias: (0..rows).map(|_| rng.random_range(-0.3..0.3)).collect(),
                quant: None,
            }
        })
        .collect();
    let dep = crate::export::graph::DeployGraph { desc: m.clone(), tensors, filterbank: None };
    let (blob, _) = crate::export::graph::write_graph(&dep, None).unwrap();
    let (w, b) = dep.tensors(&Device::Cpu).unwrap();
    let nf = m.frontend.n_features();
    let t = 23;
    let xs: Vec<f32> = (0..t * nf).map(|_| rng.random_range(-8.0..2.0)).collect();
    let x = Tensor::from_slice(&xs, (1, t, nf), &Device::Cpu).unwrap();
    let want = trace(&m, &w, &b, &x).unwrap().pop().unwrap().1.flatten_all().unwrap().to_vec1::<f32>().unwrap();

    let model = runtime::Model::parse(&blob).unwrap();
    let mut arena = vec![0f32; model.f32_arena_len()];
    let mut sbuf = vec![0f32; model.f32_state_len()];
    let mut st = runtime::StateF32::new(&mut sbuf);
    let mut worst = 0f32;
    for (k, frame) in xs.chunks(nf).enumerate() {
        let mut y = vec![0f32; model.output_len()];
        model.step_f32(&mut st, &mut arena, frame, &mut y).unwrap();
        for (a, e) in y.iter().zip(&want[k * 129..(k + 1) * 129]) {
            worst = worst.max((a - e).abs());
        }
    }
    eprintln!("strided conv1d: runtime f32 within {worst:e} of candle");
    assert!(worst < 2e-5, "{worst}");
}
