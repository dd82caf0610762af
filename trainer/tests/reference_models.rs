//! Every reference description (`models/{conv,tcn,gru,conv2d}.model.toml`) trains with the tiny
//! preset (DiffQ): a finite loss, a checkpoint that stores the description and rebuilds the
//! model (its validation loss recomputed from the checkpoint equals the one training logged),
//! and learnt widths inside each layer's range.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use candle_core::Device;
use clap::Parser;
use trainer::checkpoint::Checkpoint;
use trainer::cli::{Cli, Cmd};
use trainer::describe::LayerQuant;

fn train(args: &[&str]) -> trainer::train::TrainSummary {
    let mut v = vec!["trainer", "train"];
    v.extend_from_slice(args);
    match Cli::try_parse_from(v).unwrap().cmd {
        Cmd::Train(a) => trainer::commands::train(*a, Device::Cpu).unwrap(),
        _ => unreachable!(),
    }
}

fn model_path(name: &str) -> String {
    format!("{}/../models/{name}.model.toml", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn every_reference_model_trains_and_its_checkpoint_rebuilds_it() {
    let c = common::make("reference-models");
    let (sp, nz) = (common::s(&c.speech), common::s(&c.noise));
    for name in ["conv", "tcn", "gru", "conv2d"] {
        let out = common::s(&c.root.join(name));
        let path = model_path(name);
        let t0 = std::time::Instant::now();
        let args =
            ["--preset", "tiny", "--model", &path, "--steps", "12", "--out", &out, "--speech", &sp, "--noise", &nz];
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
    }
}
