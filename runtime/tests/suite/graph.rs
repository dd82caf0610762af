//! Format v5 round trips: `GraphWriter` → `Model::parse` → the executor, for a chain, a
//! residual graph and a concat graph, against the f64 reference of `graphs`; a v5 chain runs
//! bit for bit like the same chain written as v4; fused activations; the arena plan.

use crate::common::*;
use crate::graphs::G;
use diffq_runtime::format::Act;
use diffq_runtime::writer::{GraphCalibration, IntCalibration};
use diffq_runtime::Model;

fn frames(seed: u64, n: usize) -> Vec<Vec<f32>> {
    let mut r = rng(seed);
    (0..n).map(|_| rand_vec(&mut r, 128, 1.0)).collect()
}

/// `max |a − e| / (1 + |e|)` over every output of every frame.
fn worst(got: &[Vec<f32>], want: &[Vec<f64>]) -> f64 {
    got.iter()
        .flatten()
        .zip(want.iter().flatten())
        .map(|(&a, e)| (f64::from(a) - e).abs() / (1.0 + e.abs()))
        .fold(0.0, f64::max)
}

/// A v4 chain and the same chain as a v5 graph (standalone relu and sigmoid nodes): both paths
/// give the same outputs bit for bit (same kernels, same constants).
#[test]
fn a_v5_chain_runs_like_the_v4_chain() {
    let mut r = rng(0x5C4A);
    let q0 = Q::random(&mut r, 16 * 3 * 128, 16, Bits::Var(2, 5));
    let q1 = Q::random(&mut r, 8 * 16, 16, Bits::Fixed(4));
    let (b0, b1) = (rand_vec(&mut r, 16, 0.3), rand_vec(&mut r, 8, 0.3));
    let layers = [
        L::Conv { w: W::Packed(q0.clone()), b: Bias::F32(b0.clone()), cin: 128, cout: 16, k: 3, d: 2 },
        L::Relu,
        L::Linear { w: W::Packed(q1.clone()), b: Bias::F32(b1.clone()), cin: 16, cout: 8 },
        L::Sigmoid,
    ];
    let scales = vec![0.05, 0.05, 0.08, 1.0 / 127.0];
    let v4 = writer(128, &layers)
        .finish_with_int(&IntCalibration { input_scale: 0.02, out_scales: scales.clone() })
        .unwrap();

    let mut g = G::new();
    let w0 = g.w.packed_tensor_in(q0.layout, &q0.levels, &q0.bits, 16, (q0.min, q0.max)).unwrap();
    let t0 = g.w.f32_tensor(&b0).unwrap();
    let x = g.w.input();
    let spec = diffq_runtime::writer::ConvSpec { out_c: 16, kernel: 3, dilation: 2, groups: 1, act: Act::None };
    let v1 = g.w.conv1d(x, w0, Some(t0), spec).unwrap();
    let v2 = g.w.relu(v1).unwrap();
    let w1 = g.w.packed_tensor_in(q1.layout, &q1.levels, &q1.bits, 16, (q1.min, q1.max)).unwrap();
    let t1 = g.w.f32_tensor(&b1).unwrap();
    let v3 = g.w.linear(v2, w1, Some(t1), 8, Act::None).unwrap();
    g.w.sigmoid(v3).unwrap();
    let calib = GraphCalibration { input_scale: 0.02, out_scales: scales, pre_act_scales: vec![] };
    let v5 = g.w.finish_with_int(&calib).unwrap();
    let m = Model::parse(&v5).unwrap();
    assert_eq!((m.header().version, m.n_nodes(), m.n_layers()), (5, 4, 0));

    let xs = frames(1, 24);
    assert_eq!(run_f32(&v5, &xs), run_f32(&v4, &xs), "f32 path");
    let xq: Vec<Vec<i8>> = xs.iter().map(|x| quantize_input(x, 0.02)).collect();
    assert_eq!(run_i8(&v5, &xq), run_i8(&v4, &xq), "integer path");
}

/// A fused relu is the relu node after the product, and a fused sigmoid the sigmoid node after a
/// product rounded at the pre-activation scale, on both paths, bit for bit.
#[test]
fn fused_activations_equal_activation_nodes() {
    let build = |fused: bool| {
        let mut r = rng(0xF05E);
        let mut g = G::new();
        let a = g.weighted(&mut r, 0, 32, (2, 3), if fused { Act::Relu } else { Act::None });
        let a = if fused { a } else { g.relu(a) };
        let b = g.weighted(&mut r, a, 8, (0, 0), if fused { Act::Sigmoid } else { Act::None });
        if !fused {
            g.sigmoid(b);
        }
        let (out_scales, pre_act_scales) =
            if fused { (vec![0.06, 0.008], vec![0.0, 0.1]) } else { (vec![0.06, 0.06, 0.1, 0.008], vec![]) };
        g.w.finish_with_int(&GraphCalibration { input_scale: 0.02, out_scales, pre_act_scales }).unwrap()
    };
    let (fused, separate) = (build(true), build(false));
    let xs = frames(2, 16);
    assert_eq!(run_f32(&fused, &xs), run_f32(&separate, &xs));
    let xq: Vec<Vec<i8>> = xs.iter().map(|x| quantize_input(x, 0.02)).collect();
    let (yf, ys) = (run_i8(&fused, &xq), run_i8(&separate, &xq));
    assert_eq!(yf, ys);
    assert!(yf.iter().flatten().any(|&q| q != 0 && q != 125), "{yf:?}");
}

/// conv1d → relu → conv1d, added to the block's input, then a linear head with a fused
/// sigmoid: the f32 path against the f64 reference; the arena plan keeps the skipped value.
#[test]
fn a_residual_graph_matches_the_reference() {
    let mut r = rng(0x2E5);
    let mut g = G::new();
    let a = g.weighted(&mut r, 0, 32, (0, 0), Act::None);
    let b = g.weighted(&mut r, a, 32, (3, 1), Act::None);
    let c = g.relu(b);
    let d = g.weighted(&mut r, c, 32, (2, 2), Act::None);
    let e = g.add(d, a);
    g.weighted(&mut r, e, 8, (0, 0), Act::Sigmoid);
    let (planned, chain) = g.w.arena_lens();
    eprintln!("residual graph: planned arena {planned} elements, chain-only (2 × widest) {chain}");
    let reference = g.reference(&frames(3, 20));
    let f32_blob = G::finish_f32(g);
    let m = Model::parse(&f32_blob).unwrap();
    assert_eq!(m.f32_arena_len(), planned);
    // At the add (step 5) its two inputs and its output are live: 3 · 32 at least; value 0 is
    // dead from step 2 on, so the plan reuses its 128 elements.
    assert!(planned >= 3 * 32 && planned < chain, "{planned}");
    let got = run_f32(&f32_blob, &frames(3, 20));
    let err = worst(&got, &reference);
    assert!(err < 1e-4, "f32 vs f64 reference: {err}");
}

/// Two branches concatenated along channels, a product, a softmax head.
#[test]
fn a_concat_graph_matches_the_reference() {
    let mut r = rng(0xC0CA);
    let mut g = G::new();
    let a = g.weighted(&mut r, 0, 16, (0, 0), Act::Relu);
    let b = g.weighted(&mut r, a, 16, (2, 1), Act::Tanh);
    let c = g.tanh(a);
    let m = g.mul(b, c);
    let cat = g.concat(&[a, m, b]);
    let s = g.weighted(&mut r, cat, 8, (0, 0), Act::None);
    g.softmax(s);
    let xs = frames(4, 20);
    let reference = g.reference(&xs);
    let got = run_f32(&G::finish_f32(g), &xs);
    let err = worst(&got, &reference);
    assert!(err < 1e-5, "f32 vs f64 reference: {err}");
    for y in &got {
        assert!((y.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    }
}

/// A residual graph's integer path (its add requantises both inputs to the output scale)
/// follows its f32 path: within a few output steps.
#[test]
fn integer_path_of_a_graph() {
    let mut r = rng(0x1A7);
    let mut g = G::new();
    let a = g.weighted(&mut r, 0, 16, (0, 0), Act::Relu);
    let b = g.weighted(&mut r, a, 16, (2, 1), Act::None);
    g.add(b, a);
    let xs = frames(5, 30);
    let values = g.reference_values(&xs);
    let scale = |v: &Vec<Vec<f64>>| (v.iter().flatten().fold(0.0f64, |m, x| m.max(x.abs())) / 127.0) as f32;
    let out_scales: Vec<f32> = values[1..].iter().map(scale).collect();
    let input_scale = scale(&values[0]);
    let calib = GraphCalibration { input_scale, out_scales, pre_act_scales: vec![] };
    let blob = g.w.finish_with_int(&calib).unwrap();
    let s = Model::parse(&blob).unwrap().output_scale();
    let (yf, yq) = (run_f32(&blob, &xs), run_i8(&blob, &quantized(&xs, input_scale)));
    let steps = worst_steps(&yf, &yq, s);
    eprintln!("residual graph: integer path within {steps:.2} output steps of the f32 path");
    assert!(steps <= 4.0, "{steps} output steps");
}

fn quantized(xs: &[Vec<f32>], s: f32) -> Vec<Vec<i8>> {
    xs.iter().map(|x| quantize_input(x, s)).collect()
}

/// The largest `|f / s − q|` over the frames: the integer path's distance in output steps.
fn worst_steps(yf: &[Vec<f32>], yq: &[Vec<i8>], s: f32) -> f32 {
    yf.iter().flatten().zip(yq.iter().flatten()).map(|(&f, &q)| (f / s - f32::from(q)).abs()).fold(0.0, f32::max)
}

/// Scales calibrated on the f64 reference (`max|v| / 127` per value): the integer path of a
/// conv1d with a fused relu, a linear and a sigmoid stays within a few steps of the linear's
/// output of the f32 path (the sigmoid's slope is at most 1/4: one step `s_b` of its input moves
/// the output by at most `s_b / 4`).
#[test]
fn calibrated_integer_path_follows_the_f32_path() {
    let mut r = rng(0xCA1B);
    let mut g = G::new();
    let a = g.weighted(&mut r, 0, 32, (2, 1), Act::Relu);
    let b = g.weighted(&mut r, a, 16, (0, 0), Act::None);
    g.sigmoid(b);
    let xs = frames(7, 40);
    let values = g.reference_values(&xs);
    let scale = |v: &Vec<Vec<f64>>| (v.iter().flatten().fold(0.0f64, |m, x| m.max(x.abs())) / 127.0) as f32;
    let out_scales: Vec<f32> = values[1..].iter().map(scale).collect();
    let s_b = out_scales[1];
    let input_scale = scale(&values[0]);
    let blob = g.w.finish_with_int(&GraphCalibration { input_scale, out_scales, pre_act_scales: vec![] }).unwrap();
    let m = Model::parse(&blob).unwrap();
    let yf = run_f32(&blob, &xs);
    let yq = run_i8(&blob, &xs.iter().map(|x| quantize_input(x, input_scale)).collect::<Vec<_>>());
    let s = m.output_scale();
    let steps =
        yf.iter().flatten().zip(yq.iter().flatten()).map(|(&f, &q)| (f / s - f32::from(q)).abs()).fold(0.0, f32::max);
    let bound = 2.0 * 0.25 * s_b / s + 1.0; // two steps of the linear's output, one of the sigmoid's
    eprintln!("calibrated graph: integer path within {steps:.2} output steps of the f32 path (bound {bound:.2})");
    assert!(steps <= bound, "{steps} output steps, bound {bound}");
}

impl G {
    /// The f32-only blob.
    pub fn finish_f32(g: G) -> Vec<u8> {
        g.w.finish().unwrap()
    }
}

fn packed(
    g: &mut diffq_runtime::writer::GraphWriter,
    seed: u64,
    count: usize,
    gs: usize,
) -> diffq_runtime::writer::TensorId {
    let q = Q::random(&mut rng(seed), count, gs, Bits::Var(2, 6));
    g.packed_tensor_in(q.layout, &q.levels, &q.bits, gs, (q.min, q.max)).unwrap()
}

/// A gru graph: 128 → linear(16) → gru(H = 8) → linear(4), with integer constants.
pub fn gru_blob() -> Vec<u8> {
    let mut g = diffq_runtime::writer::GraphWriter::new(crate::graphs::scores());
    let w0 = packed(&mut g, 1, 16 * 128, 16);
    let a = g.linear(g.input(), w0, None, 16, Act::Tanh).unwrap();
    let (wx, wh) = (packed(&mut g, 2, 24 * 16, 16), packed(&mut g, 3, 24 * 8, 8));
    let h = g.gru(a, (wx, wh), (None, None), 8).unwrap();
    let w2 = packed(&mut g, 4, 4 * 8, 8);
    g.linear(h, w2, None, 4, Act::None).unwrap();
    let calib = GraphCalibration {
        input_scale: 0.02,
        out_scales: vec![0.008, 0.0, 0.05],
        pre_act_scales: vec![0.03, 0.0, 0.0],
    };
    g.finish_with_int(&calib).unwrap()
}

/// A conv2d graph: one channel of 128 rows → conv2d(4 channels, 2 × 3 taps, stride 2, relu) →
/// avgpool(3) → linear(8).
pub fn conv2d_blob() -> Vec<u8> {
    let mut g = diffq_runtime::writer::GraphWriter::new_2d(crate::graphs::scores());
    let w0 = packed(&mut g, 5, 4 * 2 * 3, 8);
    let spec = diffq_runtime::writer::ConvSpec { out_c: 4, kernel: 2, dilation: 1, groups: 1, act: Act::Relu };
    let a = g.conv2d(g.input(), (w0, None), spec, (3, 2)).unwrap();
    assert_eq!(g.shape(a), Some((4, 64)));
    let p = g.avgpool(a, 3).unwrap();
    let w1 = packed(&mut g, 6, 8 * 256, 16);
    g.linear(p, w1, None, 8, Act::None).unwrap();
    let calib = GraphCalibration { input_scale: 0.02, out_scales: vec![0.05, 0.0, 0.1], pre_act_scales: vec![] };
    g.finish_with_int(&calib).unwrap()
}

/// gru and conv2d graphs parse (shapes, constants, state, arena with the gru's scratch) and
/// run on both paths, the integer path within a stated distance of the f32 one.
#[test]
fn gru_and_conv2d_graphs_parse_and_run() {
    let m_blob = gru_blob();
    let m = Model::parse(&m_blob).unwrap();
    let gru = m.node(1).unwrap();
    assert_eq!(
        (gru.op, gru.out_scale, m.inputs(1).unwrap().as_slice()),
        (diffq_runtime::Op::Gru, 1.0 / 128.0, &[1][..])
    );
    // States: the gru's h (f32: H, integer path: 2H as i16).
    assert_eq!((m.f32_state_len(), m.i8_state_len()), (8, 16));
    assert_eq!(m.int_block(1).unwrap().len(), 2 * (68 + 2 * 24));
    let xs: Vec<Vec<f32>> = frames(11, 40).into_iter().map(|x| x.iter().map(|v| v * 0.5).collect()).collect();
    let (yf, yq) = (run_f32(&m_blob, &xs), run_i8(&m_blob, &quantized(&xs, 0.02)));
    let steps = worst_steps(&yf, &yq, m.output_scale());
    let range = yf.iter().flatten().fold(0.0f32, |a, v| a.max(v.abs())) / m.output_scale();
    eprintln!(
        "gru graph: integer path within {steps:.1} output steps of the f32 path (f32 outputs up to {range:.1} steps)"
    );
    assert!(range > 5.0 && steps <= 0.25 * range, "{steps} steps of {range}");
    {
        let c_blob = conv2d_blob();
        let m = Model::parse(&c_blob).unwrap();
        let (yf, yq) = (run_f32(&c_blob, &xs), run_i8(&c_blob, &quantized(&xs, 0.02)));
        let steps = worst_steps(&yf, &yq, m.output_scale());
        let range = yf.iter().flatten().fold(0.0f32, |a, v| a.max(v.abs())) / m.output_scale();
        eprintln!("conv2d graph: integer path within {steps:.1} output steps of the f32 path (f32 outputs up to {range:.1} steps)");
        assert!(range > 5.0 && steps <= 0.25 * range, "{steps} steps of {range}");
    }

    let c_blob = conv2d_blob();
    let m = Model::parse(&c_blob).unwrap();
    assert_eq!(
        (m.header().input_height, m.value_shape(0).unwrap(), m.value_shape(1).unwrap()),
        (128, (1, 128), (4, 64))
    );
    // conv2d ring: 2 frames of 128; avgpool: 3 frames of 256.
    assert_eq!(m.f32_state_len(), 2 * 128 + 3 * 256);
    assert_eq!(m.macs_per_frame(), 24 * 64 + 8 * 256);
}
