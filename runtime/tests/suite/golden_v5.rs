//! Pins format v5: a small fixed graph written by `GraphWriter` must be byte-identical to
//! `tests/golden/v5_small.bin` (hex dump beside it, `v5_small.hex`), and its header, front end,
//! node table, operand list and arena plan are decoded here by hand from FORMAT.md,
//! independently of `diffq_runtime::format`.
//!
//! A deliberate format change regenerates the files with
//! `UPDATE_GOLDEN=1 cargo test -p diffq-runtime --features std golden_v5`.

use crate::common::{f32_at, u16_at, u32_at};
use diffq_runtime::format::Act;
use diffq_runtime::writer::{ConvSpec, GraphCalibration, GraphWriter};
use diffq_runtime::Model;

const BIN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/v5_small.bin");
const HEX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/v5_small.hex");

/// 128 features → linear(128→8, 2..5 bits, f16 bias, relu) = v1 → conv1d(8→8, k2, 3 bits) = v2
/// → add(v2, v1) = v3 → concat(v3, v1) = v4 → linear(16→4, 4 bits, f32 bias, sigmoid) = v5, with
/// integer constants.
pub fn golden_v5_blob() -> Vec<u8> {
    let mut w = GraphWriter::new(crate::graphs::scores());
    let bits0: Vec<u8> = (0..32).map(|g| [2, 3, 4, 5][g % 4]).collect();
    let lv0: Vec<u16> = (0..1024).map(|i| ((i * 7 + 3) % (1usize << bits0[i / 32])) as u16).collect();
    let t0 = w.packed_tensor_in(diffq_runtime::format::Layout::Rows, &lv0, &bits0, 32, (-0.5, 0.75)).unwrap();
    let b0 = w.f16_tensor(&(0..8).map(|n| 0.25 * n as f32 - 1.0).collect::<Vec<_>>()).unwrap();
    let v1 = w.linear(w.input(), t0, Some(b0), 8, Act::Relu).unwrap();
    let lv1: Vec<u16> = (0..128).map(|i| (i % 8) as u16).collect();
    let t1 = w.packed_tensor_in(diffq_runtime::format::Layout::Rows, &lv1, &[3; 16], 8, (-1.0, 1.0)).unwrap();
    let spec = ConvSpec { out_c: 8, kernel: 2, dilation: 1, groups: 1, act: Act::None };
    let v2 = w.conv1d(v1, t1, None, spec).unwrap();
    let v3 = w.add(v2, v1).unwrap();
    let v4 = w.concat(&[v3, v1]).unwrap();
    let lv2: Vec<u16> = (0..64).map(|i| (i * 5 % 16) as u16).collect();
    let t2 = w.packed_tensor_in(diffq_runtime::format::Layout::Rows, &lv2, &[4; 4], 16, (-0.25, 0.5)).unwrap();
    let b2 = w.f32_tensor(&[0.5, -0.5, 0.125, 0.0]).unwrap();
    w.linear(v4, t2, Some(b2), 4, Act::Sigmoid).unwrap();
    let calib = GraphCalibration {
        input_scale: 1.0 / 64.0,
        out_scales: vec![0.05, 0.05, 0.08, 0.08, 1.0 / 127.0],
        pre_act_scales: vec![0.0, 0.0, 0.0, 0.0, 0.06],
    };
    w.finish_with_int(&calib).unwrap()
}

fn hex_dump(b: &[u8]) -> String {
    let mut s = String::new();
    for (i, line) in b.chunks(16).enumerate() {
        let hex: Vec<String> = line.iter().map(|x| format!("{x:02x}")).collect();
        s += &format!("{:08x}  {}\n", i * 16, hex.join(" "));
    }
    s
}

#[test]
fn golden_bytes_pin_format_v5() {
    let blob = golden_v5_blob();
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(BIN, &blob).unwrap();
        std::fs::write(HEX, hex_dump(&blob)).unwrap();
    }
    let pinned = std::fs::read(BIN).expect("tests/golden/v5_small.bin missing (UPDATE_GOLDEN=1 writes it)");
    assert_eq!(hex_dump(&blob), std::fs::read_to_string(HEX).unwrap(), "hex dump out of date");
    assert!(blob == pinned, "the writer's bytes changed: format v5 is pinned (see module doc)");
}

#[test]
fn golden_v5_fields_match_format_md() {
    let b = std::fs::read(BIN).unwrap();
    // Header.
    assert_eq!(&b[0..4], b"DQEM");
    assert_eq!((u16_at(&b, 4), u16_at(&b, 6), u32_at(&b, 8) as usize), (5, 1, b.len()));
    let mut zeroed = b.clone();
    zeroed[12..16].fill(0);
    assert_eq!(u32_at(&b, 12), crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC).checksum(&zeroed), "whole-blob CRC");
    // Three tensors: the biases live in the integer constants.
    let (nt, nn) = (usize::from(u16_at(&b, 16)), usize::from(u16_at(&b, 18)));
    assert_eq!((nt, nn, u16_at(&b, 20), u16_at(&b, 22)), (3, 5, 128, 4));
    assert_eq!((u32_at(&b, 24), u32_at(&b, 28) as usize), (80, 80 + 32 * nt));
    // Arena: v0 [0,128) live at steps 0..1; v1 at 128 (read until step 4); v2 at 0; v3 at 8;
    // v4 (16) at 16; v5 at 0: the largest end is 136. State: the conv's ring of 2 frames of 8.
    assert_eq!([u32_at(&b, 32), u32_at(&b, 36), u32_at(&b, 40), u32_at(&b, 44)], [136, 16, 136, 16]);
    assert_eq!(f32_at(&b, 48), 1.0 / 64.0);
    assert_eq!((u16_at(&b, 52), u16_at(&b, 54)), (4, 1));
    assert!(b[56..64].iter().all(|&x| x == 0));
    // Front end: 8 kHz, frames of 256, hop 128, FFT 256, window 0, log power, 128 bands, scores.
    let fe = &b[64..80];
    assert_eq!((u16_at(fe, 0), u16_at(fe, 2), u16_at(fe, 4), u16_at(fe, 6)), (8000, 256, 128, 256));
    assert_eq!((fe[8], fe[9], u16_at(fe, 10), fe[12], fe[13], u16_at(fe, 14)), (0, 0, 128, 2, 0, 0xFFFF));
    // Nodes: op, act, n_in, operands, out_c, kernel_t, dilation, groups, arena_offset.
    let nodes = 80 + 32 * nt;
    let want: [(u8, u8, u8, u16, u16, u8, u16, u16, u32); 5] = [
        (2, 1, 1, 0xFFFF, 8, 1, 1, 1, 128),
        (1, 0, 1, 0xFFFF, 8, 2, 1, 1, 0),
        (6, 0, 2, 0, 8, 0, 0, 0, 8),
        (8, 0, 2, 2, 16, 0, 0, 0, 16),
        (2, 2, 1, 0xFFFF, 4, 1, 1, 1, 0),
    ];
    let mut int_bytes = 0;
    for (i, w) in want.iter().enumerate() {
        let e = &b[nodes + 40 * i..nodes + 40 * (i + 1)];
        let got = (e[0], e[1], e[2], u16_at(e, 4), u16_at(e, 6), e[18], u16_at(e, 20), u16_at(e, 22), u32_at(e, 36));
        assert_eq!(&got, w, "node {i}");
        assert_eq!(
            (u16_at(e, 8), u16_at(e, 12), u16_at(e, 14), u16_at(e, 16)),
            (1, 0xFFFF, 0xFFFF, 0xFFFF),
            "node {i}"
        );
        assert!(e[3] == 0 && e[19] == 0 && e[24..28].iter().all(|&x| x == 0), "node {i}");
        // Integer constants: 68 + 2·out (+ 4 + 256 for the fused sigmoid), add 12, concat 4 + 4·2.
        int_bytes += [68 + 16, 68 + 16, 12, 12, 68 + 8 + 260][i];
    }
    let operands = nodes + 40 * nn;
    let list: Vec<u16> = (0..4).map(|k| u16_at(&b, operands + 2 * k)).collect();
    assert_eq!(list, [2, 1, 3, 1]);
    // The data area: the three tensors' tables and levels, then the constants.
    let tensors: usize = (0..nt).map(|t| u32_at(&b, 80 + 32 * t + 28) as usize + [8, 0, 0][t]).sum();
    assert_eq!(operands + 8 + tensors + int_bytes, b.len());
    // The add's constants: m_a = round(0.05/0.08·2^S), m_b the same, S the largest under 2^22.
    let add = u32_at(&b, nodes + 40 * 2 + 32) as usize;
    let s = b[add];
    assert_eq!(&b[add + 1..add + 4], &[0, 0, 0]);
    let m = (0.05f64 / 0.08 * f64::from(s).exp2()).round() as u32;
    assert_eq!((u32_at(&b, add + 4), u32_at(&b, add + 8)), (m, m));
    assert!(f64::from(m) < f64::from(1u32 << 22) && f64::from(2 * m) >= f64::from(1u32 << 22), "S = {s}");
    Model::parse(&b).unwrap();
}
