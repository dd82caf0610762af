//! conv1d with a time stride (FORMAT.md, node entry `stride_t`): it computes on frames
//! `t ≡ 0 (mod stride)` and holds that output in between, its input ring filled every frame.
//! The f32 path against the f64 reference of `graphs` for strides 2 and 3, the integer path
//! against the f32 path, the state it keeps, and the strides the validator and writer refuse.

use crate::common::*;
use crate::graphs::G;
use diffq_runtime::format::{checksum, Act};
use diffq_runtime::writer::GraphCalibration;
use diffq_runtime::{Error, Model, Part};

fn frames(seed: u64, n: usize) -> Vec<Vec<f32>> {
    let mut r = rng(seed);
    (0..n).map(|_| rand_vec(&mut r, 128, 1.0)).collect()
}

/// A strided conv1d (3 taps, dilation 2, stride `s`), a strided 1-tap conv1d (no ring, only its
/// held output) with a relu, an unstrided conv1d reading the held values, a linear head; the same
/// weights for every `s`.
pub fn strided_graph(s: usize) -> G {
    let mut r = rng(0x57D);
    let mut g = G::new();
    let a = g.weighted_strided(&mut r, 0, 16, (3, 2), s, Act::None);
    let b = g.weighted_strided(&mut r, a, 16, (1, 1), s, Act::Relu);
    let c = g.weighted(&mut r, b, 16, (2, 1), Act::None);
    g.weighted(&mut r, c, 8, (0, 0), Act::None);
    g
}

/// `max |a − e| / (1 + |e|)` over every output of every frame.
fn worst(got: &[Vec<f32>], want: &[Vec<f64>]) -> f64 {
    got.iter()
        .flatten()
        .zip(want.iter().flatten())
        .map(|(&a, e)| (f64::from(a) - e).abs() / (1.0 + e.abs()))
        .fold(0.0, f64::max)
}

#[test]
fn strided_conv1d_matches_the_reference() {
    for s in [2, 3] {
        let g = strided_graph(s);
        let xs = frames(11, 25);
        let values = g.reference_values(&xs);
        // the held value repeats within each block of s frames and changes between blocks
        let a = &values[1];
        assert!((0..25).all(|t| a[t] == a[t / s * s]), "stride {s}");
        assert!(a[0] != a[s], "stride {s}");
        let reference = values.last().unwrap().clone();
        let blob = G::finish_f32(g);
        let m = Model::parse(&blob).unwrap();
        // state: the 3-tap ring (2·2 + 1 frames of 128) and 16 held values; 16 held values; the ring of 2 × 16
        assert_eq!(m.f32_state_len(), 5 * 128 + 16 + 16 + 2 * 16, "stride {s}");
        let err = worst(&run_f32(&blob, &xs), &reference);
        eprintln!("stride {s}: f32 path within {err:.2e} of the f64 reference");
        assert!(err < 1e-4, "stride {s}: {err}");
    }
}

/// Scales from the f64 reference (`max|v| / 127` per value): the integer path of the strided
/// graphs stays within 4 output steps of their f32 path, as close as the unstrided graph's (same
/// weights) within a factor of 1.5 and an output step.
#[test]
fn strided_integer_path_follows_the_f32_path() {
    let mut unstrided = 0.0;
    for s in [1, 2, 3] {
        let g = strided_graph(s);
        let xs = frames(12, 30);
        let values = g.reference_values(&xs);
        let scale = |v: &Vec<Vec<f64>>| (v.iter().flatten().fold(0.0f64, |m, x| m.max(x.abs())) / 127.0) as f32;
        let out_scales: Vec<f32> = values[1..].iter().map(scale).collect();
        let input_scale = scale(&values[0]);
        let blob = g.w.finish_with_int(&GraphCalibration { input_scale, out_scales, pre_act_scales: vec![] }).unwrap();
        let m = Model::parse(&blob).unwrap();
        let held = if s > 1 { 32 } else { 0 };
        assert_eq!(m.i8_state_len(), 5 * 128 + held + 2 * 16, "stride {s}");
        let yf = run_f32(&blob, &xs);
        let yq = run_i8(&blob, &xs.iter().map(|x| quantize_input(x, input_scale)).collect::<Vec<_>>());
        let os = m.output_scale();
        let steps = yf
            .iter()
            .flatten()
            .zip(yq.iter().flatten())
            .map(|(&f, &q)| (f / os - f32::from(q)).abs())
            .fold(0.0, f32::max);
        eprintln!("stride {s}: integer path within {steps:.2} output steps of the f32 path");
        if s == 1 {
            unstrided = steps;
        }
        assert!(steps <= 4.0, "stride {s}: {steps} output steps");
        assert!(steps <= 1.5 * unstrided + 1.0, "stride {s}: {steps} output steps, unstrided {unstrided}");
    }
}

#[test]
fn bad_strides_are_refused() {
    let blob = G::finish_f32(strided_graph(2));
    let h = *Model::parse(&blob).unwrap().header();
    let edited = |node: u16, v: u8| {
        let mut b = blob.clone();
        b[h.node_entry_offset(node) + 25] = v;
        let c = checksum(&b);
        b[12..16].copy_from_slice(&c.to_le_bytes());
        Model::parse(&b).map(|_| ())
    };
    assert_eq!(edited(0, 3), Ok(()), "any stride 2..=8 of a conv1d");
    for (node, v) in [(0, 1), (0, 9), (0, 255), (3, 2)] {
        assert_eq!(edited(node, v), Err(Error::InvalidField(Part::Node(node))), "node {node} stride_t {v}");
    }
    let mut g = G::new();
    let w = g.w.f32_tensor(&[0.5; 128]).unwrap();
    let x = g.w.input();
    let spec = diffq_runtime::writer::ConvSpec { out_c: 1, kernel: 1, dilation: 1, groups: 1, act: Act::None };
    for s in [0, 9] {
        let e = g.w.conv1d_strided(x, (w, None), spec, s).unwrap_err().to_string();
        assert!(e.contains(&format!("stride {s}")), "{e}");
    }
}
