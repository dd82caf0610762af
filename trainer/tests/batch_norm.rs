//! A description with `norm = "batch"` (one of its layers strided in time) trains (tiny preset,
//! DiffQ), its checkpoint keeps the norms' scales and running statistics, and it exports as a
//! graph without a norm op (the statistics folded into the weights before quantisation): the blob
//! parses, its f32 path equals the trainer's forward of the exported weights, its integer path
//! runs. The fold's cost is
//! measured against quantising the unfolded weights and normalising after them (what training's
//! noise modelled): host SI-SDRi of the float model, of that, and of the exported blob.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use candle_core::{Device, Tensor};
use trainer::checkpoint::Checkpoint;
use trainer::data::{self, Corpus, DataSel, Split};
use trainer::describe::ModelDesc;
use trainer::eval::{self, RunPath};
use trainer::export::{self, graph_calib, Exported};
use trainer::graph::{self, norm::Norms};

/// The normalised layers do not read the input: quantising their unfolded weights (the
/// comparison below) then needs no feature-normalisation fold.
const DESC: &str = r#"
[quant]
group_size = 16
[[layer]]
name = "c1"
op = "conv1d"
out = 32
kernel = 3
act = "relu"
[[layer]]
name = "c2"
op = "conv1d"
out = 32
kernel = 3
dilation = 2
stride = 2
norm = "batch"
act = "relu"
[[layer]]
name = "l1"
op = "linear"
out = 32
norm = "batch"
act = "tanh"
[[layer]]
name = "mask"
op = "linear"
out = 129
act = "sigmoid"
"#;

/// Denoises with the trainer's forward of `desc` (raw features unless `normalize`).
fn enhance(desc: &ModelDesc, wb: &(Vec<Tensor>, Vec<Tensor>), norms: Norms, normalize: bool, x: &[f32]) -> Vec<f32> {
    let specs = trainer::features::spectra(trainer::features::Stft::Narrowband, x);
    let f = trainer::features::features(&specs);
    let feats = Tensor::from_vec(f, (1, specs.len(), desc.frontend.n_features()), &Device::Cpu).unwrap();
    let z = graph::forward(desc, &wb.0, &wb.1, norms, &feats, normalize).unwrap();
    let g = graph::bin_gains(&z, None).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
    trainer::features::synthesize(&specs, &g, x.len()).unwrap()
}

#[test]
fn a_batch_normalised_description_trains_and_exports_folded() {
    let c = common::make("batch-norm");
    let (sp, nz) = (common::s(&c.speech), common::s(&c.noise));
    let desc = c.root.join("bn.model.toml");
    std::fs::write(&desc, DESC).unwrap();
    let out = common::s(&c.root.join("bn"));
    let args = [
        "--preset",
        "tiny",
        "--model",
        &common::s(&desc),
        "--steps",
        "80",
        "--out",
        &out,
        "--speech",
        &sp,
        "--noise",
        &nz,
    ];
    let summary = common::train(&args);
    eprintln!(
        "batch norm: {} steps, loss {:.4}, validation loss {:.4} (running statistics)",
        summary.steps, summary.final_loss, summary.val_loss
    );
    assert!(summary.final_loss.is_finite() && summary.val_loss.is_finite());
    let ck = Checkpoint::load(std::path::Path::new(&out), &Device::Cpu).unwrap();
    for k in ["bn0.gamma", "bn0.mean", "bn0.var", "bn1.gamma", "bn1.mean", "bn1.var"] {
        assert_eq!(ck.get(k).unwrap().dims(), &[32], "{k}");
    }
    let t = ck.into_trained(&Device::Cpu).unwrap();
    let d = t.model.clone().unwrap();
    let moved = t.params.norms[0].mean.as_tensor().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
    assert!(moved > 0.0, "training moves the running statistics");

    let (b32, _, dep) =
        export::export_checkpoint(std::path::Path::new(&out), &common::export_opts(false), &Device::Cpu).unwrap();
    let (bint, rint, _) =
        export::export_checkpoint(std::path::Path::new(&out), &common::export_opts(true), &Device::Cpu).unwrap();
    let Exported::Graph(g) = dep else { panic!("not a graph") };
    assert!(rint.has_int);
    assert!(g.desc.nodes.iter().all(|n| n.norm.is_none()), "the exported graph keeps no norm");
    for b in [&b32, &bint] {
        assert_eq!(usize::from(runtime::Model::parse(b).unwrap().n_nodes()), g.desc.nodes.len());
    }

    let corpus = Corpus::load(&DataSel::dirs(&c.speech, &c.noise), Split::Test, None).unwrap();
    let mixes: Vec<data::Mixture> = data::test_set(&corpus, 1, 1.0, 7).into_iter().take(3).collect();
    let run = |blob: &[u8], path: RunPath| {
        let m = eval::parse_denoiser(blob).unwrap();
        eval::evaluate(&mixes, |x| eval::enhance_blob(&m, x, path)).unwrap()
    };
    let own = eval::evaluate(&mixes, |x| graph_calib::enhance(&g, x, &Device::Cpu)).unwrap();
    let rt = run(&b32, RunPath::F32);
    for (a, b) in rt.per_snr.iter().zip(&own.per_snr) {
        assert!((a.enhanced_si_sdr - b.enhanced_si_sdr).abs() < 0.01, "runtime f32 {a:?} vs trainer {b:?}");
    }
    let int = run(&bint, RunPath::Int);
    assert!(int.si_sdri.is_finite());

    // the float model (running statistics, unquantised), and its weights quantised unfolded
    let float = (t.params.weight_tensors(), t.params.bias_tensors());
    let fl = eval::evaluate(&mixes, |x| Ok(enhance(&d.desc, &float, Norms::Eval(&t.params.norms), true, x))).unwrap();
    let saved: Vec<[Tensor; 3]> =
        t.params.norms.iter().map(|n| [&n.gamma, &n.mean, &n.var].map(|v| v.as_tensor().copy().unwrap())).collect();
    for n in &t.params.norms {
        let c = n.gamma.as_tensor().dim(0).unwrap();
        n.gamma.set(&Tensor::ones(c, candle_core::DType::F32, &Device::Cpu).unwrap()).unwrap();
        n.mean.set(&Tensor::zeros(c, candle_core::DType::F32, &Device::Cpu).unwrap()).unwrap();
        n.var.set(&Tensor::full((1.0 - graph::norm::EPS) as f32, c, &Device::Cpu).unwrap()).unwrap();
    }
    let unfolded =
        export::graph::deploy(&t, &d, &export::graph::plans(&t, &d, &common::export_opts(false)).unwrap()).unwrap();
    for (n, s) in t.params.norms.iter().zip(&saved) {
        for (v, s) in [&n.gamma, &n.mean, &n.var].into_iter().zip(s) {
            v.set(s).unwrap();
        }
    }
    let wb = unfolded.tensors(&Device::Cpu).unwrap();
    let before = eval::evaluate(&mixes, |x| Ok(enhance(&d.desc, &wb, Norms::Eval(&t.params.norms), false, x))).unwrap();
    eprintln!(
        "batch norm: SI-SDRi float {:.3} dB, quantised then normalised {:.3} dB, folded then quantised (blob f32) \
         {:.3} dB, blob int {:.3} dB",
        fl.si_sdri, before.si_sdri, rt.si_sdri, int.si_sdri
    );
    assert!((before.si_sdri - rt.si_sdri).abs() < 0.5, "the fold costs {} dB", before.si_sdri - rt.si_sdri);
    // last: a training pass moves the running statistics
    let fl_batch =
        eval::evaluate(&mixes, |x| Ok(enhance(&d.desc, &float, Norms::Train(&t.params.norms), true, x))).unwrap();
    eprintln!("batch norm: SI-SDRi of the float model with each mixture's own statistics {:.3} dB", fl_batch.si_sdri);
}
