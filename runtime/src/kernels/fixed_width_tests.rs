//! The fixed-width kernels against the mixed-width ones (features `fixed-1` … `fixed-8`): the
//! integer path gives bit-identical results either way, so a build without those kernels runs
//! the same tensors to the same outputs; the f32 path refuses them without the feature.

extern crate std;

use super::matvec_f32;
use super::test_util::{OwnedPacked, Rng};
use crate::format::Weights;

/// Both kernels linked (and group sizes other than 64), to compare them.
#[cfg(all(feature = "fixed-width-kernels", feature = "any-group-size"))]
mod both {
    use super::super::matvec_i8;
    use super::super::test_util::{OwnedPacked, OwnedParams, Rng};
    use crate::format::{Packed, Weights};
    use std::vec;
    use std::vec::Vec;

    /// `p` as a mixed-width tensor whose groups all have `p`'s width: a one-bit table of zeros
    /// (the same levels; the kernels dispatch on the table, so this takes the mixed-width path).
    fn as_mixed<'a>(p: Packed<'a>, zeros: &'a [u8]) -> Packed<'a> {
        Packed { bits_width: 1, bits_table: zeros, ..p }
    }

    #[test]
    fn fixed_width_tensors_give_the_same_integers_on_the_mixed_kernel() {
        let mut rng = Rng::new(7);
        for bits in 1..=8u8 {
            for (gs, in_len, out_len, k) in
                [(64, 128, 6, 3), (16, 48, 5, 1), (64, 64, 7, 2), (64, 64, 37, 1), (16, 96, 70, 1)]
            {
                let t = OwnedPacked::random(&mut rng, out_len * k * in_len, gs, &[bits], -0.6, 0.8);
                assert_eq!(t.packed().fixed_bits(), Some(bits));
                let c = OwnedParams::new(t.min, t.max, &rng.f32s(out_len, 0.5), 1.0 / 64.0, 1.0 / 32.0);
                let xs: Vec<Option<Vec<i8>>> =
                    (0..k).map(|j| if j == 0 && k > 1 { None } else { Some(rng.i8s(in_len)) }).collect();
                let taps: Vec<Option<&[i8]>> = xs.iter().map(|x| x.as_deref()).collect();
                let zeros = vec![0u8; t.packed().n_groups().div_ceil(8)];
                let (mut fixed, mut mixed) = (vec![0i8; out_len], vec![0i8; out_len]);
                matvec_i8(&Weights::Packed(t.packed()), &c.params(), &taps, in_len, &mut fixed).unwrap();
                let m = as_mixed(t.packed(), &zeros);
                matvec_i8(&Weights::Packed(m), &c.params(), &taps, in_len, &mut mixed).unwrap();
                assert_eq!(fixed, mixed, "{bits} bits, group size {gs}");
                assert!(fixed.iter().any(|&v| v != 0), "{bits} bits: an all-zero output proves nothing");
            }
        }
    }

    /// Rows longer than the fixed-width kernel's i32 two-row sums hold (`fits_i32` false: here
    /// −128 · 15 per MAC over 2^20 + 2^17 inputs, below −2^31) run on the general kernel's i64 sums: each output
    /// has the sign of the exact sum, as the format's formula gives it in i64.
    #[test]
    fn fixed_width_rows_too_long_for_i32_sums_stay_exact() {
        let in_len = (1 << 20) + (1 << 17);
        let mut t = OwnedPacked::random(&mut Rng::new(9), 2 * in_len, 64, &[4], 0.0, 1.0);
        t.levels.fill(15);
        t.data.fill(0xFF);
        let c = OwnedParams::new(t.min, t.max, &[0.0, 0.0], 1.0, 1.0);
        let p = c.params();
        let x = vec![-128i8; in_len];
        let mut y = vec![0i8; 2];
        matvec_i8(&Weights::Packed(t.packed()), &p, &[Some(&x)], in_len, &mut y).unwrap();
        let sum = -128 * 15 * in_len as i64;
        let want = p.requant(p.bias_at(0) + p.m_min as i64 * -128 * in_len as i64 + p.m(4) * sum);
        assert!(sum < i64::from(i32::MIN));
        assert_eq!(y, vec![want; 2]);
        assert_ne!(want, 0, "a zero output proves nothing");
    }
}

#[test]
fn the_f32_path_runs_fixed_width_tensors_only_with_their_kernels() {
    let mut rng = Rng::new(8);
    let t = OwnedPacked::random(&mut rng, 4 * 64, 64, &[3], -0.6, 0.8);
    let x = rng.f32s(64, 1.0);
    let mut y = [0.0f32; 4];
    let r = matvec_f32(&Weights::Packed(t.packed()), None, &[Some(&x)], 64, &mut y);
    if cfg!(feature = "fixed-3") {
        assert_eq!(r, Ok(()));
        assert!(y.iter().any(|&v| v != 0.0));
    } else {
        assert_eq!(r, Err(crate::Error::MissingFeature(crate::Feature::Fixed3)));
    }
}

/// Fixed 1- and 2-bit linear tensors of many short rows run on tables of sums
/// (`nibble_table_f32`): each output is, bit for bit, the documented order of f32 operations
/// (written out input by input by `nibble_order_sum`), and within rounding of the format's
/// formula in f64; rows of one to four packed words, odd row counts. The tensors run one after
/// the other through one table room (as the products of a model step do), the longest rows
/// first: entries of an earlier product never leak into a later one's sums.
#[cfg(all(feature = "fixed-1", feature = "fixed-2"))]
#[test]
fn short_one_and_two_bit_rows_add_their_nibbles_sums_in_order() {
    use super::matvec_f32_in;
    use super::nibble_table_f32::{tables_fit, Tables};
    use super::test_util::nibble_order_sum;
    let mut rng = Rng::new(10);
    let mut tables = Tables::new();
    for bits in [1u8, 2] {
        for (in_len, rows) in [(96, 20), (64, 16), (48, 257), (32, 17), (16, 33)] {
            let fits = if bits == 1 { tables_fit::<1>(in_len, 1, rows) } else { tables_fit::<2>(in_len, 1, rows) };
            if !fits {
                // Whole words: at 2 bits 16 inputs each, at 1 bit 32 (here 16 and 48 inputs).
                assert!(bits == 1 && in_len % 32 != 0 || bits == 2 && in_len > 64, "{bits} bits, in {in_len}");
                continue;
            }
            let t = OwnedPacked::random(&mut rng, rows * in_len, 8, &[bits], -0.6, 0.8);
            let x = rng.f32s(in_len, 1.0);
            let mut y = std::vec![0.0f32; rows];
            matvec_f32_in(&Weights::Packed(t.packed()), None, &[Some(&x)], in_len, &mut y, &mut tables).unwrap();
            let scale = crate::quant::scale_for_bits(t.min, t.max, bits);
            let min_term = t.min * x.iter().sum::<f32>();
            for (n, &got) in y.iter().enumerate() {
                let at = n * in_len;
                let exact: f64 = x.iter().enumerate().map(|(i, xv)| f64::from(*xv) * t.weight(at + i)).sum();
                let s = nibble_order_sum(&x, bits, |i| t.level(at + i).0);
                let want = s * scale + min_term;
                assert_eq!(got.to_bits(), want.to_bits(), "{bits} bits, in {in_len}, row {n}");
                assert!((f64::from(got) - exact).abs() < 1e-4 * (1.0 + exact.abs()), "{got} vs {exact}");
            }
        }
    }
    // The level-table way: a conv's taps, few rows, rows past 32 nibbles or of part words, 3 bits.
    assert!(!tables_fit::<2>(48, 3, 257) && !tables_fit::<2>(48, 1, 15) && !tables_fit::<2>(40, 1, 257));
    assert!(!tables_fit::<2>(80, 1, 257) && tables_fit::<1>(128, 1, 257) && !tables_fit::<3>(16, 1, 257));
}
