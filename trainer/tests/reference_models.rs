//! Every reference description (`models/{conv,tcn,gru,conv2d,gru16k}.model.toml`) trains with the
//! tiny preset (DiffQ): the 8 kHz ones on a small synthetic corpus, the 16 kHz one on the pinned
//! default corpus (its G.722 prompts and tracks decoded, 24 speech files): a finite loss, a checkpoint that stores the description and rebuilds the
//! model (its validation loss recomputed from the checkpoint equals the one training logged),
//! and learnt widths inside each layer's range. Each checkpoint then exports as a format v5 graph
//! (with and without the integer path), parses back, and runs through the runtime's pipeline on
//! two short test mixtures: the f32 path equals the trainer's own forward of the exported weights
//! (enhanced SI-SDR within 0.01 dB per SNR), the integer path gives a finite SI-SDR. The blobs
//! are written to `target/reference-models/NAME.dqem` for the QEMU tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use common::train;

use candle_core::Device;
use trainer::checkpoint::Checkpoint;
use trainer::data::{self, Corpus, DataSel, Split};
use trainer::describe::LayerQuant;
use trainer::eval::{self, RunPath};
use trainer::export::{self, ExportOptions, Exported};

fn model_path(name: &str) -> String {
    format!("{}/../models/{name}.model.toml", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn every_reference_model_trains_and_its_checkpoint_rebuilds_it() {
    let c = common::make("reference-models");
    let (sp, nz) = (common::s(&c.speech), common::s(&c.noise));
    let (dsp, dnz) = (data::DEFAULT_SPEECH.to_string(), data::DEFAULT_NOISE.to_string());
    for (name, (sp, nz)) in [
        ("conv", (&sp, &nz)),
        ("tcn", (&sp, &nz)),
        ("gru", (&sp, &nz)),
        ("conv2d", (&sp, &nz)),
        ("gru16k", (&dsp, &dnz)),
    ] {
        let out = common::s(&c.root.join(name));
        let path = model_path(name);
        let t0 = std::time::Instant::now();
        let args =
            ["--preset", "tiny", "--model", &path, "--steps", "12", "--out", &out, "--speech", sp, "--noise", nz];
        let summary = train(&args);
        eprintln!(
            "{name}: {} weights, {} steps in {:.1} s, loss {:.4}, val {:.4}, {:?} bits, ~{} bytes",
            summary.weights,
            summary.steps,
            t0.elapsed().as_secs_f64(),
            summary.final_loss,
            summary.val_loss,
            summary.avg_bits,
            summary.blob_bytes_estimate
        );
        assert!(summary.final_loss.is_finite() && summary.val_loss.is_finite(), "{name}");
        let ck = Checkpoint::load(std::path::Path::new(&out), &Device::Cpu).unwrap();
        assert_eq!(ck.meta.model.as_deref(), Some(std::fs::read_to_string(&path).unwrap().as_str()), "{name}");
        let t = ck.into_trained(&Device::Cpu).unwrap();
        let d = t.model.as_ref().unwrap();
        assert_eq!(t.params.weights.len(), d.desc.nodes.iter().map(|n| n.weights.len()).sum::<usize>());
        assert_eq!(summary.weights, d.desc.n_weights());
        // every quantised tensor's widths lie in its layer's range; fixed and f32 tensors keep theirs
        let quants = d.desc.nodes.iter().flat_map(|n| n.weights.iter().map(move |_| n.quant.unwrap()));
        for (i, q) in quants.enumerate() {
            let gb = t.qs.group_bits(i).unwrap();
            match q {
                LayerQuant::Keep => assert!(gb.is_none(), "{name} tensor {i}"),
                LayerQuant::Fixed { bits, .. } => assert!(gb.unwrap().iter().all(|&b| b == bits), "{name} {i}"),
                LayerQuant::Learnt { min_bits, max_bits, .. } => {
                    let gb = gb.unwrap();
                    assert!(gb.iter().all(|&b| f32::from(b) >= min_bits && f32::from(b) <= max_bits), "{name} {i}");
                }
            }
        }
        export_and_run(name, std::path::Path::new(&out), &DataSel::dirs(sp.as_ref(), nz.as_ref()));
    }
}

/// The blob's SI-SDR report on `path`, through the runtime's pipeline.
fn run(name: &str, blob: &[u8], mixes: &[data::Mixture], path: RunPath) -> eval::EvalReport {
    let model = eval::parse_denoiser(blob).unwrap();
    eval::evaluate(mixes, |x| eval::enhance_blob(&model, x, path)).unwrap_or_else(|e| panic!("{name} {path:?}: {e:#}"))
}

fn export_and_run(name: &str, ckpt: &std::path::Path, sel: &DataSel) {
    let (b32, r32, dep) = export::export_checkpoint(ckpt, &common::export_opts(false), &Device::Cpu).unwrap();
    let (bint, rint, _) = export::export_checkpoint(ckpt, &common::export_opts(true), &Device::Cpu).unwrap();
    let Exported::Graph(g) = dep else { panic!("{name}: not exported as a graph") };
    assert!(!r32.has_int && rint.has_int, "{name}");
    for b in [&b32, &bint] {
        let m = runtime::Model::parse(b).unwrap();
        assert_eq!(m.header().version, runtime::format::GRAPH_VERSION, "{name}");
        assert_eq!(usize::from(m.n_nodes()), g.desc.nodes.len(), "{name}");
    }
    assert!(bint.len() <= g.desc.budget.flash_estimate, "{name}: {} bytes over its flash figure", bint.len());
    let (arena, chain) = rint.arena_elements.unwrap();
    eprintln!(
        "{name}: {} bytes ({:.2} bits/weight whole file, {:?} avg packed bits) with the integer path, {} bytes \
         f32 only; arena {arena} elements planned vs {chain} for a chain",
        bint.len(),
        rint.bits_per_weight_total,
        rint.avg_bits,
        b32.len()
    );
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/reference-models");
    std::fs::create_dir_all(&dir).unwrap();
    audio_tools::file::write_atomic(&dir.join(format!("{name}.dqem")), &bint).unwrap();

    let rate = g.stft().rate();
    let corpus = Corpus::load_at(sel, Split::Test, Some(8), rate).unwrap();
    let mixes: Vec<data::Mixture> = data::test_set(&corpus, 1, 1.0, 7).into_iter().take(2).collect();
    assert_eq!(mixes[0].noisy.len(), rate as usize, "{name}: one second at {rate} Hz");
    let own = eval::evaluate(&mixes, |x| export::graph_calib::enhance(&g, x, &Device::Cpu)).unwrap();
    {
        let rt = run(name, &b32, &mixes, RunPath::F32);
        for (a, b) in rt.per_snr.iter().zip(&own.per_snr) {
            let d = (a.enhanced_si_sdr - b.enhanced_si_sdr).abs();
            assert!(d < 0.01, "{name}: runtime f32 {} vs trainer {}", a.enhanced_si_sdr, b.enhanced_si_sdr);
        }
        eprintln!("{name}: SI-SDRi f32 {:.2} dB (trainer {:.2})", rt.si_sdri, own.si_sdri);
    }
    {
        let rt = run(name, &bint, &mixes, RunPath::F32);
        assert!(
            (rt.si_sdri - own.si_sdri).abs() < 0.1,
            "{name}: int blob's f32 path {} vs {}",
            rt.si_sdri,
            own.si_sdri
        );
    }
    {
        let int = run(name, &bint, &mixes, RunPath::Int);
        assert!(int.si_sdri.is_finite(), "{name}");
        eprintln!("{name}: SI-SDRi int {:.2} dB", int.si_sdri);
    }
}

/// A description trained with a size target exports within it: the widths DiffQ learnt move
/// (the blob lands in [0.97, 1]·target, exactly the size predicted), and a target below what
/// the smallest widths reach is an error.
#[test]
fn description_size_target_fits_at_export() {
    let c = common::make("description-target");
    let (sp, nz) = (common::s(&c.speech), common::s(&c.noise));
    let out = common::s(&c.root.join("tcn"));
    let path = model_path("tcn");
    let args = [
        "--preset",
        "tiny",
        "--model",
        &path,
        "--steps",
        "12",
        "--out",
        &out,
        "--speech",
        &sp,
        "--noise",
        &nz,
        "--target-kb",
        "18",
    ];
    train(&args);
    let ckpt = std::path::Path::new(&out);
    let (blob, r, _) = export::export_checkpoint(ckpt, &common::export_opts(true), &Device::Cpu).unwrap();
    let target = 18 * 1024;
    eprintln!("tcn, 18 KiB target: {} bytes, {} single-bit moves, {:?}", blob.len(), r.adjusted_groups, r.budget_fit);
    assert_eq!(r.target_bytes, Some(target));
    assert_eq!((r.predicted_bytes, r.blob_bytes), (blob.len(), blob.len()));
    assert!(blob.len() <= target && blob.len() as f64 >= 0.97 * target as f64, "{} bytes", blob.len());
    runtime::Model::parse(&blob).unwrap();

    let tight = ExportOptions { target_bytes: Some(2048), ..common::export_opts(true) };
    let err = export::export_checkpoint(ckpt, &tight, &Device::Cpu).err().expect("2 KiB cannot hold the tcn");
    assert!(format!("{err:#}").contains("cannot fit the model in 2048 bytes"), "{err:#}");
}

/// Post-training quantisation of a description trained at full precision: `--ptq-bits 4` puts
/// every group the description quantises at 4 bits in the description's layouts (not the 8-bit
/// packing of an fp32 tensor in an integer blob), so the blob is about half the plain export.
#[test]
fn an_fp32_description_exports_at_the_ptq_width() {
    let c = common::make("description-ptq");
    let (sp, nz) = (common::s(&c.speech), common::s(&c.noise));
    let out = common::s(&c.root.join("tcn-fp32"));
    let path = model_path("tcn");
    let args = [
        "--preset", "tiny", "--method", "fp32", "--model", &path, "--steps", "3", "--out", &out, "--speech", &sp,
        "--noise", &nz,
    ];
    train(&args);
    let ckpt = std::path::Path::new(&out);
    let (plain, rp, _) = export::export_checkpoint(ckpt, &common::export_opts(true), &Device::Cpu).unwrap();
    let ptq = ExportOptions { ptq_bits: Some(4), ..common::export_opts(true) };
    let (blob, r, _) = export::export_checkpoint(ckpt, &ptq, &Device::Cpu).unwrap();
    eprintln!(
        "tcn fp32: {} bytes as exported ({:?} bits), {} bytes at --ptq-bits 4",
        plain.len(),
        rp.avg_bits,
        blob.len()
    );
    assert_eq!(r.avg_bits, Some(4.0));
    assert_eq!(rp.avg_bits, Some(8.0));
    assert!(blob.len() * 10 < plain.len() * 6, "{} vs {}", blob.len(), plain.len());
    runtime::Model::parse(&blob).unwrap();
}
