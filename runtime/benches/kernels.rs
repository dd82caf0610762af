//! Kernel benchmarks: `cargo bench -p diffq-runtime --features std` (criterion; short measurement times
//! so a full run takes ~1 minute on 2 cores). Results, with ns/MAC: runtime/README.md.
//!
//! * `linear256`: one 256→256 matrix-vector product (65 536 MACs), calling the kernel directly;
//! * `conv64k3`: one streaming frame of a 64→64-channel, kernel-3 conv1d (12 288 MACs) through
//!   `Model::step_f32` / `step_i8` (executor, ring-buffer state and weight lookup included).
//!
//! Weight kinds: fixed 2/3/4/6/8 bits (fast path), variable 2..5 bits (mixed per group of 16),
//! f32 weights (the unquantised baseline), f16 weights; `f32` = f32 activations, `i8` = the
//! integer path.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use diffq_runtime::format::IntParams;
use diffq_runtime::kernels::{matvec_f32, matvec_i8};
use diffq_runtime::writer::{BlobWriter, IntCalibration, TensorId};
use diffq_runtime::{Model, Part, StateF32, StateI8};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::hint::black_box;
use std::time::Duration;

#[derive(Clone, Copy)]
enum Kind {
    Fixed(u8),
    Var,
    F32,
    F16,
}

impl Kind {
    fn name(self) -> String {
        match self {
            Kind::Fixed(b) => format!("{b}bit"),
            Kind::Var => "var2-5bit".into(),
            Kind::F32 => "f32w".into(),
            Kind::F16 => "f16w".into(),
        }
    }
    fn add(self, w: &mut BlobWriter, r: &mut StdRng, count: usize) -> TensorId {
        const GS: usize = 16;
        let vals: Vec<f32> = (0..count).map(|_| r.random_range(-0.3f32..0.3)).collect();
        match self {
            Kind::F32 => w.f32_tensor(&vals).unwrap(),
            Kind::F16 => w.f16_tensor(&vals).unwrap(),
            Kind::Fixed(_) | Kind::Var => {
                let bits: Vec<u8> = (0..count / GS)
                    .map(|_| if let Kind::Fixed(b) = self { b } else { r.random_range(2..=5) })
                    .collect();
                let levels: Vec<u16> = (0..count).map(|i| r.random_range(0..(1u32 << bits[i / GS])) as u16).collect();
                w.packed_tensor(&levels, &bits, GS, -0.3, 0.3).unwrap()
            }
        }
    }
}

/// A one-layer model: conv1d(cin → cout, kernel k), with integer constants when packed.
fn model(kind: Kind, cin: usize, cout: usize, k: usize) -> Vec<u8> {
    let mut r = StdRng::seed_from_u64(1);
    let mut w = BlobWriter::new(cin);
    let t = kind.add(&mut w, &mut r, cout * k * cin);
    let b = w.f32_tensor(&vec![0.01; cout]).unwrap();
    w.conv1d(t, Some(b), cin, cout, k, 1).unwrap();
    match kind {
        Kind::F32 | Kind::F16 => w.finish().unwrap(),
        _ => w.finish_with_int(&IntCalibration { input_scale: 0.01, out_scales: vec![0.05] }).unwrap(),
    }
}

const BITS: [Kind; 5] = [Kind::Fixed(2), Kind::Fixed(3), Kind::Fixed(4), Kind::Fixed(6), Kind::Fixed(8)];

fn kinds_f32() -> Vec<Kind> {
    BITS.iter().copied().chain([Kind::Var, Kind::F32, Kind::F16]).collect()
}
fn kinds_i8() -> Vec<Kind> {
    BITS.iter().copied().chain([Kind::Var]).collect()
}

fn linear256(c: &mut Criterion) {
    let (n_in, n_out) = (256, 256);
    let mut g = c.benchmark_group("linear256");
    g.throughput(Throughput::Elements((n_in * n_out) as u64)); // elements = MACs
    let x: Vec<f32> = (0..n_in).map(|i| (i as f32 * 0.37).sin()).collect();
    let xq: Vec<i8> = (0..n_in).map(|i| ((i * 37) % 255) as i8).collect();
    for kind in kinds_f32() {
        let blob = model(kind, n_in, n_out, 1);
        let m = Model::parse(&blob).unwrap();
        let w = m.tensor(0).unwrap().weights;
        let mut y = vec![0.0f32; n_out];
        g.bench_function(BenchmarkId::new("f32", kind.name()), |b| {
            b.iter(|| matvec_f32(black_box(&w), None, &[Some(black_box(&x[..]))], n_in, &mut y).unwrap())
        });
    }
    for kind in kinds_i8() {
        let blob = model(kind, n_in, n_out, 1);
        let m = Model::parse(&blob).unwrap();
        let w = m.tensor(0).unwrap().weights;
        let l = m.layer(0).unwrap();
        let p =
            IntParams::read(&m.bytes()[l.int_offset as usize..], n_out, m.header().version, Part::Layer(0)).unwrap();
        let mut y = vec![0i8; n_out];
        g.bench_function(BenchmarkId::new("i8", kind.name()), |b| {
            b.iter(|| matvec_i8(black_box(&w), &p, &[Some(black_box(&xq[..]))], n_in, &mut y).unwrap())
        });
    }
    // The same 3-bit layer through the executor (`step_f32`): the per-frame overhead.
    let blob = model(Kind::Fixed(3), n_in, n_out, 1);
    let m = Model::parse(&blob).unwrap();
    let (mut a, mut s, mut y) = (vec![0.0f32; m.f32_arena_len()], vec![0.0f32; m.f32_state_len()], vec![0.0f32; n_out]);
    let mut st = StateF32::new(&mut s);
    g.bench_function(BenchmarkId::new("f32-step", "3bit"), |b| {
        b.iter(|| m.step_f32(&mut st, &mut a, black_box(&x), &mut y).unwrap())
    });
    g.finish();
}

fn conv64k3(c: &mut Criterion) {
    let (ch, k) = (64, 3);
    let mut g = c.benchmark_group("conv64k3");
    g.throughput(Throughput::Elements((ch * ch * k) as u64));
    let x: Vec<f32> = (0..ch).map(|i| (i as f32 * 0.37).sin()).collect();
    let xq: Vec<i8> = (0..ch).map(|i| ((i * 37) % 255) as i8).collect();
    for kind in kinds_f32() {
        let blob = model(kind, ch, ch, k);
        let m = Model::parse(&blob).unwrap();
        let (mut a, mut s, mut y) =
            (vec![0.0f32; m.f32_arena_len()], vec![0.0f32; m.f32_state_len()], vec![0.0f32; ch]);
        let mut st = StateF32::new(&mut s);
        g.bench_function(BenchmarkId::new("f32", kind.name()), |b| {
            b.iter(|| m.step_f32(&mut st, &mut a, black_box(&x), &mut y).unwrap())
        });
    }
    for kind in kinds_i8() {
        let blob = model(kind, ch, ch, k);
        let m = Model::parse(&blob).unwrap();
        let (mut a, mut s, mut y) = (vec![0i8; m.i8_arena_len()], vec![0i8; m.i8_state_len()], vec![0i8; ch]);
        let mut st = StateI8::new(&mut s);
        g.bench_function(BenchmarkId::new("i8", kind.name()), |b| {
            b.iter(|| m.step_i8(&mut st, &mut a, black_box(&xq), &mut y).unwrap())
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(1000))
        .sample_size(20);
    targets = linear256, conv64k3
}
criterion_main!(benches);
