//! Hostile and broken inputs: every one is an `Err`, never a panic, never a hang.

use crate::common::*;
use diffq_runtime::writer::IntCalibration;
use diffq_runtime::{Error, Model, StateF32, StateI8};
use rand::Rng;
use std::time::Instant;

/// A blob using every feature: variable and fixed bits, both layouts, all bit-width-table widths, f16/f32
/// tensors, conv rings, every op, integer constants.
fn rich_blob() -> Vec<u8> {
    let (layers, calib) = rich_layers();
    writer(16, &layers).finish_with_int(&calib).unwrap()
}

fn rich_layers() -> (Vec<L>, IntCalibration) {
    let mut r = rng(0xBAD);
    let layers = vec![
        L::Conv {
            w: W::Packed(Q::random(&mut r, 16 * 3 * 16, 16, Bits::Var(2, 5)).paired(48)),
            b: Bias::F16(rand_vec(&mut r, 16, 0.3)),
            cin: 16,
            cout: 16,
            k: 3,
            d: 2,
        },
        L::Relu,
        L::Linear {
            w: W::Packed(Q::random(&mut r, 8 * 16, 16, Bits::Fixed(3))),
            b: Bias::F32(rand_vec(&mut r, 8, 0.3)),
            cin: 16,
            cout: 8,
        },
        L::Tanh,
        L::Conv {
            w: W::Packed(Q::random(&mut r, 8 * 2 * 8, 8, Bits::Var(1, 9))),
            b: Bias::None,
            cin: 8,
            cout: 8,
            k: 2,
            d: 1,
        },
        L::Linear { w: W::Packed(Q::random(&mut r, 8 * 8, 8, Bits::Var(4, 5))), b: Bias::None, cin: 8, cout: 8 },
        L::Sigmoid,
    ];
    let calib = IntCalibration { input_scale: 0.01, out_scales: vec![0.05, 0.05, 0.04, 0.008, 0.03, 0.02, 0.008] };
    (layers, calib)
}

/// If the bytes parse, run both paths for a few frames: must not panic (Ok or Err both fine).
fn exercise(b: &[u8]) -> Result<(), Error> {
    let m = Model::parse(b)?;
    if m.f32_arena_len() + m.f32_state_len() > 1 << 22 {
        return Ok(());
    }
    let mut a = vec![0.0f32; m.f32_arena_len()];
    let mut s = vec![0.0f32; m.f32_state_len()];
    let mut st = StateF32::new(&mut s);
    let mut y = vec![0.0f32; m.output_len()];
    for t in 0..3 {
        let x: Vec<f32> = (0..m.input_len()).map(|i| (i + t) as f32 * 0.1 - 1.0).collect();
        let _ = m.step_f32(&mut st, &mut a, &x, &mut y);
    }
    if m.has_int() && m.i8_arena_len() + m.i8_state_len() <= 1 << 22 {
        let mut a = vec![0i8; m.i8_arena_len()];
        let mut s = vec![0i8; m.i8_state_len()];
        let mut st = StateI8::new(&mut s);
        let mut y = vec![0i8; m.output_len()];
        for fill in [i8::MIN, i8::MAX, 0] {
            let _ = m.step_i8(&mut st, &mut a, &vec![fill; m.input_len()], &mut y);
        }
    }
    Ok(())
}

#[test]
fn rich_blob_is_valid() {
    let b = rich_blob();
    exercise(&b).unwrap();
}

#[test]
fn every_truncation_is_an_error() {
    let b = rich_blob();
    for n in 0..b.len() {
        let e = Model::parse(&b[..n]).unwrap_err();
        assert!(matches!(e, Error::Truncated { .. } | Error::LengthMismatch { .. }), "len {n}: {e:?}");
        // Same prefix with total_len and CRC rewritten: the validator must find the cut itself.
        let mut cut = b[..n].to_vec();
        fix_len_crc(&mut cut);
        assert!(Model::parse(&cut).is_err(), "truncated to {n} with fixed length/CRC parsed");
    }
}

#[test]
fn oversized_buffers_are_errors() {
    let b = rich_blob();
    for extra in [1usize, 3, 64, 4096] {
        let mut big = b.clone();
        big.resize(b.len() + extra, 0);
        assert_eq!(
            Model::parse(&big).unwrap_err(),
            Error::LengthMismatch { header: b.len() as u32, actual: big.len() as u32 }
        );
        // Claiming the extra bytes in total_len still fails: the CRC covers them.
        let n = big.len() as u32;
        big[8..12].copy_from_slice(&n.to_le_bytes());
        assert!(matches!(Model::parse(&big).unwrap_err(), Error::Checksum { .. }));
    }
    // total_len larger than the buffer.
    let mut b2 = b.clone();
    b2[8..12].copy_from_slice(&(b.len() as u32 + 1).to_le_bytes());
    assert!(Model::parse(&b2).is_err());
}

/// Every single-bit flip: with the stored CRC the checksum (or an earlier header check) catches
/// it; with the CRC rewritten the validator itself must reject every flip of a header field it
/// can check, and anything that still parses (a flipped weight level, a float) must run.
#[test]
fn single_bit_flips() {
    let b = rich_blob();
    let (mut parsed, mut rejected) = (0, 0);
    for bit in 0..8 * b.len() {
        let mut f = b.clone();
        f[bit / 8] ^= 1 << (bit % 8);
        assert!(Model::parse(&f).is_err(), "flip of bit {bit} not detected");
        if (12..16).contains(&(bit / 8)) {
            continue; // the CRC itself: rewriting it undoes the flip
        }
        fix_crc(&mut f);
        let byte = bit / 8;
        // Checkable: all of the header but the input scale (a float) and n_layers (7 → 6 leaves
        // a shorter graph that happens to be valid: its last layer is also 8 wide).
        let checkable = byte < 12 || (16..18).contains(&byte) || (20..48).contains(&byte) || (52..64).contains(&byte);
        match exercise(&f) {
            Ok(()) => {
                assert!(!checkable, "header flip at bit {bit} parsed");
                parsed += 1;
            }
            Err(_) => rejected += 1,
        }
    }
    eprintln!("bit flips with CRC fixed: {rejected} rejected, {parsed} still valid (levels, floats) and ran");
}

/// Random multi-byte corruption with CRC fixed, many seeds: no panic anywhere.
#[test]
fn random_corruption_never_panics() {
    let b = rich_blob();
    let mut r = rng(0xC0FFEE);
    for _ in 0..4000 {
        let mut f = b.clone();
        for _ in 0..r.random_range(1..=6) {
            let i = r.random_range(0..f.len());
            f[i] = if r.random_bool(0.5) { r.random() } else { [0x00, 0xFF, 0x7F, 0x80][r.random_range(0..4)] };
        }
        if r.random_bool(0.1) {
            let n = r.random_range(0..f.len());
            f.truncate(n);
            fix_len_crc(&mut f);
        } else {
            fix_crc(&mut f);
        }
        let _ = exercise(&f);
    }
}

fn set_u32(b: &mut [u8], off: usize, v: u32) {
    b[off..off + 4].copy_from_slice(&v.to_le_bytes());
    fix_crc(b);
}
fn set_u16(b: &mut [u8], off: usize, v: u16) {
    b[off..off + 2].copy_from_slice(&v.to_le_bytes());
    fix_crc(b);
}

#[test]
fn wrong_header_fields_are_errors() {
    let b = rich_blob();
    for off in [32, 36, 40, 44] {
        let v = u32_at(&b, off);
        for w in [v.wrapping_sub(1), v + 1, 0, u32::MAX] {
            if w == v {
                continue;
            }
            let mut f = b.clone();
            set_u32(&mut f, off, w);
            assert_eq!(Model::parse(&f).unwrap_err(), Error::SizeMismatch, "size field at {off} = {w}");
        }
    }
    for (off, bad) in [
        (16usize, [0u16, 1, 7, 1025, 0xFFFF]),
        (18, [0, 1, 64, 65, 0xFFFF]),
        (20, [0, 15, 17, 0xFFFF, 1]),
        (22, [0, 7, 9, 16, 0xFFFF]),
    ] {
        for v in bad {
            let mut f = b.clone();
            set_u16(&mut f, off, v);
            assert!(Model::parse(&f).is_err(), "u16 at {off} = {v}");
        }
    }
    for (off, v) in [
        (24usize, 0u32),
        (24, 65),
        (28, 0),
        (28, u32_at(&b, 28) + 32),
        (4, 0),
        (4, 5),
        (6, 0),
        (6, 3),
        (52, 1),
        (60, 1 << 31),
    ] {
        let mut f = b.clone();
        if off == 4 || off == 6 {
            set_u16(&mut f, off, v as u16);
        } else {
            set_u32(&mut f, off, v);
        }
        assert!(Model::parse(&f).is_err(), "header field at {off} = {v}");
    }
    let mut f = b.clone();
    f[0] = b'X';
    assert_eq!(Model::parse(&f).unwrap_err(), Error::BadMagic);
    let mut f = b.clone();
    set_u32(&mut f, 48, f32::NAN.to_bits());
    assert!(Model::parse(&f).is_err(), "NaN input scale");
}

#[test]
fn caller_buffers_are_checked() {
    let b = rich_blob();
    let m = Model::parse(&b).unwrap();
    let (al, sl) = (m.f32_arena_len(), m.f32_state_len());
    let mut a = vec![0.0f32; al];
    let mut s = vec![0.0f32; sl];
    let x = vec![0.1f32; 16];
    let mut y = vec![0.0f32; 8];
    {
        let mut st = StateF32::new(&mut s);
        assert_eq!(
            m.step_f32(&mut st, &mut a[..al - 1], &x, &mut y),
            Err(Error::ArenaTooSmall { needed: al as u32, got: al as u32 - 1 })
        );
        assert_eq!(m.step_f32(&mut st, &mut [], &x, &mut y), Err(Error::ArenaTooSmall { needed: al as u32, got: 0 }));
        assert_eq!(m.step_f32(&mut st, &mut a, &x[..15], &mut y), Err(Error::BadIoLength { expected: 16, got: 15 }));
        assert_eq!(m.step_f32(&mut st, &mut a, &[0.0; 17], &mut y), Err(Error::BadIoLength { expected: 16, got: 17 }));
        assert_eq!(m.step_f32(&mut st, &mut a, &x, &mut y[..7]), Err(Error::BadIoLength { expected: 8, got: 7 }));
        assert_eq!(m.step_f32(&mut st, &mut a, &x, &mut [0.0; 9]), Err(Error::BadIoLength { expected: 8, got: 9 }));
        assert!(m.step_f32(&mut st, &mut a, &x, &mut y).is_ok());
        let mut big = vec![0.0f32; al + 100];
        assert!(m.step_f32(&mut st, &mut big, &x, &mut y).is_ok(), "a larger arena is fine");
    }
    let mut st = StateF32::new(&mut s[..sl - 1]);
    assert_eq!(
        m.step_f32(&mut st, &mut a, &x, &mut y),
        Err(Error::StateTooSmall { needed: sl as u32, got: sl as u32 - 1 })
    );

    let (ail, sil) = (m.i8_arena_len(), m.i8_state_len());
    let mut ai = vec![0i8; ail];
    let mut si = vec![0i8; sil];
    let xi = vec![1i8; 16];
    let mut yi = vec![0i8; 8];
    {
        let mut st = StateI8::new(&mut si);
        assert!(matches!(m.step_i8(&mut st, &mut ai[..ail - 1], &xi, &mut yi), Err(Error::ArenaTooSmall { .. })));
        assert!(matches!(m.step_i8(&mut st, &mut ai, &xi[..3], &mut yi), Err(Error::BadIoLength { .. })));
        assert!(matches!(m.step_i8(&mut st, &mut ai, &xi, &mut yi[..1]), Err(Error::BadIoLength { .. })));
        assert!(m.step_i8(&mut st, &mut ai, &xi, &mut yi).is_ok());
    }
    let mut st = StateI8::new(&mut si[..sil - 1]);
    assert!(matches!(m.step_i8(&mut st, &mut ai, &xi, &mut yi), Err(Error::StateTooSmall { .. })));

    // The integer path of a blob without integer constants.
    let f32_only =
        writer(16, &[L::Linear { w: W::F32(vec![0.1; 16 * 4]), b: Bias::None, cin: 16, cout: 4 }]).finish().unwrap();
    let m = Model::parse(&f32_only).unwrap();
    assert_eq!(m.i8_arena_len(), 0);
    let mut st = StateI8::new(&mut []);
    assert_eq!(m.step_i8(&mut st, &mut [0; 64], &xi, &mut [0; 4]), Err(Error::NoIntegerPath));
}

/// A tensor claiming ~2^32 weights with a tiny data region must fail fast (the group-size
/// check stops at the first byte past the region instead of walking 2^29 groups).
#[test]
fn huge_counts_fail_fast() {
    let b = rich_blob();
    let t0 = 64; // tensor 0: packed, group 8
    for count in [u32::MAX - 7, 1 << 31, 0x7FFF_FFF8] {
        let mut f = b.clone();
        set_u32(&mut f, t0 + 8, count);
        let t = Instant::now();
        assert!(Model::parse(&f).is_err());
        assert!(t.elapsed().as_millis() < 50, "parse took {:?}", t.elapsed());
    }
}

/// Inputs of −128 (outside the documented ±127, but an `i8` the caller can pass) and hostile
/// tables that emit −128 must not overflow the i32 group sums: 1032 × 128 × 16383 > 2^31 − 1.
#[test]
fn int_path_survives_minus_128() {
    let levels = vec![16383u16; 1032];
    let q = Q { levels, bits: vec![14], gs: 1032, min: 0.0, max: 1.0, layout: diffq_runtime::format::Layout::Rows };
    let linear = L::Linear { w: W::Packed(q), b: Bias::None, cin: 1032, cout: 1 };
    let blob = writer(1032, &[linear.clone()])
        .finish_with_int(&IntCalibration { input_scale: 0.01, out_scales: vec![1.0] })
        .unwrap();
    let y = run_i8(&blob, &[vec![i8::MIN; 1032], vec![i8::MAX; 1032]]);
    assert_eq!((y[0][0], y[1][0]), (-127, 127));
    // The same through a tanh table patched to emit −128 everywhere (CRC fixed).
    let calib = IntCalibration { input_scale: 0.01, out_scales: vec![0.01, 1.0] };
    let blob = writer(1032, &[L::Tanh, linear]).finish_with_int(&calib).unwrap();
    let mut f = blob.clone();
    let lut = Model::parse(&blob).unwrap().layer(0).unwrap().int_offset as usize;
    f[lut..lut + 256].fill(0x80);
    fix_crc(&mut f);
    assert_eq!(run_i8(&f, &[vec![5; 1032]])[0][0], -127);
}

/// Hand-made layer tables: every invalid field value is rejected.
#[test]
fn bad_layer_fields_are_errors() {
    let b = rich_blob();
    let m = Model::parse(&b).unwrap();
    let lt = 64 + 32 * usize::from(m.n_tensors());
    // (layer, offset, size, value)
    let cases: &[(usize, usize, usize, u32)] = &[
        (0, 0, 1, 0),
        (0, 0, 1, 6),
        (0, 0, 1, 2),
        (0, 1, 1, 1),
        (0, 2, 2, 15),
        (0, 4, 2, 0),
        (0, 6, 2, 99),
        (0, 6, 2, 1),
        (0, 8, 2, 0),
        (0, 10, 1, 0),
        (0, 10, 1, 17),
        (0, 11, 1, 1),
        (0, 12, 2, 0),
        (0, 12, 2, 257),
        (0, 14, 2, 0),
        (0, 14, 2, 2),
        (0, 16, 4, 0),
        (0, 16, 4, f32::NAN.to_bits()),
        (0, 16, 4, (-1.0f32).to_bits()),
        (0, 20, 4, 0),
        (0, 20, 4, 10),
        (0, 20, 4, u32::MAX),
        (1, 6, 2, 0),
        (1, 10, 1, 1),
        (1, 14, 2, 1),
        (1, 16, 4, 0x3f80_0000),
        (1, 20, 4, 300),
        (2, 10, 1, 2),
        (3, 4, 2, 9),
        (3, 20, 4, 0),
        (6, 4, 2, 7),
    ];
    for &(layer, off, size, v) in cases {
        let mut f = b.clone();
        let at = lt + 24 * layer + off;
        f[at..at + size].copy_from_slice(&v.to_le_bytes()[..size]);
        fix_crc(&mut f);
        assert!(Model::parse(&f).is_err(), "layer {layer} +{off} = {v:#x} parsed");
    }
}

/// Writes the fuzz seed corpus (valid blobs covering every feature) to `runtime/fuzz/seeds/parse_and_step/`:
/// `cargo test -p diffq-runtime --features std --test suite -- --ignored write_fuzz_seeds`.
#[test]
#[ignore]
fn write_fuzz_seeds() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/seeds/parse_and_step");
    std::fs::create_dir_all(dir).unwrap();
    let mut r = rng(0x5EED5);
    let mut seeds = vec![("rich_int", rich_blob()), ("golden_v4", crate::golden::golden_blob())];
    for v in ["v3", "v1"] {
        seeds.push((
            if v == "v3" { "golden_v3" } else { "golden_v1" },
            std::fs::read(format!("{}/tests/golden/{v}_small.bin", env!("CARGO_MANIFEST_DIR"))).unwrap(),
        ));
    }
    let f32_graph = [
        L::Conv {
            w: W::F32(rand_vec(&mut r, 8 * 2 * 8, 0.5)),
            b: Bias::F16(rand_vec(&mut r, 8, 0.1)),
            cin: 8,
            cout: 8,
            k: 2,
            d: 3,
        },
        L::Tanh,
        L::Linear { w: W::F16(rand_vec(&mut r, 4 * 8, 0.5)), b: Bias::F32(rand_vec(&mut r, 4, 0.1)), cin: 8, cout: 4 },
    ];
    seeds.push(("plain_f32_f16", writer(8, &f32_graph).finish().unwrap()));
    let wide = [
        L::Conv {
            w: W::Packed(Q::random(&mut r, 8 * 16 * 8, 8, Bits::Var(1, 15))),
            b: Bias::None,
            cin: 8,
            cout: 8,
            k: 16,
            d: 17,
        },
        L::Relu,
        L::Linear { w: W::Packed(Q::random(&mut r, 2 * 8, 8, Bits::Fixed(15))), b: Bias::None, cin: 8, cout: 2 },
        L::Sigmoid,
    ];
    seeds.push(("k16_bits1to15", writer(8, &wide).finish().unwrap()));
    let calib = IntCalibration { input_scale: 0.02, out_scales: vec![0.1, 0.1, 0.05, 0.008] };
    seeds.push(("k16_bits1to15_int", writer(8, &wide).finish_with_int(&calib).unwrap()));
    let tiny = [L::Linear { w: W::Packed(Q::random(&mut r, 8, 8, Bits::Fixed(1))), b: Bias::None, cin: 8, cout: 1 }];
    seeds.push(("tiny_1bit", writer(8, &tiny).finish().unwrap()));
    for (name, b) in seeds {
        Model::parse(&b).unwrap();
        std::fs::write(format!("{dir}/{name}.bin"), b).unwrap();
    }
}

/// The row-pair layout fields (tensor entry bytes 3 and 6..8) are validated: an unknown layout,
/// a row length that is not whole groups or not the layer's row, and a pair tensor in a
/// version-1 blob are errors.
#[test]
fn bad_layout_fields_are_errors() {
    // The writer picks the oldest version that holds the blob.
    let (layers, _) = rich_layers();
    let f32_only = writer(16, &layers).finish().unwrap();
    assert_eq!(u16::from_le_bytes([f32_only[4], f32_only[5]]), 2, "a row-pair tensor makes the blob version 2");
    let b = rich_blob();
    assert_eq!(u16::from_le_bytes([b[4], b[5]]), 4, "integer constants make it version 4");
    let e = 64; // tensor 0: the paired conv weight
    assert_eq!((b[e + 3], u16::from_le_bytes([b[e + 6], b[e + 7]])), (1, 48));
    let cases: [(u16, Option<u8>); 6] = [(0, None), (40, None), (96, None), (16, None), (48, Some(2)), (48, Some(0))];
    for (row_len, layout) in cases {
        let mut f = b.clone();
        set_u16(&mut f, e + 6, row_len);
        if let Some(l) = layout {
            f[e + 3] = l;
        }
        fix_crc(&mut f);
        assert!(Model::parse(&f).is_err(), "row_len {row_len}, layout {layout:?}");
    }
    let mut f = b.clone();
    set_u16(&mut f, 4, 1);
    fix_crc(&mut f);
    assert_eq!(
        Model::parse(&f).unwrap_err(),
        Error::VersionMismatch { version: 1, part: diffq_runtime::Part::Tensor(0) }
    );
    // The f16 bias (tensor 1 of the f32-only blob: v4 keeps no bias tensor beside integer
    // constants) must keep both fields zero.
    let mut f = f32_only.clone();
    f[e + 32 + 3] = 1;
    fix_crc(&mut f);
    assert!(Model::parse(&f).is_err());
}
