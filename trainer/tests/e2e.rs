//! Train tiny → export → evaluate through the runtime: the runtime's SI-SDR must equal the
//! trainer's own evaluation of the quantised weights within 0.01 dB.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use common::train;

use candle_core::Device;
use trainer::data::{self, Corpus, DataSel, Split};
use trainer::eval::{self, RunPath};
use trainer::export::{self, ExportOptions};

#[test]
fn tiny_train_export_eval_matches_runtime() {
    let c = common::make("e2e");
    let out = c.root.join("run");
    let (sp, nz, o) = (common::s(&c.speech), common::s(&c.noise), common::s(&out));
    let summary = train(&["--preset", "tiny", "--out", &o, "--speech", &sp, "--noise", &nz, "--json"]);
    assert_eq!(summary.steps, 30);
    assert!(summary.final_loss.is_finite());

    let opts = ExportOptions {
        ptq_bits: None,
        target_bytes: None,
        with_int: true,
        calib_mixtures: 4,
        calib_seconds: 1.0,
        data: None,
        allow_below_min_bits: false,
    };
    let (blob, report, dep) = export::export(&out, &opts, &Device::Cpu).unwrap();
    assert_eq!(report.blob_bytes, blob.len());
    assert_eq!(summary.blob_bytes_estimate, blob.len(), "train's size accounting equals the blob");
    assert!(report.has_int);

    let corpus = Corpus::load(&DataSel::dirs(&c.speech, &c.noise), Split::Test, None).unwrap();
    let mixes = data::test_set(&corpus, 2, 1.0, 7);
    let model = eval::parse_denoiser(&blob).unwrap();
    let rt = eval::evaluate(&mixes, |x| eval::enhance_blob(&model, x, RunPath::F32)).unwrap();
    let own = eval::evaluate(&mixes, |x| eval::enhance_deployable(&dep, x, &Device::Cpu)).unwrap();
    assert!((rt.si_sdri - own.si_sdri).abs() < 0.01, "runtime {} vs trainer {}", rt.si_sdri, own.si_sdri);
    for (a, b) in rt.per_snr.iter().zip(&own.per_snr) {
        assert!((a.enhanced_si_sdr - b.enhanced_si_sdr).abs() < 0.01);
    }
    let int = eval::evaluate(&mixes, |x| eval::enhance_blob(&model, x, RunPath::Int)).unwrap();
    assert!(int.si_sdri.is_finite());
    assert!((int.si_sdri - rt.si_sdri).abs() < 3.0, "int path {} far from f32 {}", int.si_sdri, rt.si_sdri);
}

#[test]
fn resume_continues_exactly() {
    let c = common::make("resume");
    let (sp, nz) = (common::s(&c.speech), common::s(&c.noise));
    let mut losses = Vec::new();
    // Plain, and with a weight average (its state must be checkpointed and resumed too).
    for (tag, extra) in [("plain", vec![]), ("ema", vec!["--ema", "0.9"])] {
        let full = common::s(&c.root.join(format!("full-{tag}")));
        let part = common::s(&c.root.join(format!("part-{tag}")));
        let mut base = vec!["--preset", "tiny", "--speech", &sp, "--noise", &nz, "--ckpt-every", "10"];
        base.extend(extra);
        let mut a = base.clone();
        a.extend(["--out", &full, "--steps", "20"]);
        let s_full = train(&a);
        let mut b = base.clone();
        b.extend(["--out", &part, "--steps", "10"]);
        train(&b);
        let mut r = base.clone();
        r.extend(["--out", &part, "--steps", "20", "--resume"]);
        let s_res = train(&r);
        assert_eq!(s_res.steps, 20);
        let rel = (s_full.val_loss - s_res.val_loss).abs() / s_full.val_loss;
        assert!(rel < 1e-4, "{tag}: resumed {} vs uninterrupted {}", s_res.val_loss, s_full.val_loss);
        losses.push(s_full.val_loss);
    }
    assert_ne!(losses[0], losses[1], "the averaged weights are what the checkpoint holds");
}

#[test]
fn baselines_and_size_target_export() {
    let c = common::make("methods");
    let (sp, nz) = (common::s(&c.speech), common::s(&c.noise));
    let fp = common::s(&c.root.join("fp32"));
    let common_args = ["--preset", "tiny", "--speech", &sp, "--noise", &nz, "--steps", "10"];
    let mut a = common_args.to_vec();
    a.extend(["--method", "fp32", "--out", &fp]);
    train(&a);
    let opts = |ptq: Option<u8>| ExportOptions {
        ptq_bits: ptq,
        target_bytes: None,
        with_int: true,
        calib_mixtures: 2,
        calib_seconds: 1.0,
        data: None,
        allow_below_min_bits: false,
    };
    let (b32, r32, _) = export::export(std::path::Path::new(&fp), &opts(None), &Device::Cpu).unwrap();
    assert!(!r32.has_int, "fp32 weights have no integer path");
    let (b8, r8, _) = export::export(std::path::Path::new(&fp), &opts(Some(8)), &Device::Cpu).unwrap();
    let (b4, _, _) = export::export(std::path::Path::new(&fp), &opts(Some(4)), &Device::Cpu).unwrap();
    assert!(r8.has_int && b4.len() < b8.len() && b8.len() < b32.len());
    // `train --method ptq8` is a checkpoint of the same quantisation (no steps, a null loss)
    let p8 = common::s(&c.root.join("ptq8"));
    let mut a = common_args.to_vec();
    a.extend(["--method", "ptq8", "--from", &fp, "--out", &p8]);
    assert_eq!(train(&a).steps, 0);
    let (bp8, _, _) = export::export(std::path::Path::new(&p8), &opts(None), &Device::Cpu).unwrap();
    assert_eq!(bp8, b8);
    // QAT and a DiffQ size target
    let q = common::s(&c.root.join("qat"));
    let mut a = common_args.to_vec();
    a.extend(["--method", "qat4", "--out", &q]);
    train(&a);
    let (bq, rq, _) = export::export(std::path::Path::new(&q), &opts(None), &Device::Cpu).unwrap();
    assert_eq!(bq.len(), b4.len());
    assert_eq!(rq.avg_bits, Some(4.0));
    let d = common::s(&c.root.join("target"));
    let mut a = common_args.to_vec();
    a.extend(["--method", "diffq", "--out", &d, "--target-kb", "7"]);
    train(&a);
    let (bd, rd, _) = export::export(std::path::Path::new(&d), &opts(None), &Device::Cpu).unwrap();
    let budget = 7 * 1024;
    assert!(bd.len() <= budget && bd.len() as f64 >= 0.97 * budget as f64, "{} bytes for a {budget} budget", bd.len());
    assert_eq!(rd.target_bytes, Some(budget));
    // --fill-budget: the widths frozen halfway already fill the budget, and the export keeps them
    let f = common::s(&c.root.join("fill"));
    let mut a = common_args.to_vec();
    a.extend(["--method", "diffq", "--out", &f, "--target-kb", "7", "--freeze-bits", "0.5", "--fill-budget"]);
    let sf = train(&a);
    let (bf, rf, _) = export::export(std::path::Path::new(&f), &opts(None), &Device::Cpu).unwrap();
    assert_eq!((rf.adjusted_groups, bf.len()), (0, sf.blob_bytes_estimate), "the export moved frozen widths");
    assert!(bf.len() <= budget && bf.len() + 16 > budget, "{} bytes do not fill a {budget} budget", bf.len());
}

#[test]
fn recipe_files_run_like_their_flags() {
    let c = common::make("recipe");
    let (sp, nz) = (common::s(&c.speech), common::s(&c.noise));
    let stage1 = c.root.join("fp32.toml");
    std::fs::write(&stage1, "preset = \"tiny\"\nmethod = \"fp32\"\nsteps = 10\n").unwrap();
    let stage2 = c.root.join("diffq.toml");
    let recipe = "preset = \"tiny\"\nfrom = \"fp32\"\nsteps = 10\ndistill = 0.3\ntarget_kb = 7\nfreeze_bits = 0.5\n\
                  fill_budget = true\nnoise_kind = \"uniform\"\nparam = \"noise\"\n";
    std::fs::write(&stage2, recipe).unwrap();
    let runs = c.root.join("runs");
    let (fp32, diffq) = (common::s(&runs.join("fp32")), common::s(&runs.join("diffq")));
    train(&["--config", &common::s(&stage1), "--out", &fp32, "--speech", &sp, "--noise", &nz]);
    // `from = "fp32"` is the stage written beside this one
    let by_file = train(&["--config", &common::s(&stage2), "--out", &diffq, "--speech", &sp, "--noise", &nz]);
    let flags = common::s(&c.root.join("flags"));
    let mut a = vec!["--preset", "tiny", "--steps", "10", "--from", &fp32, "--distill", "0.3", "--target-kb", "7"];
    a.extend(["--freeze-bits", "0.5", "--fill-budget", "--noise-kind", "uniform", "--param", "noise"]);
    a.extend(["--out", &flags, "--speech", &sp, "--noise", &nz]);
    let by_flags = train(&a);
    assert_eq!(by_file.val_loss, by_flags.val_loss, "the recipe file and its flags train the same model");
    assert_eq!(by_file.blob_bytes_estimate, by_flags.blob_bytes_estimate);
    // and the file's `from` mattered: without the teacher and the fp32 start the run differs
    let alone = common::s(&c.root.join("alone"));
    let mut a = vec!["--preset", "tiny", "--steps", "10", "--target-kb", "7", "--freeze-bits", "0.5", "--fill-budget"];
    a.extend(["--noise-kind", "uniform", "--param", "noise", "--out", &alone, "--speech", &sp, "--noise", &nz]);
    assert_ne!(train(&a).val_loss, by_file.val_loss);
}
