//! The streaming classifier under QEMU: a random-weight classifier (`host_tests::classifier`:
//! log-mel, conv2d, relu, a pool over time, linear, softmax) in qemu-demo built with its
//! `classify` feature, on the M4 (f32 and integer path) and RV32 (integer), against the host
//! runtime on the demo clip: every hop's class and scores bit for bit.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // tests

use audio_tools::read_i16;
use demo_core::scores_checksum;
use host_tests::reference::{self, ClassHop};
use host_tests::{classifier, qemu, repo_root};
use runtime::dsp::{HOP, SAMPLE_RATE};
use runtime::Model;
use std::time::Duration;

/// `(hop, class, checksum)` of each of the firmware's per-hop log lines
/// (`hop=… class=… scores=…`).
fn logged_hops(log: &[String]) -> Vec<(u64, u64, u64)> {
    let num = |l: &str, key: &str| -> u64 {
        let rest = l.split(&format!("{key}=")).nth(1).unwrap_or_else(|| panic!("no {key}= in {l:?}"));
        rest.split(|c: char| !c.is_ascii_digit()).next().unwrap().parse().unwrap()
    };
    log.iter().filter(|l| l.contains("hop=")).map(|l| (num(l, "hop"), num(l, "class"), num(l, "scores"))).collect()
}

/// The checksum the firmware logs for `h`, from its bytes (f32: 4 per score, int8: 1).
fn checksum(h: &ClassHop, path: qemu::NumPath) -> u32 {
    match path {
        qemu::NumPath::F32 => {
            let s: Vec<f32> = h.scores.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect();
            scores_checksum(&s)
        }
        qemu::NumPath::I8 => scores_checksum(&h.scores.iter().map(|b| *b as i8).collect::<Vec<_>>()),
    }
}

#[test]
fn classifier_matches_the_host_on_m4_and_rv32() {
    let work = repo_root().join("target/qemu-tests/classify");
    let blob_path = work.join("classify.dqem");
    let blob = classifier::write(&blob_path).unwrap();
    let m = Model::parse(&blob).unwrap();
    assert_eq!(m.output_len(), classifier::CLASSES);
    runtime::pipeline::check_classifier(&m).unwrap();
    let clip_path = repo_root().join("data/clip/noisy.wav");
    let clip = read_i16(&clip_path, SAMPLE_RATE).unwrap();
    for target in ["m4", "m4-int", "rv32"] {
        let t = qemu::target(target).unwrap();
        let elf = qemu::build(&t, &blob_path, &clip_path).unwrap_or_else(|e| panic!("{target}: {e:#}"));
        let dir = work.join(target);
        let (log, _, wall) =
            qemu::run_raw(&t, &elf, &dir, Duration::from_secs(180)).unwrap_or_else(|e| panic!("{target}: {e:#}"));
        let host = reference::classify(&blob, &clip, t.path).unwrap();
        assert_eq!(host.len(), clip.len().div_ceil(HOP), "{target}: host hops");
        let logged = logged_hops(&log);
        assert_eq!(logged.len(), host.len(), "{target}: hops logged");
        for (k, ((i, class, sum), h)) in logged.iter().zip(&host).enumerate() {
            assert_eq!(
                (*i, *class, *sum),
                (k as u64, h.class as u64, u64::from(checksum(h, t.path))),
                "{target}: hop {k}"
            );
        }
        let scores = std::fs::read(dir.join("scores.bin")).unwrap();
        assert_eq!(scores, host.iter().flat_map(|h| h.scores.clone()).collect::<Vec<_>>(), "{target}: scores.bin");
        let units: Vec<u32> = std::fs::read(dir.join("frames.bin"))
            .unwrap()
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        let (instr, cal) = qemu::calibration(&log).unwrap();
        let mut per_hop: Vec<f64> = units.iter().map(|u| f64::from(*u) * instr as f64 / cal as f64).collect();
        per_hop.sort_by(f64::total_cmp);
        let classes: std::collections::BTreeSet<usize> = host.iter().map(|h| h.class).collect();
        eprintln!(
            "classifier on {target}: {} hops bit-exact with the host (classes seen {classes:?}); \
             instructions per hop min {:.0} median {:.0} max {:.0}; QEMU {:.1} s",
            host.len(),
            per_hop[0],
            per_hop[per_hop.len() / 2],
            per_hop[per_hop.len() - 1],
            wall.as_secs_f64()
        );
    }
}
