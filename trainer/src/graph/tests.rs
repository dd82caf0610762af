use super::*;
use crate::describe;
use crate::model::{self, Arch, Params};
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
        let got = forward(&m, &p.weight_tensors(), &p.bias_tensors(), &x, normalize).unwrap();
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
        let y = forward(&m, &p.weight_tensors(), &p.bias_tensors(), &x, true).unwrap();
        assert_eq!(y.dims3().unwrap(), (2, 12, m.frontend.n_outputs()), "{name}");
        let g = y.sqr().unwrap().mean_all().unwrap().backward().unwrap();
        for w in &p.weights {
            let gw = g.get(w.as_tensor()).unwrap_or_else(|| panic!("{name}: a weight without gradient"));
            assert!(gw.abs().unwrap().sum_all().unwrap().to_scalar::<f32>().unwrap() > 0.0, "{name}");
        }
        let last = (x.narrow(1, 11, 1).unwrap() + 1.0).unwrap();
        let x2 = Tensor::cat(&[&x.narrow(1, 0, 11).unwrap(), &last], 1).unwrap();
        let y2 = forward(&m, &p.weight_tensors(), &p.bias_tensors(), &x2, true).unwrap();
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
