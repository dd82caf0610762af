//! The mixed-width matrix-vector paths against each other and the format's formula: the
//! per-width bodies (a run-time number of 8-level chunks per group, and group sizes 64, 48 and 96
//! fully unrolled) give what the any-width bodies give (i8: the same sums; f32: the same bits, as the
//! terms are added in the same order) and what FORMAT.md's formula gives (i8: exactly, in i64;
//! f32: within rounding of an f64 reference), for every width 1..=8 and group sizes 8 to 64 and 96, in
//! rows, row pairs (group sizes of a multiple of 16, inputs of a multiple of half of it; odd
//! row counts: a lone last row) and lane pairs (groups of a multiple of 64), linear and conv (3
//! taps, the first before the stream start).

extern crate std;
use std::format;
use std::string::String;
use std::vec::Vec;

use super::matvec_f32::rows_var_f32;
use super::matvec_i8::rows_var_i8;
use super::nibble_table_f32::{Tables, TABLE_MIN_ROWS};
use super::shape::{FAST_GROUP_SIZE, LONG_GROUP_SIZE, SHORT_GROUP_SIZE};
use super::test_util::{nibble_order_sum, random_taps_f32, OwnedPacked, OwnedParams, Rng};
use crate::quant::scale_for_bits;

const GROUP_SIZES: [usize; 9] = [8, 16, 24, 32, 40, 48, 64, 96, 128];
/// The group sizes with unrolled bodies.
const UNROLLED: [usize; 3] = [FAST_GROUP_SIZE, SHORT_GROUP_SIZE, LONG_GROUP_SIZE];

/// One random layer of `k` taps of `in_len` inputs and `out` rows.
struct Layer {
    t: OwnedPacked,
    k: usize,
    in_len: usize,
    out: usize,
    what: String,
}

/// For every group size and width `b` 1..=8: layers whose groups mix `b` with other widths up to
/// 8 bits, in both layouts, with one tap and with three.
fn layers(rng: &mut Rng) -> Vec<Layer> {
    let mut all = Vec::new();
    for gs in GROUP_SIZES {
        for b in 1..=8u8 {
            // Row pairs need segments of whole chunks (FORMAT.md: groups of a multiple of 16).
            // Layouts: 0 rows, 1 row pairs, 2 lane pairs (groups of a multiple of 64).
            let modes = [(1, 0), (1, 1), (1, 2), (3, 0), (3, 1), (3, 2)];
            for (k, mode) in modes.into_iter().filter(|&(_, m)| m == 0 || gs % [8, 16, 64][m] == 0) {
                let pairs = mode > 0;
                // A row-pair group covers half its size of each row's inputs; a lone last row
                // (odd row counts) is whole groups only where the group divides a row.
                let unit = if pairs { gs / 2 } else { gs };
                let in_len = unit * (1 + rng.below(3));
                let out = if (k * in_len) % gs == 0 { 1 + rng.below(7) } else { 2 * (1 + rng.below(3)) };
                let widths = [b, b, b % 8 + 1, 1 + rng.below(8) as u8];
                let t = OwnedPacked::random(rng, out * k * in_len, gs, &widths, -0.7, 0.9);
                let t = match mode {
                    1 => t.paired(k * in_len),
                    2 => t.lane_paired(k * in_len),
                    _ => t,
                };
                let what = format!("group {gs}, width {b}, {k} taps, in {in_len}, out {out}, layout {mode}");
                all.push(Layer { t, k, in_len, out, what });
            }
        }
    }
    all
}

#[test]
fn i8_chunked_bodies_equal_the_any_width_body_and_the_formula() {
    let mut rng = Rng::new(31);
    for l in layers(&mut rng) {
        let n = l.k * l.in_len;
        let bias = rng.f32s(l.out, 0.5);
        let c = OwnedParams::new(l.t.min, l.t.max, &bias, 1.0 / 127.0, 0.01 * (n as f64).sqrt());
        let p = c.params();
        let taps: Vec<Option<Vec<i8>>> = (0..l.k).map(|j| (l.k == 1 || j > 0).then(|| rng.i8s(l.in_len))).collect();
        let tap_refs: Vec<Option<&[i8]>> = taps.iter().map(|t| t.as_deref()).collect();
        let sum_q: i64 = taps.iter().flatten().flatten().map(|&v| i64::from(v)).sum();
        let min_term = i64::from(p.m_min) * sum_q;
        let packed = l.t.packed();
        let run = |fast: bool, unrolled: usize| {
            let mut y = std::vec![0i8; l.out];
            let args = (&packed, &p, &tap_refs[..], l.in_len, min_term);
            match unrolled {
                FAST_GROUP_SIZE => rows_var_i8::<FAST_GROUP_SIZE, { FAST_GROUP_SIZE / 2 }>(
                    args.0, args.1, args.2, args.3, args.4, &mut y, fast,
                ),
                SHORT_GROUP_SIZE => rows_var_i8::<SHORT_GROUP_SIZE, { SHORT_GROUP_SIZE / 2 }>(
                    args.0, args.1, args.2, args.3, args.4, &mut y, fast,
                ),
                LONG_GROUP_SIZE => rows_var_i8::<LONG_GROUP_SIZE, { LONG_GROUP_SIZE / 2 }>(
                    args.0, args.1, args.2, args.3, args.4, &mut y, fast,
                ),
                _ => rows_var_i8::<0, 0>(args.0, args.1, args.2, args.3, args.4, &mut y, fast),
            }
            .unwrap();
            y
        };
        let want: Vec<i8> = (0..l.out)
            .map(|r| {
                let mut acc = p.bias_at(r) + min_term;
                for (j, tap) in taps.iter().enumerate() {
                    let Some(x) = tap else { continue };
                    for (i, &xv) in x.iter().enumerate() {
                        let (level, b) = l.t.level((r * l.k + j) * l.in_len + i);
                        acc += p.m(b) * i64::from(xv) * i64::from(level);
                    }
                }
                p.requant(acc)
            })
            .collect();
        assert_eq!(run(false, 0), want, "any-width body, {}", l.what);
        assert_eq!(run(true, 0), want, "chunked bodies, {}", l.what);
        if UNROLLED.contains(&l.t.group_size) {
            assert_eq!(run(true, l.t.group_size), want, "unrolled bodies, {}", l.what);
        }
    }
}

#[test]
fn f32_chunked_bodies_equal_the_any_width_body_bit_for_bit() {
    let mut rng = Rng::new(32);
    for l in layers(&mut rng) {
        let taps = random_taps_f32(&mut rng, l.k, l.in_len, l.k > 1);
        let tap_refs: Vec<Option<&[f32]>> = taps.iter().map(|t| t.as_deref()).collect();
        let packed = l.t.packed();
        let run = |fast: bool, unrolled: usize| {
            let mut y = std::vec![0f32; l.out];
            match unrolled {
                FAST_GROUP_SIZE => {
                    rows_var_f32::<FAST_GROUP_SIZE>(&packed, &tap_refs, l.in_len, &mut y, fast, &mut Tables::new())
                }
                SHORT_GROUP_SIZE => {
                    rows_var_f32::<SHORT_GROUP_SIZE>(&packed, &tap_refs, l.in_len, &mut y, fast, &mut Tables::new())
                }
                LONG_GROUP_SIZE => {
                    rows_var_f32::<LONG_GROUP_SIZE>(&packed, &tap_refs, l.in_len, &mut y, fast, &mut Tables::new())
                }
                _ => rows_var_f32::<0>(&packed, &tap_refs, l.in_len, &mut y, fast, &mut Tables::new()),
            }
            .unwrap();
            y.iter().map(|v| v.to_bits()).collect::<Vec<u32>>()
        };
        let reference = run(false, 0);
        assert_eq!(run(true, 0), reference, "chunked bodies, {}", l.what);
        if UNROLLED.contains(&l.t.group_size) {
            assert_eq!(run(true, l.t.group_size), reference, "unrolled bodies, {}", l.what);
        }
        // And the f64 frame, relative to the size of the terms the kernel adds.
        for (r, y) in reference.iter().map(|&v| f64::from(f32::from_bits(v))).enumerate() {
            let (mut exact, mut size) = (0.0f64, 0.0f64);
            for (j, tap) in taps.iter().enumerate() {
                let Some(x) = tap else { continue };
                for (i, &xv) in x.iter().enumerate() {
                    let idx = (r * l.k + j) * l.in_len + i;
                    let (level, b) = l.t.level(idx);
                    exact += l.t.weight(idx) * f64::from(xv);
                    let term =
                        f64::from(l.t.min).abs() + f64::from(level) * f64::from(scale_for_bits(l.t.min, l.t.max, b));
                    size += term * f64::from(xv).abs();
                }
            }
            let err = (y - exact).abs() / size.max(f64::MIN_POSITIVE);
            assert!(err <= 1e-6, "{}: row {r}: {y} vs {exact} (normalised error {err:e})", l.what);
        }
    }
}

/// Row pairs of one group each give the general pair loop's outputs (its any-width reference)
/// bit for bit: runs of every width, odd row counts, and inputs of ±0 (the sign of a zero sum);
/// but for 2-bit pairs of at least `TABLE_MIN_ROWS` rows, which add their nibbles' sums from a
/// table, in the order [`nibble_order_sum`] writes out. The table's room comes filled by an
/// earlier product over more inputs (as in a model step): none of its entries may leak in.
#[test]
fn one_group_pairs_equal_the_general_loop_bit_for_bit() {
    let mut rng = Rng::new(96);
    let seg = LONG_GROUP_SIZE / 2;
    let dirt = rng.f32s(64, 50.0);
    for out in [2usize, 7, 30] {
        for widths in [[1u8, 2, 3, 4], [5, 6, 7, 8], [2, 2, 2, 3], [3, 3, 3, 3]] {
            let t = OwnedPacked::random(&mut rng, out * seg, LONG_GROUP_SIZE, &widths, -0.7, 0.9).paired(seg);
            let p = t.packed();
            let scale2 = scale_for_bits(t.min, t.max, 2);
            for x in [rng.f32s(seg, 1.0), std::vec![-0.0; seg], std::vec![0.0; seg]] {
                let run = |fast: bool| {
                    let mut y = std::vec![0f32; out];
                    let mut tables = Tables::new();
                    tables.fill::<2>(&dirt);
                    rows_var_f32::<LONG_GROUP_SIZE>(&p, &[Some(&x)], seg, &mut y, fast, &mut tables).unwrap();
                    y.iter().map(|v| v.to_bits()).collect::<Vec<u32>>()
                };
                let mut want = run(false);
                let min_term = t.min * x.iter().sum::<f32>();
                for (r, w) in want.iter_mut().enumerate().take(out / 2 * 2) {
                    if out >= TABLE_MIN_ROWS && t.level(r * seg).1 == 2 {
                        let s = nibble_order_sum(&x, 2, |i| t.level(r * seg + i).0);
                        *w = ((0.0 + (0.0 + s) * scale2) + min_term).to_bits();
                    }
                }
                assert_eq!(run(true), want, "{out} rows, widths {widths:?}, inputs {:?}", x.first());
            }
        }
    }
}
