//! Pins format v4: a small fixed model written by `BlobWriter` must be byte-identical to
//! `tests/golden/v4_small.bin` (hex dump beside it, `v4_small.hex`), and every field is also
//! decoded here by hand from FORMAT.md, independently of `diffq_runtime::format`, so the writer, the
//! parser and the document cannot drift apart together. `v3_small.bin` (bias tensors beside
//! the integer constants) and `v1_small.bin` (i64 bias constants) are the same model as the
//! version-3 and version-1 writers wrote it: still read, and still decoded here.
//!
//! A deliberate format change regenerates the v4 files with
//! `UPDATE_GOLDEN=1 cargo test -p diffq-runtime --features std golden` (and needs a new version).

use crate::common::{f32_at, u16_at, u32_at};
use diffq_runtime::quant::scale_for_bits;
use diffq_runtime::writer::{BlobWriter, IntCalibration};
use diffq_runtime::{Model, StateF32, StateI8};

const BIN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/v4_small.bin");
const HEX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/v4_small.hex");
const V3_BIN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/v3_small.bin");
const V1_BIN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/v1_small.bin");

const T0_BITS: [u8; 4] = [2, 3, 4, 5];
const S_X: f32 = 1.0 / 64.0;
const OUT_SCALES: [f32; 4] = [0.05, 0.0, 0.1, 1.0 / 127.0];

fn t0_bits() -> Vec<u8> {
    (0..16).map(|g| T0_BITS[g % 4]).collect()
}
fn t0_levels() -> Vec<u16> {
    let bits = t0_bits();
    (0..256).map(|i| ((i * 7 + 3) % (1usize << bits[i / 16])) as u16).collect()
}
fn t2_levels() -> Vec<u16> {
    (0..32).map(|i| (i % 8) as u16).collect()
}

/// input 16 → conv1d(16→8, k2, d3, variable 2..5 bits, f16 bias) → relu →
/// linear(8→4, fixed 3 bits, f32 bias) → sigmoid, with integer constants.
pub fn golden_blob() -> Vec<u8> {
    let mut w = BlobWriter::new(16);
    let t0 = w.packed_tensor(&t0_levels(), &t0_bits(), 16, -0.5, 0.75).unwrap();
    let t1 = w.f16_tensor(&(0..8).map(|n| 0.25 * n as f32 - 1.0).collect::<Vec<_>>()).unwrap();
    w.conv1d(t0, Some(t1), 16, 8, 2, 3).unwrap();
    w.relu().unwrap();
    let t2 = w.packed_tensor(&t2_levels(), &[3; 4], 8, -1.0, 1.0).unwrap();
    let t3 = w.f32_tensor(&[0.5, -0.5, 0.125, 0.0]).unwrap();
    w.linear(t2, Some(t3), 8, 4).unwrap();
    w.sigmoid().unwrap();
    w.finish_with_int(&IntCalibration { input_scale: S_X, out_scales: OUT_SCALES.to_vec() }).unwrap()
}

fn hex_dump(b: &[u8]) -> String {
    let mut s = String::new();
    for (i, line) in b.chunks(16).enumerate() {
        let hex: Vec<String> = line.iter().map(|x| format!("{x:02x}")).collect();
        s += &format!("{:08x}  {}\n", i * 16, hex.join(" "));
    }
    s
}

/// LSB-first bit reader, written from FORMAT.md alone.
fn bits_at(b: &[u8], bit: usize, n: u8) -> u32 {
    (0..usize::from(n)).map(|k| u32::from(b[(bit + k) / 8] >> ((bit + k) % 8) & 1) << k).sum()
}

#[test]
fn golden_bytes_pin_format_v4() {
    let blob = golden_blob();
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(BIN, &blob).unwrap();
        std::fs::write(HEX, hex_dump(&blob)).unwrap();
    }
    let pinned = std::fs::read(BIN).expect("tests/golden/v4_small.bin missing (UPDATE_GOLDEN=1 writes it)");
    assert_eq!(hex_dump(&blob), std::fs::read_to_string(HEX).unwrap(), "hex dump out of date");
    assert!(blob == pinned, "the writer's bytes changed: format v4 is pinned (see module doc)");
}

#[test]
fn golden_v4_fields_match_format_md() {
    check_fields(&std::fs::read(BIN).unwrap(), 4);
}

#[test]
fn golden_v3_fields_match_format_md() {
    check_fields(&std::fs::read(V3_BIN).unwrap(), 3);
}

/// From v4 a blob with integer constants keeps no bias tensor: the v3 file relabelled v4 is
/// rejected at its first layer with a bias.
#[test]
fn v4_rejects_bias_tensors_beside_integer_constants() {
    let mut b = std::fs::read(V3_BIN).unwrap();
    b[4] = 4;
    let crc = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC).checksum(&b[16..]);
    b[12..16].copy_from_slice(&crc.to_le_bytes());
    let e = diffq_runtime::Error::VersionMismatch { version: 4, part: diffq_runtime::Part::Layer(0) };
    assert_eq!(Model::parse(&b).unwrap_err(), e);
}

fn run_golden(b: &[u8]) -> (Vec<f32>, Vec<i8>) {
    let m = Model::parse(b).unwrap();
    let (mut a, mut s, mut ai, mut si) = (vec![0.0f32; 32], vec![0.0f32; 64], vec![0i8; 32], vec![0i8; 64]);
    let (mut st, mut sti) = (StateF32::new(&mut s), StateI8::new(&mut si));
    let (mut outs, mut outs_i) = (Vec::new(), Vec::new());
    for t in 0..16 {
        let x: Vec<f32> = (0..16).map(|i| ((i * 5 + t) % 11) as f32 * 0.15 - 0.7).collect();
        let (mut y, mut yi) = ([0.0f32; 4], [0i8; 4]);
        m.step_f32(&mut st, &mut a, &x, &mut y).unwrap();
        m.step_i8(&mut sti, &mut ai, &crate::common::quantize_input(&x, S_X), &mut yi).unwrap();
        outs.extend(y);
        outs_i.extend(yi);
    }
    (outs, outs_i)
}

/// A version-1 blob (i64 bias constants) still parses, and both paths give the same outputs
/// as the v3 blob of the same model. The v4 blob's integer path is identical too; its f32 path
/// reads the biases from the i16 constants, within 2^−9 of an output step of the v3 f16/f32 ones.
#[test]
fn golden_v1_fields_match_format_md_and_run_like_v3_and_v4() {
    let v1 = std::fs::read(V1_BIN).unwrap();
    check_fields(&v1, 1);
    let v3 = run_golden(&std::fs::read(V3_BIN).unwrap());
    assert_eq!(run_golden(&v1), v3);
    let v4 = run_golden(&golden_blob());
    assert_eq!(v4.1, v3.1, "integer path");
    let worst = v4.0.iter().zip(&v3.0).fold(0.0f32, |a, (x, y)| a.max((x - y).abs()));
    assert!(worst < 1e-4, "f32 path moved by {worst}");
}

fn check_fields(b: &[u8], version: u16) {
    let b = b.to_vec();
    // v4 keeps the biases in the integer constants only: two tensors instead of four.
    let v4 = version >= 4;
    let nt: usize = if v4 { 2 } else { 4 };
    // Header.
    assert_eq!(&b[0..4], b"DQEM");
    assert_eq!(u16_at(&b, 4), version, "version");
    assert_eq!(u16_at(&b, 6), 1, "flags: HAS_INT");
    assert_eq!(u32_at(&b, 8) as usize, b.len(), "total_len");
    assert_eq!(u32_at(&b, 12), crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC).checksum(&b[16..]), "crc32");
    assert_eq!((usize::from(u16_at(&b, 16)), u16_at(&b, 18), u16_at(&b, 20), u16_at(&b, 22)), (nt, 4, 16, 4));
    assert_eq!((u32_at(&b, 24) as usize, u32_at(&b, 28) as usize), (64, 64 + nt * 32));
    // Arena 2·max width; state (history + 1)·in = (1·3 + 1)·16; the same for the int path.
    assert_eq!((u32_at(&b, 32), u32_at(&b, 36), u32_at(&b, 40), u32_at(&b, 44)), (32, 64, 32, 64));
    assert_eq!(f32_at(&b, 48), S_X);
    assert!(b[52..64].iter().all(|&x| x == 0));
    let data_start = 64 + nt * 32 + 4 * 24;

    // Tensor 0: packed, base 2, table width 2, group 16.
    let t = |i: usize, off: usize| 64 + 32 * i + off;
    assert_eq!(&b[t(0, 0)..t(0, 8)], &[3, 2, 2, 0, 16, 0, 0, 0]);
    assert_eq!((u32_at(&b, t(0, 8)), f32_at(&b, t(0, 12)), f32_at(&b, t(0, 16))), (256, -0.5, 0.75));
    let (bits_off, data_off, data_len) =
        (u32_at(&b, t(0, 20)) as usize, u32_at(&b, t(0, 24)) as usize, u32_at(&b, t(0, 28)) as usize);
    assert_eq!(bits_off, data_start);
    assert_eq!(data_off, bits_off + 4, "16 groups × 2 bits = 4 bytes of table");
    assert_eq!(data_len, (0..16).map(|g| 16 * usize::from(T0_BITS[g % 4]) / 8).sum::<usize>());
    let mut bit = 0;
    let levels = t0_levels();
    for g in 0..16 {
        let bg = 2 + bits_at(&b[bits_off..], 2 * g, 2) as u8;
        assert_eq!(bg, T0_BITS[g % 4]);
        for i in 0..16 {
            assert_eq!(bits_at(&b[data_off..], bit, bg) as u16, levels[g * 16 + i]);
            bit += usize::from(bg);
        }
    }
    assert_eq!(bit, 8 * data_len);
    // Up to v3: tensor 1 the f16 bias, 2 packed fixed 3-bit (no table), 3 the f32 bias. v4:
    // tensor 1 the packed one.
    let t2 = if v4 { 1 } else { 2 };
    if !v4 {
        assert_eq!(&b[t(1, 0)..t(1, 8)], &[2, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!((u32_at(&b, t(1, 8)), u32_at(&b, t(1, 20)), u32_at(&b, t(1, 28))), (8, 0, 16));
        let f16_off = u32_at(&b, t(1, 24)) as usize;
        assert_eq!(half::f16::from_le_bytes([b[f16_off + 2], b[f16_off + 3]]).to_f32(), -0.75);
        assert_eq!(&b[t(3, 0)..t(3, 8)], &[1, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(f32_at(&b, u32_at(&b, t(3, 24)) as usize + 4), -0.5);
    }
    assert_eq!(&b[t(t2, 0)..t(t2, 8)], &[3, 3, 0, 0, 8, 0, 0, 0]);
    assert_eq!((u32_at(&b, t(t2, 8)), u32_at(&b, t(t2, 20)), u32_at(&b, t(t2, 28))), (32, 0, 12));
    let t2_off = u32_at(&b, t(t2, 24)) as usize;
    for (i, &l) in t2_levels().iter().enumerate() {
        assert_eq!(bits_at(&b[t2_off..], 3 * i, 3) as u16, l);
    }

    // Layer table.
    let l = |i: usize, off: usize| 64 + nt * 32 + 24 * i + off;
    let (b0, b2) = if v4 { (0xFFFF, 0xFFFF) } else { (1, 3) };
    let expect: [(u8, u16, u16, u16, u16, u8, u16, u16); 4] = [
        (1, 16, 8, 0, b0, 2, 3, 1),
        (3, 8, 8, 0xFFFF, 0xFFFF, 0, 0, 0),
        (2, 8, 4, t2 as u16, b2, 1, 1, 1),
        (4, 4, 4, 0xFFFF, 0xFFFF, 0, 0, 0),
    ];
    for (i, e) in expect.iter().enumerate() {
        let got = (
            b[l(i, 0)],
            u16_at(&b, l(i, 2)),
            u16_at(&b, l(i, 4)),
            u16_at(&b, l(i, 6)),
            u16_at(&b, l(i, 8)),
            b[l(i, 10)],
            u16_at(&b, l(i, 12)),
            u16_at(&b, l(i, 14)),
        );
        assert_eq!(got, *e, "layer {i}");
        assert_eq!((b[l(i, 1)], b[l(i, 11)]), (0, 0));
        let scale = if i == 1 { OUT_SCALES[0] } else { OUT_SCALES[i] }; // relu keeps its input's scale
        assert_eq!(f32_at(&b, l(i, 16)), scale);
        assert_eq!(u32_at(&b, l(i, 20)) == 0, i == 1, "relu has no integer block");
    }

    // Integer constants of layer 0, recomputed from FORMAT.md's formulas.
    let blk = u32_at(&b, l(0, 20)) as usize;
    // v3: byte 0 the shift S, byte 1 the bias shift L; v1: a u32 S.
    let (shift, lshift) = if version >= 3 { (u32::from(b[blk]), u32::from(b[blk + 1])) } else { (u32_at(&b, blk), 0) };
    assert!((1..=62).contains(&shift) && lshift <= shift);
    if version >= 3 {
        assert_eq!(&b[blk + 2..blk + 4], &[0, 0]);
    }
    let unit = f64::from(shift).exp2();
    let (sx, sy) = (f64::from(S_X), f64::from(OUT_SCALES[0]));
    let m_min = i32::from_le_bytes(b[blk + 4..blk + 8].try_into().unwrap());
    assert_eq!(f64::from(m_min), (sx * -0.5 / sy * unit).round());
    for bits in 1..=15u8 {
        let o = blk + 8 + 4 * usize::from(bits - 1);
        let m = i32::from_le_bytes(b[o..o + 4].try_into().unwrap());
        let want = (sx * f64::from(scale_for_bits(-0.5, 0.75, bits)) / sy * unit).round();
        assert_eq!(f64::from(m), want, "m_bits[{bits}]");
    }
    for n in 0..8 {
        let bias = f64::from(0.25 * n as f32 - 1.0) / sy;
        if version >= 3 {
            let o = blk + 68 + 2 * n;
            let c = i16::from_le_bytes(b[o..o + 2].try_into().unwrap());
            assert_eq!(f64::from(c), (bias * f64::from(shift - lshift).exp2()).round(), "bias c[{n}]");
            if v4 {
                // The f32 path's bias: c·(s_y·2^(L−S)), one f32 multiply.
                let scale = OUT_SCALES[0] * (f64::from(lshift) - f64::from(shift)).exp2() as f32;
                let want = f32::from(c) * scale;
                let got = match Model::parse(&b).unwrap().bias(0).unwrap() {
                    Some(diffq_runtime::format::Bias::ScaledI16 { data, scale }) => {
                        f32::from(i16::from_le_bytes([data[2 * n], data[2 * n + 1]])) * scale
                    }
                    other => panic!("bias of layer 0: {other:?}"),
                };
                assert_eq!(got, want, "f32 bias[{n}]");
                assert!((f64::from(got) - f64::from(0.25 * n as f32 - 1.0)).abs() < 1e-4);
            }
        } else {
            let o = blk + 68 + 8 * n;
            let q = i64::from_le_bytes(b[o..o + 8].try_into().unwrap());
            assert_eq!(q as f64, (bias * unit).round(), "bias_q[{n}]");
        }
    }
    // The sigmoid table: q_y = round(sigmoid(q_x·s_in) / s_out).
    let lut = u32_at(&b, l(3, 20)) as usize;
    for byte in 0..=255u8 {
        let x = f64::from(byte as i8) * f64::from(OUT_SCALES[2]);
        let want = (1.0 / (1.0 + (-x).exp()) / f64::from(OUT_SCALES[3])).round().clamp(-127.0, 127.0);
        assert_eq!(f64::from(b[lut + usize::from(byte)] as i8), want);
    }
    assert_eq!(lut + 256, b.len(), "the last region ends the blob");

    // And the runtime reads it.
    let m = Model::parse(&b).unwrap();
    assert_eq!((usize::from(m.n_tensors()), m.n_layers(), m.macs_per_frame()), (nt, 4, 8 * 2 * 16 + 4 * 8));
    let (mut a, mut s) = (vec![0.0f32; 32], vec![0.0f32; 64]);
    let mut st = StateF32::new(&mut s);
    let mut y = [0.0f32; 4];
    let (mut ai, mut si) = (vec![0i8; 32], vec![0i8; 64]);
    let mut sti = StateI8::new(&mut si);
    let mut yi = [0i8; 4];
    for t in 0..8 {
        let x: Vec<f32> = (0..16).map(|i| ((i * 3 + t) % 7) as f32 * 0.1 - 0.3).collect();
        m.step_f32(&mut st, &mut a, &x, &mut y).unwrap();
        m.step_i8(&mut sti, &mut ai, &crate::common::quantize_input(&x, S_X), &mut yi).unwrap();
        for (f, q) in y.iter().zip(yi) {
            assert!((0.0..=1.0).contains(f));
            assert!((f32::from(q) * OUT_SCALES[3] - f).abs() <= 0.05, "{q} vs {f}");
        }
    }
}

/// The usage example of runtime/README.md, kept compiling and running.
#[test]
fn readme_example() -> Result<(), diffq_runtime::Error> {
    let blob: &[u8] = &golden_blob(); // firmware: `include_bytes!("model.bin")`, read in place
    let model = Model::parse(blob)?; // checks everything, copies nothing
                                     // Buffers sized from the header (a build script can read the same four numbers).
    let mut arena = vec![0.0f32; model.f32_arena_len()];
    let mut state_buf = vec![0.0f32; model.f32_state_len()];
    let mut state = StateF32::new(&mut state_buf);
    let mut out = vec![0.0f32; model.output_len()];
    for t in 0..4 {
        let features: Vec<f32> = (0..model.input_len()).map(|i| (i + t) as f32 * 0.01).collect();
        model.step_f32(&mut state, &mut arena, &features, &mut out)?; // one frame
    }
    // Integer path (no FPU): int8 in, int8 out.
    let mut arena_q = vec![0i8; model.i8_arena_len()];
    let mut state_q_buf = vec![0i8; model.i8_state_len()];
    let mut state_q = StateI8::new(&mut state_q_buf);
    let mut out_q = vec![0i8; model.output_len()];
    let features = vec![0.25f32; model.input_len()];
    let q: Vec<i8> = features
        .iter()
        .map(|&x| diffq_runtime::quant::round(x / model.input_scale()).clamp(-127.0, 127.0) as i8)
        .collect();
    model.step_i8(&mut state_q, &mut arena_q, &q, &mut out_q)?;
    let _y: Vec<f32> = out_q.iter().map(|&v| f32::from(v) * model.output_scale()).collect();
    Ok(())
}
