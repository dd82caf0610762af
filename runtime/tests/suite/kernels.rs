//! `matvec_f32` (fixed-bit fast path for every width, variable-bit path, f32 and f16 weights)
//! against an independent reference: each weight dequantised with `diffq_runtime::quant::dequantize`,
//! then the dot product taken in f64.
//!
//! **Error measure.** For output `n`, `err = |y − y_ref| / M` with
//! `M = |b| + Σ_i (|min| + |level_i·scale|)·|x_i|` (packed) or `M = |b| + Σ_i |w_i·x_i|` (f32/f16):
//! the error relative to the size of the terms the kernel adds, which is what f32 rounding is
//! proportional to (`|y_ref|` itself can be ~0 after cancellation, where no kernel can promise a
//! relative error). Measured over 600 random layers (in ≤ 384, taps ≤ 4, i.e. ≤ 1536 terms per
//! output), printed with `--nocapture`: fixed-bit 8.9e-8, variable-bit 7.2e-8, f32 weights
//! 1.2e-7, f16 weights 1.6e-7 (about one f32 ulp, 1.2e-7); asserted: `err ≤ 1e-6` (TOL).

use crate::common::*;
use diffq_runtime::format::{BiasQ, IntParams};
use diffq_runtime::kernels::{matvec_f32, matvec_i8};
use diffq_runtime::{Error, Model, Weights};
use rand::Rng;

/// Asserted bound on the normalised error (see the module doc for the measured value).
const TOL: f64 = 1e-6;

const KINDS: [&str; 4] = ["packed fixed-bit", "packed variable-bit", "f32 weights", "f16 weights"];

#[test]
fn matvec_f32_matches_dequantized_reference() {
    let mut r = rng(0x5EED_0001);
    let mut worst = [0.0f64; 4];
    let mut seen_widths = [false; 16];
    for case in 0..600 {
        let kind = case % 4;
        let gs = [8, 16, 24, 32, 64][r.random_range(0..5)];
        let in_len = gs * r.random_range(1..=6);
        let out = r.random_range(1..=12);
        let k = r.random_range(1..=4);
        let count = out * k * in_len;
        let w = match kind {
            0 => {
                let b = (case / 4 % 15 + 1) as u8;
                seen_widths[usize::from(b)] = true;
                W::Packed(Q::random(&mut r, count, gs, Bits::Fixed(b)))
            }
            1 => {
                let lo = r.random_range(1..=12u8);
                let hi = (lo + r.random_range(1..=8u8)).min(15);
                let q = Q::random(&mut r, count, gs, Bits::Var(lo, hi));
                // Half the variable-bit cases in the row-pair layout (odd row counts included).
                W::Packed(if gs % 16 == 0 && r.random_bool(0.5) { q.paired(k * in_len) } else { q })
            }
            2 => W::F32(rand_vec(&mut r, count, 1.0)),
            _ => W::F16(rand_vec(&mut r, count, 1.0)),
        };
        let bias = match r.random_range(0..3) {
            0 => Bias::None,
            1 => Bias::F32(rand_vec(&mut r, out, 1.0)),
            _ => Bias::F16(rand_vec(&mut r, out, 1.0)),
        };
        let blob = writer(in_len, &[L::Conv { w: w.clone(), b: bias.clone(), cin: in_len, cout: out, k, d: 1 }])
            .finish()
            .unwrap();
        let m = Model::parse(&blob).unwrap();
        let l = m.layer(0).unwrap();
        let wt = m.tensor(l.weight).unwrap().weights;
        if kind < 2 {
            let Weights::Packed(p) = wt else { panic!() };
            // The writer picks the fast path exactly when every group has the same width.
            let q = match &w {
                W::Packed(q) => q,
                _ => unreachable!(),
            };
            assert_eq!(p.fixed_bits().is_some(), q.bits.iter().all(|&b| b == q.bits[0]));
            assert_eq!(p.layout, if p.fixed_bits().is_some() { diffq_runtime::format::Layout::Rows } else { q.layout });
        }
        let bt = m.bias(0).unwrap();
        let taps: Vec<Option<Vec<f32>>> =
            (0..k).map(|_| (!r.random_bool(0.2)).then(|| rand_vec(&mut r, in_len, 2.0))).collect();
        let tap_refs: Vec<Option<&[f32]>> = taps.iter().map(|t| t.as_deref()).collect();
        let mut y = vec![f32::NAN; out];
        matvec_f32(&wt, bt.as_ref(), &tap_refs, in_len, &mut y).unwrap();

        let (wv, mag, bv) = (w.values(), w.term_mag(), bias.values(out));
        for n in 0..out {
            let (mut exact, mut size) = (f64::from(bv[n]), f64::from(bv[n].abs()));
            for (j, tap) in taps.iter().enumerate() {
                let Some(x) = tap else { continue };
                for i in 0..in_len {
                    let wi = (n * k + j) * in_len + i;
                    exact += f64::from(wv[wi]) * f64::from(x[i]);
                    size += mag[wi] * f64::from(x[i].abs());
                }
            }
            let err = (f64::from(y[n]) - exact).abs() / size.max(f64::MIN_POSITIVE);
            worst[kind] = worst[kind].max(err);
            assert!(err <= TOL, "{}: case {case} out {n}: y {} ref {exact} err {err:e}", KINDS[kind], y[n]);
        }
    }
    assert!(seen_widths[1..].iter().all(|&s| s), "fast path not tried for every width 1..=15");
    for (name, e) in KINDS.iter().zip(worst) {
        eprintln!("matvec_f32 {name}: max normalised error {e:.2e} (tolerance {TOL:e})");
    }
}

/// Shapes that do not fit the weights are errors, not panics.
#[test]
fn kernels_reject_bad_shapes() {
    let mut r = rng(7);
    let q = Q::random(&mut r, 4 * 2 * 16, 16, Bits::Fixed(3));
    let layers = [L::Conv { w: W::Packed(q), b: Bias::None, cin: 16, cout: 4, k: 2, d: 1 }];
    let blob = writer(16, &layers).finish().unwrap();
    let m = Model::parse(&blob).unwrap();
    let w = m.tensor(0).unwrap().weights;
    let x = vec![0.5f32; 16];
    let mut y = vec![0.0f32; 4];
    assert!(matvec_f32(&w, None, &[Some(&x[..]), Some(&x[..])], 16, &mut y).is_ok());
    assert_eq!(matvec_f32(&w, None, &[Some(&x[..])], 16, &mut y), Err(Error::KernelShape));
    assert_eq!(matvec_f32(&w, None, &[Some(&x[..15]), None], 16, &mut y), Err(Error::KernelShape));
    assert_eq!(matvec_f32(&w, None, &[None, None], 16, &mut y[..3]), Err(Error::KernelShape));
    assert_eq!(matvec_f32(&w, None, &[None, None], 8, &mut y), Err(Error::KernelShape));
    assert_eq!(matvec_f32(&w, None, &[], 0, &mut []), Err(Error::KernelShape));
    assert_eq!(matvec_f32(&w, None, &[None, None], usize::MAX / 2, &mut y), Err(Error::KernelShape));
    // A bias of the wrong length.
    let bias = [0u8; 12];
    assert_eq!(
        matvec_f32(&w, Some(&diffq_runtime::format::Bias::F32(&bias)), &[None, None], 16, &mut y),
        Err(Error::KernelShape)
    );
    // The integer kernel: packed weights only, bias constants of the right length.
    let xi = vec![1i8; 16];
    let mut yi = vec![0i8; 4];
    let bias_q = [0u8; 32];
    let params =
        IntParams { shift: 16, m_min: 0, m_bits: [1; 15], bias: BiasQ::I16 { values: &bias_q[..8], lshift: 0 } };
    assert!(matvec_i8(&w, &params, &[Some(&xi[..]), None], 16, &mut yi).is_ok());
    let legacy = IntParams { bias: BiasQ::I64(&bias_q), ..params };
    assert!(matvec_i8(&w, &legacy, &[Some(&xi[..]), None], 16, &mut yi).is_ok());
    let short = IntParams { bias: BiasQ::I16 { values: &bias_q[..6], lshift: 0 }, ..params };
    assert_eq!(matvec_i8(&w, &short, &[Some(&xi[..]), None], 16, &mut yi), Err(Error::KernelShape));
    let short = IntParams { bias: BiasQ::I64(&bias_q[..24]), ..params };
    assert_eq!(matvec_i8(&w, &short, &[Some(&xi[..]), None], 16, &mut yi), Err(Error::KernelShape));
    let f = [0u8; 4 * 128];
    assert!(matvec_i8(&Weights::F32(&f), &params, &[Some(&xi[..]), None], 16, &mut yi).is_err());
    // Hostile constants (shift out of range, huge multipliers): garbage out, but no trap.
    let wild = IntParams {
        shift: 0,
        m_min: i32::MAX,
        m_bits: [i32::MIN; 15],
        bias: BiasQ::I16 { values: &[0x7F; 8], lshift: 62 },
    };
    assert!(matvec_i8(&w, &wild, &[Some(&[i8::MIN; 16][..]), Some(&[i8::MIN; 16][..])], 16, &mut yi).is_ok());
    // Whole-sequence kernels: empty output, zero stride/kernel, huge dilation.
    use diffq_runtime::kernels::{conv1d_seq_f32, conv1d_seq_i8};
    let xs = vec![0.1f32; 16 * 5];
    assert_eq!(conv1d_seq_f32(&w, None, 16, 2, 1, 1, &xs, &mut []), Err(Error::KernelShape));
    assert_eq!(conv1d_seq_f32(&w, None, 16, 2, 1, 0, &xs, &mut vec![0.0; 20]), Err(Error::KernelShape));
    assert_eq!(conv1d_seq_f32(&w, None, 16, 0, 1, 1, &xs, &mut vec![0.0; 20]), Err(Error::KernelShape));
    assert!(conv1d_seq_f32(&w, None, 16, 3, usize::MAX, 1, &xs, &mut vec![0.0; 20]).is_err());
    assert!(conv1d_seq_f32(&w, None, 16, 2, 1 << 40, 1, &xs, &mut vec![0.0; 20]).is_ok());
    let xq = vec![3i8; 16 * 5];
    assert_eq!(conv1d_seq_i8(&w, &params, 16, 2, 1, 1, &xq, &mut []), Err(Error::KernelShape));
    assert!(conv1d_seq_i8(&w, &params, 16, 3, usize::MAX, 1, &xq, &mut vec![0; 20]).is_err());
}

/// `matvec_i8` equals FORMAT.md's integer formula evaluated independently in i128:
/// `acc = m_min·Σq + Σ_g m_bits[b_g−1]·A_g + bias_q`, `q = clamp((acc + 2^(S−1)) >> S, ±127)`,
/// bit for bit, on the fixed-bit path (every width; the 2-rows-at-once path for ≤ 4 bits, odd
/// row counts) and the variable-bit path (groups of 64 with each width's own body, other sizes,
/// and groups of 1024 at up to 15 bits, whose sums take i64), inputs spanning the whole i8
/// range (−128 included).
#[test]
fn matvec_i8_is_exactly_the_format_formula() {
    use diffq_runtime::writer::IntCalibration;
    let mut r = rng(0x1778);
    for case in 0..300 {
        // Groups of 1024 at up to 15 bits: a group's i32 level sum could overflow (the i64 path).
        let wide = case % 20 == 19;
        let gs = if wide { 1024 } else { [8, 16, 32, 48, 64][r.random_range(0..5)] };
        let in_len = gs * r.random_range(1..=4);
        let out = r.random_range(1..=9);
        let k = r.random_range(1..=3);
        let bits = if wide {
            Bits::Var(13, 15)
        } else if case % 4 == 3 {
            Bits::Var(1, r.random_range(2..=15))
        } else {
            Bits::Fixed((case % 15 + 1) as u8)
        };
        let q = Q::random(&mut r, out * k * in_len, gs, bits);
        let q = if gs % 16 == 0 && case % 2 == 1 { q.paired(k * in_len) } else { q };
        let layers = [L::Conv {
            w: W::Packed(q.clone()),
            b: Bias::F32(rand_vec(&mut r, out, 2.0)),
            cin: in_len,
            cout: out,
            k,
            d: 1,
        }];
        let calib = IntCalibration {
            input_scale: r.random_range(0.001f32..0.1),
            out_scales: vec![r.random_range(0.001f32..0.5)],
        };
        let blob = writer(in_len, &layers).finish_with_int(&calib).unwrap();
        let m = Model::parse(&blob).unwrap();
        let l = m.layer(0).unwrap();
        let w = m.tensor(l.weight).unwrap().weights;
        let p = IntParams::read(&blob[l.int_offset as usize..], out, m.header().version, diffq_runtime::Part::Layer(0))
            .unwrap();
        let extremes = case % 5 == 0;
        let taps: Vec<Option<Vec<i8>>> = (0..k)
            .map(|_| {
                (!r.random_bool(0.15)).then(|| {
                    (0..in_len).map(|_| if extremes { [-128, 127][r.random_range(0..2)] } else { r.random() }).collect()
                })
            })
            .collect();
        let tap_refs: Vec<Option<&[i8]>> = taps.iter().map(|t| t.as_deref()).collect();
        let mut y = vec![0i8; out];
        matvec_i8(&w, &p, &tap_refs, in_len, &mut y).unwrap();
        let sum_q: i128 = taps.iter().flatten().flatten().map(|&v| i128::from(v)).sum();
        for n in 0..out {
            // FORMAT.md v3: `bias_q = c·2^L`, `c` an i16.
            let BiasQ::I16 { values, lshift } = p.bias else { panic!("v3 blob with i64 biases") };
            let c = i16::from_le_bytes(values[2 * n..2 * n + 2].try_into().unwrap());
            let mut acc = i128::from(p.m_min) * sum_q + (i128::from(c) << lshift);
            for (j, tap) in taps.iter().enumerate() {
                let Some(x) = tap else { continue };
                // Σ_g m(b_g)·A_g, taken weight by weight (exact in i128; any layout).
                for i in 0..in_len {
                    let (level, b) = q.at((n * k + j) * in_len + i);
                    acc += i128::from(p.m_bits[usize::from(b) - 1]) * i128::from(x[i]) * i128::from(level);
                }
            }
            let want = ((acc + (1i128 << (p.shift - 1))) >> p.shift).clamp(-127, 127) as i8;
            assert_eq!(y[n], want, "case {case} ({bits:?}, gs {gs}, in {in_len}, k {k}) row {n}");
        }
    }
}
