//! `writer::chain_to_graph` on the shipped model: the version 5 graph of `models/conv8k.dqem`
//! parses, holds the same tensors byte for byte and the same integer constants, computes the
//! same outputs as the chain on both paths, bit for bit (frame by frame on random features, and
//! through the denoiser on the demo clip), and is byte for byte what `GraphWriter` exports from
//! the same weights, scales and biases. Other chains: which convert, and that they run alike.

use super::common::{Bits, Q};
use diffq_runtime::format::{
    int_linear_len, Act, Bias, FrontEnd, Op, TensorEntry, FRONT_END_LEN, GRAPH_VERSION, INT_BIAS_VERSION, INT_LUT_LEN,
    LAYER_ENTRY_LEN, NODE_ENTRY_LEN, NO_TENSOR,
};
use diffq_runtime::pipeline::{process_signal, F32Denoiser, I8Denoiser};
use diffq_runtime::writer::{
    chain_to_graph, BlobWriter, ConvSpec, GraphCalibration, GraphWriter, IntCalibration, WriteError,
};
use diffq_runtime::{Model, StateF32, StateI8, Weights};
use rand::Rng;

const DIR: &str = env!("CARGO_MANIFEST_DIR");

fn default_blob() -> Vec<u8> {
    std::fs::read(format!("{DIR}/../models/conv8k.dqem")).unwrap()
}

/// The bit-width table and data bytes of tensor `i`.
fn regions<'a>(m: &Model<'a>, i: u16) -> (&'a [u8], &'a [u8]) {
    match m.tensor(i).unwrap().weights {
        Weights::F32(d) | Weights::F16(d) => (&[], d),
        Weights::Packed(p) => (p.bits_table, p.data),
    }
}

#[test]
fn the_default_as_a_graph_parses_and_holds_the_same_tensors_and_constants() {
    let v4 = default_blob();
    let v5 = chain_to_graph(&v4).unwrap();
    let (a, b) = (Model::parse(&v4).unwrap(), Model::parse(&v5).unwrap());
    assert_eq!((a.header().version, b.header().version), (INT_BIAS_VERSION, GRAPH_VERSION));
    assert_eq!(b.front_end().unwrap(), FrontEnd::DEFAULT);
    let ops: Vec<(Op, Act)> = (0..b.n_nodes()).map(|i| b.node(i).map(|n| (n.op, n.act)).unwrap()).collect();
    let relu = (Op::Conv1d, Act::Relu);
    assert_eq!(ops, [relu, relu, relu, (Op::Linear, Act::Sigmoid)]);
    assert_eq!(b.header().n_operands, 0, "a chain reads the previous value only");
    // The tensors: entries equal but for their offsets, tables and data byte for byte.
    assert_eq!(a.n_tensors(), b.n_tensors());
    for i in 0..a.n_tensors() {
        let (ea, eb) = (TensorEntry::read(&v4, a.header(), i).unwrap(), TensorEntry::read(&v5, b.header(), i).unwrap());
        assert_eq!(
            TensorEntry { bits_offset: 0, data_offset: 0, ..ea },
            TensorEntry { bits_offset: 0, data_offset: 0, ..eb }
        );
        assert_eq!(regions(&a, i), regions(&b, i), "tensor {i}");
    }
    // The constants: each weighted layer's block, the sigmoid's pre-activation scale and table.
    let weighted: Vec<u16> = (0..a.n_layers()).filter(|&i| a.layer(i).unwrap().op.has_weights()).collect();
    assert_eq!(weighted.len(), usize::from(b.n_nodes()));
    for (k, &i) in weighted.iter().enumerate() {
        let (l, n) = (a.layer(i).unwrap(), b.node(k as u16).unwrap());
        let (block, v4_block) = (b.int_block(k as u16).unwrap(), a.int_block(i).unwrap());
        let len = int_linear_len(GRAPH_VERSION, usize::from(n.out_c));
        assert_eq!(&block[..len], v4_block, "node {k}: the weighted-layer block");
        assert_eq!((n.weight, n.bias), (l.weight, NO_TENSOR));
        let act = a.layer(i + 1).unwrap();
        assert_eq!(n.out_scale, act.out_scale, "node {k}: the activation's output scale");
        if n.act == Act::Sigmoid {
            assert_eq!(block[len..len + 4], l.out_scale.to_le_bytes(), "pre-activation scale");
            assert_eq!(&block[len + 4..], a.int_block(i + 1).unwrap(), "the sigmoid's table");
            assert_eq!(block.len(), len + 4 + INT_LUT_LEN);
        } else {
            assert_eq!(block.len(), len);
        }
    }
    // The size: the front end added, the layer table replaced by the node table, a
    // pre-activation scale per fused sigmoid/tanh; every other byte is carried over.
    let tails = (0..b.n_nodes()).filter(|&k| b.node(k).unwrap().act.has_table()).count();
    let (nodes, layers) = (usize::from(b.n_nodes()), usize::from(a.n_layers()));
    let expect = v4.len() + FRONT_END_LEN + nodes * NODE_ENTRY_LEN - layers * LAYER_ENTRY_LEN + 4 * tails;
    assert_eq!(v5.len(), expect);
    // Same bias on the f32 path: the constants read at the same scale.
    for (k, &i) in weighted.iter().enumerate() {
        assert_eq!(a.bias(i).unwrap(), b.bias(k as u16).unwrap(), "node {k}: the f32 bias");
    }
}

#[test]
fn the_default_as_a_graph_computes_the_same_frames_on_both_paths() {
    let v4 = default_blob();
    // 300 frames: far past the receptive field (1 + 2 + 4 + 8 frames of history).
    assert_same_frames(&v4, &chain_to_graph(&v4).unwrap(), 300);
}

/// Runs `frames` random frames through both blobs on the f32 path and, if they have one, the
/// integer path, and checks every output bit for bit.
pub(crate) fn assert_same_frames(chain: &[u8], graph: &[u8], frames: usize) {
    assert_close_frames(chain, graph, frames, 0.0);
}

/// [`assert_same_frames`] with the f32 outputs within `rel` of each other (relative to the
/// largest output magnitude; 0: bit for bit), the integer outputs still bit for bit.
pub(crate) fn assert_close_frames(chain: &[u8], graph: &[u8], frames: usize, rel: f32) {
    let (a, b) = (Model::parse(chain).unwrap(), Model::parse(graph).unwrap());
    assert_eq!(a.has_int(), b.has_int());
    let mut r = common_rng();
    let (mut sa, mut sb) = (vec![0.0f32; a.f32_state_len()], vec![0.0f32; b.f32_state_len()]);
    let (mut sa, mut sb) = (StateF32::new(&mut sa), StateF32::new(&mut sb));
    let (mut aa, mut ab) = (vec![0.0f32; a.f32_arena_len()], vec![0.0f32; b.f32_arena_len()]);
    let (mut ya, mut yb) = (vec![0.0f32; a.output_len()], vec![0.0f32; b.output_len()]);
    let bits = |y: &[f32]| y.iter().map(|v| v.to_bits()).collect::<Vec<u32>>();
    for t in 0..frames {
        let x: Vec<f32> = (0..a.input_len()).map(|_| r.random_range(-16.0f32..4.0)).collect();
        a.step_f32(&mut sa, &mut aa, &x, &mut ya).unwrap();
        b.step_f32(&mut sb, &mut ab, &x, &mut yb).unwrap();
        if rel == 0.0 {
            assert_eq!(bits(&ya), bits(&yb), "f32 path, frame {t}");
        } else {
            let top = ya.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            let worst = ya.iter().zip(&yb).fold(0.0f32, |m, (p, q)| m.max((p - q).abs()));
            assert!(worst <= rel * top, "f32 path, frame {t}: {worst} apart, top {top}");
        }
    }
    if !a.has_int() {
        return;
    }
    let (mut sa, mut sb) = (vec![0i8; a.i8_state_len()], vec![0i8; b.i8_state_len()]);
    let (mut sa, mut sb) = (StateI8::new(&mut sa), StateI8::new(&mut sb));
    let (mut aa, mut ab) = (vec![0i8; a.i8_arena_len()], vec![0i8; b.i8_arena_len()]);
    let (mut ya, mut yb) = (vec![0i8; a.output_len()], vec![0i8; b.output_len()]);
    for t in 0..frames {
        let x: Vec<i8> = (0..a.input_len()).map(|_| r.random_range(-127i8..=127)).collect();
        a.step_i8(&mut sa, &mut aa, &x, &mut ya).unwrap();
        b.step_i8(&mut sb, &mut ab, &x, &mut yb).unwrap();
        assert_eq!(ya, yb, "integer path, frame {t}");
    }
}

fn common_rng() -> rand::rngs::StdRng {
    super::common::rng(0x5EED_C0DE)
}

/// The demo clip's samples (8 kHz mono 16-bit).
fn clip() -> Vec<i16> {
    let mut r = hound::WavReader::open(format!("{DIR}/../data/clip/noisy.wav")).unwrap();
    r.samples::<i16>().map(Result::unwrap).collect()
}

#[test]
fn the_default_as_a_graph_denoises_the_clip_to_the_same_samples() {
    let (v4, v5) = (default_blob(), chain_to_graph(&default_blob()).unwrap());
    let input = clip();
    let as_f32: Vec<f32> = input.iter().map(|&s| f32::from(s) / 32768.0).collect();
    let run_f32 = |blob: &[u8]| {
        let m = Model::parse(blob).unwrap();
        let (mut arena, mut state) = (vec![0.0f32; m.f32_arena_len()], vec![0.0f32; m.f32_state_len()]);
        let mut d = F32Denoiser::<f32>::new(m, &mut arena, &mut state).unwrap();
        let mut out = vec![0.0f32; as_f32.len()];
        process_signal(&mut d, &as_f32, &mut out).unwrap();
        out.iter().map(|v| v.to_bits()).collect::<Vec<u32>>()
    };
    let run_i8 = |blob: &[u8]| {
        let m = Model::parse(blob).unwrap();
        let (mut arena, mut state) = (vec![0i8; m.i8_arena_len()], vec![0i8; m.i8_state_len()]);
        let mut d = I8Denoiser::new(m, &mut arena, &mut state).unwrap();
        let mut out = vec![0i16; input.len()];
        process_signal(&mut d, &input, &mut out).unwrap();
        out
    };
    let (fa, fb) = (run_f32(&v4), run_f32(&v5));
    assert!(fa.iter().any(|&v| v != 0), "the f32 path produced silence");
    assert_eq!(fa, fb, "f32 path: the clip's samples");
    let (ia, ib) = (run_i8(&v4), run_i8(&v5));
    assert!(ia.iter().any(|&v| v != 0), "the integer path produced silence");
    assert_eq!(ia, ib, "integer path: the clip's samples");
}

#[test]
fn a_chain_converts_when_it_has_an_exact_version_5_form() {
    let golden = |name: &str| std::fs::read(format!("{DIR}/tests/golden/{name}.bin")).unwrap();
    let v5 = chain_to_graph(&default_blob()).unwrap();
    assert!(matches!(chain_to_graph(&v5), Err(WriteError::Value(_))), "a graph already");
    for v in ["v1_small", "v3_small"] {
        assert!(matches!(chain_to_graph(&golden(v)), Err(WriteError::Value(_))), "{v}: integer constants before v4");
    }
    let e = chain_to_graph(&golden("v4_small")).unwrap_err();
    assert!(matches!(&e, WriteError::Shape(s) if s.contains("front end")), "v4_small: not 128 → 129: {e}");
    let mut bad = default_blob();
    bad[100] ^= 1;
    assert!(matches!(chain_to_graph(&bad), Err(WriteError::Source(_))), "a corrupt blob");
    // One chain written with and without the integer path: a fused tanh, then a standalone relu.
    for int in [false, true] {
        let blob = small_chain(int);
        let g = chain_to_graph(&blob).unwrap();
        let m = Model::parse(&g).unwrap();
        let ops: Vec<(Op, Act)> = (0..m.n_nodes()).map(|i| m.node(i).map(|n| (n.op, n.act)).unwrap()).collect();
        assert_eq!(ops, [(Op::Conv1d, Act::Tanh), (Op::Relu, Act::None), (Op::Linear, Act::None)]);
        let biases = (0..m.n_nodes()).filter(|&i| m.node(i).unwrap().bias != NO_TENSOR).count();
        assert_eq!(biases, if int { 0 } else { 2 }, "bias tensors kept without the integer path only");
        assert_same_frames(&blob, &g, 40);
    }
}

/// A 128 → 129 chain: conv1d (f16 bias) → tanh → relu → linear (f32 bias), version 1 without
/// the integer path, version 4 with it.
fn small_chain(int: bool) -> Vec<u8> {
    let mut r = common_rng();
    let mut w = BlobWriter::new(128);
    let c = Q::random(&mut r, 24 * 3 * 128, 8, Bits::Var(2, 6)).add(&mut w);
    let cb = w.f16_tensor(&(0..24).map(|i| i as f32 / 10.0 - 1.0).collect::<Vec<_>>()).unwrap();
    let l = Q::random(&mut r, 129 * 24, 8, Bits::Fixed(4)).add(&mut w);
    let lb = w.f32_tensor(&(0..129).map(|i| (i % 7) as f32 / 8.0 - 0.3).collect::<Vec<_>>()).unwrap();
    w.conv1d(c, Some(cb), 128, 24, 3, 2).unwrap();
    w.tanh().unwrap();
    w.relu().unwrap();
    w.linear(l, Some(lb), 24, 129).unwrap();
    if !int {
        return w.finish().unwrap();
    }
    let calib = IntCalibration { input_scale: 0.1, out_scales: vec![0.05, 1.0 / 127.0, 0.0, 0.08] };
    w.finish_with_int(&calib).unwrap()
}

/// The converted default is what the writer exports for this graph from its weights, its
/// calibration scales and its biases (the f32 values the v4 blob's f32 path adds): carrying the
/// constants over and computing them again give the same bytes.
#[test]
fn the_default_as_a_graph_is_what_the_graph_writer_exports() {
    let v4 = default_blob();
    let a = Model::parse(&v4).unwrap();
    let mut w = GraphWriter::new(FrontEnd::DEFAULT);
    let ids: Vec<_> = (0..a.n_tensors()).map(|i| w.stored_tensor(&a, i).unwrap()).collect();
    let (mut x, mut out_scales, mut pre_act_scales) = (w.input(), Vec::new(), Vec::new());
    // The default alternates a weighted layer and its activation.
    for i in (0..a.n_layers()).step_by(2) {
        let (l, act) = (a.layer(i).unwrap(), a.layer(i + 1).unwrap());
        let Some(Bias::ScaledI16 { data, scale }) = a.bias(i).unwrap() else { panic!("layer {i}: bias constants") };
        let bias: Vec<f32> =
            data.chunks_exact(2).map(|c| f32::from(i16::from_le_bytes([c[0], c[1]])) * scale).collect();
        let b = Some(w.f32_tensor(&bias).unwrap());
        let (weight, out_c) = (ids[usize::from(l.weight)], usize::from(l.out_len));
        x = if l.op == Op::Conv1d {
            let (kernel, dilation) = (usize::from(l.kernel), usize::from(l.dilation));
            w.conv1d(x, weight, b, ConvSpec { out_c, kernel, dilation, groups: 1, act: Act::Relu }).unwrap()
        } else {
            w.linear(x, weight, b, out_c, Act::Sigmoid).unwrap()
        };
        out_scales.push(act.out_scale);
        pre_act_scales.push(l.out_scale);
    }
    let calib = GraphCalibration { input_scale: a.input_scale(), out_scales, pre_act_scales };
    assert_eq!(w.finish_with_int(&calib).unwrap(), chain_to_graph(&v4).unwrap());
}
