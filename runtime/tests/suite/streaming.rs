//! Frame-by-frame streaming (`Model::step_f32` / `step_i8`, ring-buffer state) equals the
//! whole-sequence kernels (`conv1d_seq_f32` / `conv1d_seq_i8`) bit for bit, for kernels
//! 1..=16 and dilations 1..=9; strided whole-sequence conv equals the stride-1 output subsampled.
//! Also checked against the independent f64 reference (`common::reference_seq`).

use crate::common::*;
use diffq_runtime::format::IntParams;
use diffq_runtime::kernels::{conv1d_seq_f32, conv1d_seq_i8};
use diffq_runtime::writer::IntCalibration;
use diffq_runtime::{Model, Part, StateF32};
use rand::Rng;

fn int_params<'a>(m: &Model<'a>, layer: u16) -> IntParams<'a> {
    let l = m.layer(layer).unwrap();
    let off = l.int_offset as usize;
    IntParams::read(&m.bytes()[off..], usize::from(l.out_len), m.header().version, Part::Layer(layer)).unwrap()
}

#[test]
fn streaming_conv_equals_whole_sequence() {
    let mut r = rng(0x57EA);
    let combos = [(1, 1), (2, 1), (3, 1), (3, 2), (2, 5), (4, 3), (5, 9), (16, 1), (16, 4), (7, 2)];
    for (case, &(k, d)) in combos.iter().enumerate() {
        let (cin, cout, t_len) = (16, r.random_range(1..=9), 50);
        let bits = if case % 2 == 0 { Bits::Fixed(r.random_range(1..=8)) } else { Bits::Var(2, 5) };
        let q = Q::random(&mut r, cout * k * cin, 8, bits);
        let layers = [L::Conv { w: W::Packed(q), b: Bias::F16(rand_vec(&mut r, cout, 0.5)), cin, cout, k, d }];
        let calib = IntCalibration { input_scale: 0.02, out_scales: vec![0.05] };
        let blob = writer(cin, &layers).finish_with_int(&calib).unwrap();
        let m = Model::parse(&blob).unwrap();
        let l = m.layer(0).unwrap();
        let w = m.tensor(l.weight).unwrap().weights;
        let b = m.bias(0).unwrap().unwrap();

        let x: Vec<Vec<f32>> = (0..t_len).map(|_| rand_vec(&mut r, cin, 1.0)).collect();
        let flat: Vec<f32> = x.concat();
        let streamed = run_f32(&blob, &x).concat();
        let mut whole = vec![0.0f32; t_len * cout];
        conv1d_seq_f32(&w, Some(&b), cin, k, d, 1, &flat, &mut whole).unwrap();
        assert_eq!(streamed, whole, "f32 k={k} d={d}");
        let exact = reference_seq(&layers, cin, &flat);
        for (a, e) in whole.iter().zip(&exact) {
            assert!((f64::from(*a) - e).abs() <= 1e-4 * (1.0 + e.abs()), "k={k} d={d}: {a} vs {e}");
        }

        let xq: Vec<Vec<i8>> = (0..t_len).map(|_| (0..cin).map(|_| r.random_range(-127..=127i8)).collect()).collect();
        let streamed_q = run_i8(&blob, &xq).concat();
        let mut whole_q = vec![0i8; t_len * cout];
        conv1d_seq_i8(&w, &int_params(&m, 0), cin, k, d, 1, &xq.concat(), &mut whole_q).unwrap();
        assert_eq!(streamed_q, whole_q, "i8 k={k} d={d}");

        // Stride s: output t reads input frame t·s, i.e. the stride-1 output subsampled.
        for s in [2, 3, 7] {
            let t_out = t_len.div_ceil(s);
            let mut ys = vec![0.0f32; t_out * cout];
            conv1d_seq_f32(&w, Some(&b), cin, k, d, s, &flat, &mut ys).unwrap();
            let sub: Vec<f32> = whole.chunks(cout).step_by(s).flatten().copied().collect();
            assert_eq!(ys, sub, "f32 k={k} d={d} stride={s}");
            let mut yq = vec![0i8; t_out * cout];
            conv1d_seq_i8(&w, &int_params(&m, 0), cin, k, d, s, &xq.concat(), &mut yq).unwrap();
            let subq: Vec<i8> = whole_q.chunks(cout).step_by(s).flatten().copied().collect();
            assert_eq!(yq, subq, "i8 k={k} d={d} stride={s}");
        }
    }
}

/// A multi-layer graph (two convs with different rings, element-wise ops, a linear head):
/// streaming through the executor equals running each layer over the whole sequence.
#[test]
fn streaming_graph_equals_layerwise_sequence() {
    let mut r = rng(0x6A9);
    let layers = vec![
        L::Conv {
            w: W::Packed(Q::random(&mut r, 24 * 3 * 16, 16, Bits::Var(2, 5))),
            b: Bias::F32(rand_vec(&mut r, 24, 0.2)),
            cin: 16,
            cout: 24,
            k: 3,
            d: 2,
        },
        L::Relu,
        L::Conv {
            w: W::Packed(Q::random(&mut r, 16 * 2 * 24, 8, Bits::Fixed(3))),
            b: Bias::None,
            cin: 24,
            cout: 16,
            k: 2,
            d: 4,
        },
        L::Tanh,
        L::Conv {
            w: W::F16(rand_vec(&mut r, 8 * 4 * 16, 0.3)),
            b: Bias::F16(rand_vec(&mut r, 8, 0.2)),
            cin: 16,
            cout: 8,
            k: 4,
            d: 1,
        },
        L::Linear { w: W::F32(rand_vec(&mut r, 8 * 8, 0.5)), b: Bias::None, cin: 8, cout: 8 },
        L::Sigmoid,
    ];
    let t_len = 40;
    let x: Vec<Vec<f32>> = (0..t_len).map(|_| rand_vec(&mut r, 16, 1.0)).collect();
    let blob = writer(16, &layers).finish().unwrap();
    let m = Model::parse(&blob).unwrap();
    let streamed = run_f32(&blob, &x).concat();

    let mut cur = x.concat();
    for i in 0..m.n_layers() {
        let l = m.layer(i).unwrap();
        match l.op {
            diffq_runtime::Op::Relu => diffq_runtime::kernels::relu(&mut cur),
            diffq_runtime::Op::Tanh => diffq_runtime::kernels::tanh(&mut cur),
            diffq_runtime::Op::Sigmoid => diffq_runtime::kernels::sigmoid(&mut cur),
            _ => {
                let w = m.tensor(l.weight).unwrap().weights;
                let b = m.bias(i).unwrap();
                let mut y = vec![0.0f32; t_len * usize::from(l.out_len)];
                conv1d_seq_f32(
                    &w,
                    b.as_ref(),
                    usize::from(l.in_len),
                    usize::from(l.kernel),
                    usize::from(l.dilation),
                    1,
                    &cur,
                    &mut y,
                )
                .unwrap();
                cur = y;
            }
        }
    }
    assert_eq!(streamed, cur);
    let exact = reference_seq(&layers, 16, &x.concat());
    for (a, e) in streamed.iter().zip(&exact) {
        assert!((f64::from(*a) - e).abs() <= 1e-5, "{a} vs {e}");
    }

    // `reset` forgets the past: the second run equals the first.
    let mut arena = vec![0.0f32; m.f32_arena_len()];
    let mut sbuf = vec![0.0f32; m.f32_state_len()];
    let mut st = StateF32::new(&mut sbuf);
    let mut y = vec![0.0f32; 8];
    let mut run = |st: &mut StateF32| -> Vec<f32> {
        x.iter()
            .flat_map(|f| {
                m.step_f32(st, &mut arena, f, &mut y).unwrap();
                y.clone()
            })
            .collect()
    };
    let first = run(&mut st);
    st.reset();
    assert_eq!(run(&mut st), first);
    assert_eq!(first, streamed);
}

/// Records the executor's layer hook calls.
#[derive(Default)]
struct Seen(Vec<Option<usize>>);

impl diffq_runtime::LayerHook for Seen {
    fn before_layer(&mut self, index: usize) {
        self.0.push(Some(index));
    }
    fn after_layers(&mut self) {
        self.0.push(None);
    }
}

#[test]
fn layer_hook_sees_every_layer_and_changes_nothing() {
    let blob = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../models/conv8k.dqem")).unwrap();
    let m = Model::parse(&blob).unwrap();
    let expect: Vec<Option<usize>> = (0..usize::from(m.n_layers())).map(Some).chain([None]).collect();
    let mut r = rng(0x400C);
    let x = rand_vec(&mut r, m.input_len(), 1.0);
    let (mut s1, mut s2) = (vec![0.0f32; m.f32_state_len()], vec![0.0f32; m.f32_state_len()]);
    let (mut st1, mut st2) = (StateF32::new(&mut s1), StateF32::new(&mut s2));
    let mut arena = vec![0.0f32; m.f32_arena_len()];
    let (mut y1, mut y2) = (vec![0.0f32; m.output_len()], vec![0.0f32; m.output_len()]);
    for _ in 0..3 {
        let mut seen = Seen::default();
        m.step_f32(&mut st1, &mut arena, &x, &mut y1).unwrap();
        m.step_f32_with(&mut st2, &mut arena, &x, &mut y2, &mut seen).unwrap();
        assert_eq!(y1, y2);
        assert_eq!(seen.0, expect);
    }
    let xq: Vec<i8> = x.iter().map(|v| (v * 100.0) as i8).collect();
    let (mut q1, mut q2) = (vec![0i8; m.i8_state_len()], vec![0i8; m.i8_state_len()]);
    let (mut st1, mut st2) = (diffq_runtime::StateI8::new(&mut q1), diffq_runtime::StateI8::new(&mut q2));
    let mut arena = vec![0i8; m.i8_arena_len()];
    let (mut y1, mut y2) = (vec![0i8; m.output_len()], vec![0i8; m.output_len()]);
    let mut seen = Seen::default();
    m.step_i8(&mut st1, &mut arena, &xq, &mut y1).unwrap();
    m.step_i8_with(&mut st2, &mut arena, &xq, &mut y2, &mut seen).unwrap();
    assert_eq!(y1, y2);
    assert_eq!(seen.0, expect);
}
