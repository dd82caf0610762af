//! The integer path (`step_i8` / `matvec_i8`, blobs from `BlobWriter::finish_with_int`) against
//! the f32 path on the same random models. Errors are in LSBs of the output's int8 scale
//! (`|q_y − y_f32 / s_y|`).
//!
//! Measured (printed with `--nocapture`):
//! * one conv1d/linear layer, int8 input fed to both paths (`x = q·s_x`): max 0.5002 LSB: the
//!   fixed-point rescale is exact to ~1e-6 LSB, all that is left is the final rounding to int8
//!   (asserted ≤ 0.5 + 1e-3);
//! * a 6-layer stack (linear var-bit → relu → conv k3 d2 4-bit → tanh → linear 8-bit → sigmoid),
//!   same int8 input on both paths: the int8 rounding of each hidden activation propagates:
//!   max 1.07, mean 0.28 LSB (asserted ≤ 3 and ≤ 0.5). Quantising the float input to int8 adds
//!   little here (max 0.18, mean 0.035 LSB on the f32 path); int path vs f32 path on the float
//!   input: max 1.04, mean 0.28 LSB (asserted ≤ 4 and ≤ 0.75).

use crate::common::*;
use diffq_runtime::writer::IntCalibration;
use rand::Rng;

fn max_abs(ys: &[Vec<f32>]) -> f32 {
    ys.iter().flatten().fold(0.0f32, |a, v| a.max(v.abs()))
}

#[test]
fn single_layer_int_matches_f32_within_half_lsb() {
    let mut r = rng(0x1A7);
    let mut worst = 0.0f64;
    for case in 0..120 {
        let gs = [8, 16, 32][r.random_range(0..3)];
        let cin = gs * r.random_range(1..=4);
        let cout = r.random_range(1..=10);
        let k = if case % 2 == 0 { 1 } else { r.random_range(2..=3) };
        let d = r.random_range(1..=3);
        let bits = if case % 3 == 0 { Bits::Var(2, 6) } else { Bits::Fixed(r.random_range(1..=15)) };
        let w = W::Packed(Q::random(&mut r, cout * k * cin, gs, bits));
        let b = if r.random_bool(0.5) {
            Bias::F32(rand_vec(&mut r, cout, 0.5))
        } else {
            Bias::F16(rand_vec(&mut r, cout, 0.5))
        };
        let layers = [L::Conv { w, b, cin, cout, k, d }];
        let s_x = r.random_range(0.005f32..0.1);
        let q_in: Vec<Vec<i8>> = (0..8).map(|_| (0..cin).map(|_| r.random_range(-127..=127i8)).collect()).collect();
        let x_in: Vec<Vec<f32>> = q_in.iter().map(|q| q.iter().map(|&v| f32::from(v) * s_x).collect()).collect();
        let y_f = run_f32(&writer(cin, &layers).finish().unwrap(), &x_in);
        let s_y = (max_abs(&y_f) / 127.0).max(1e-6) * r.random_range(1.0f32..1.3);
        let blob =
            writer(cin, &layers).finish_with_int(&IntCalibration { input_scale: s_x, out_scales: vec![s_y] }).unwrap();
        // v4: the f32 path reads the biases from the i16 constants (≥ 8 fraction bits of an
        // output step for biases up to 127 steps), not from the f16/f32 tensor.
        for (a, b) in run_f32(&blob, &x_in).iter().flatten().zip(y_f.iter().flatten()) {
            assert!(
                (a - b).abs() <= s_y / 256.0 + 1e-6 * b.abs(),
                "case {case}: f32 path {a} vs {b} without integer constants"
            );
        }
        let y_q = run_i8(&blob, &q_in);
        for (yf, yq) in y_f.iter().flatten().zip(y_q.iter().flatten()) {
            let err = (f64::from(*yq) - f64::from(*yf) / f64::from(s_y)).abs();
            worst = worst.max(err);
            assert!(err <= 0.5 + 1e-3, "case {case}: q {yq} vs {} LSB", yf / s_y);
        }
    }
    eprintln!("integer path, one layer: max |q − y/s| = {worst:.4} LSB");
}

/// A 6-layer stack: where the integer path loses accuracy. Asserted: max error ≤ 3 LSB and
/// mean ≤ 0.5 LSB against the f32 path fed the same int8 input.
#[test]
fn stack_error_budget() {
    let mut r = rng(0xB0D6E7);
    let layers = vec![
        L::Linear {
            w: W::Packed(Q::random(&mut r, 48 * 32, 16, Bits::Var(2, 5))),
            b: Bias::F16(rand_vec(&mut r, 48, 0.3)),
            cin: 32,
            cout: 48,
        },
        L::Relu,
        L::Conv {
            w: W::Packed(Q::random(&mut r, 32 * 3 * 48, 16, Bits::Fixed(4))),
            b: Bias::F32(rand_vec(&mut r, 32, 0.3)),
            cin: 48,
            cout: 32,
            k: 3,
            d: 2,
        },
        L::Tanh,
        L::Linear { w: W::Packed(Q::random(&mut r, 16 * 32, 8, Bits::Fixed(8))), b: Bias::None, cin: 32, cout: 16 },
        L::Sigmoid,
    ];
    // Weights of a trained net are small: rescale the random ranges to ±0.25.
    let layers: Vec<L> = layers
        .into_iter()
        .map(|l| match l {
            L::Linear { w: W::Packed(mut q), b, cin, cout } => {
                (q.min, q.max) = (-0.25, 0.2);
                L::Linear { w: W::Packed(q), b, cin, cout }
            }
            L::Conv { w: W::Packed(mut q), b, cin, cout, k, d } => {
                (q.min, q.max) = (-0.15, 0.15);
                L::Conv { w: W::Packed(q), b, cin, cout, k, d }
            }
            other => other,
        })
        .collect();
    let frames = 96;
    let x: Vec<Vec<f32>> = (0..frames).map(|_| rand_vec(&mut r, 32, 1.0)).collect();
    // Calibration as the trainer does it: max |activation| / 127 per layer, on the f32 path.
    let s_x = max_abs(&x) / 127.0;
    let out_scales: Vec<f32> = (0..layers.len())
        .map(|i| (max_abs(&run_f32(&writer(32, &layers[..=i]).finish().unwrap(), &x)) / 127.0).max(1e-6))
        .collect();
    let s_y = *out_scales.last().unwrap();
    let calib = IntCalibration { input_scale: s_x, out_scales };
    let blob = writer(32, &layers).finish_with_int(&calib).unwrap();
    let q_in: Vec<Vec<i8>> = x.iter().map(|f| quantize_input(f, s_x)).collect();
    let x_deq: Vec<Vec<f32>> = q_in.iter().map(|q| q.iter().map(|&v| f32::from(v) * s_x).collect()).collect();
    let y_f = run_f32(&blob, &x); // float input
    let y_fq = run_f32(&blob, &x_deq); // the int8 input, in float
    let y_q = run_i8(&blob, &q_in);
    let lsb = |a: f32, b: f32| f64::from((a - b).abs() / s_y);
    let stats = |e: Vec<f64>| (e.iter().cloned().fold(0.0, f64::max), e.iter().sum::<f64>() / e.len() as f64);
    let int_vs_fq =
        stats(y_q.iter().flatten().zip(y_fq.iter().flatten()).map(|(q, f)| lsb(f32::from(*q) * s_y, *f)).collect());
    let input_q = stats(y_fq.iter().flatten().zip(y_f.iter().flatten()).map(|(a, b)| lsb(*a, *b)).collect());
    let total =
        stats(y_q.iter().flatten().zip(y_f.iter().flatten()).map(|(q, f)| lsb(f32::from(*q) * s_y, *f)).collect());
    eprintln!("integer path, 6-layer stack, output LSB = {s_y:.3e}:");
    eprintln!(
        "  int8 hidden activations + rescale (same int8 input): max {:.2} mean {:.3} LSB",
        int_vs_fq.0, int_vs_fq.1
    );
    eprintln!("  int8 input quantisation alone (f32 path):            max {:.2} mean {:.3} LSB", input_q.0, input_q.1);
    eprintln!("  total, int path vs f32 on float input:               max {:.2} mean {:.3} LSB", total.0, total.1);
    assert!(int_vs_fq.0 <= 3.0 && int_vs_fq.1 <= 0.5, "{int_vs_fq:?}");
    assert!(total.0 <= 4.0 && total.1 <= 0.75, "{total:?}");
}
