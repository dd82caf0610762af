//! Unit tests of the integer building blocks: tables, exact multiplies, leading zeros, log2,
//! and the conversion of the model's scales.

use super::fft;
use super::tables::{FixedSize, LOG2_Q16};
use super::tests::{check_twiddles, q31_window, Rng};
use super::*;
use crate::dsp::{window_value, Narrowband, FRAME, HOP, N_FEATURES};
use std::vec::Vec;

#[test]
fn tables_match_float() {
    for n in 0..FRAME {
        assert!((q31_window(n) - window_value::<Narrowband>(n) as f64).abs() <= 1e-7, "window {n}");
    }
    check_twiddles::<Narrowband>();
    for (i, r) in Narrowband::bitrev().iter().enumerate() {
        assert_eq!(*r as u32, (i as u32).reverse_bits() >> 25);
    }
    for (i, l) in LOG2_Q16.iter().enumerate() {
        assert!((*l as f64 / 65536.0 - (1.0 + i as f64 / 32.0).log2()).abs() < 1e-5);
    }
    for x in [0u32, 1, 2, 3, 0xFFFF, 0x1_0000, 0x7FFF_FFFF, 0x8000_0000, u32::MAX, 12345678] {
        assert_eq!(super::clz32_by_search(x), x.leading_zeros(), "{x}");
        assert_eq!(super::clz32(x), x.leading_zeros(), "{x}");
    }
    for b in 0..32 {
        assert_eq!(super::clz32_by_search(1 << b), 31 - b);
        assert_eq!(super::clz32_by_search((1u32 << b) | 1), 31 - b);
    }
    for x in [
        1u64,
        2,
        3,
        109951,
        1 << 31,
        1 << 32,
        (1 << 32) + 1,
        0x1_8000_0000,
        1 << 40,
        (1 << 40) + 12345,
        u64::MAX,
        0x1234_5678_9abc,
    ] {
        let got = log2_q16(x) as f64 / 65536.0;
        assert!((got - (x as f64).log2()).abs() < 2.5e-4, "log2({x}) = {got}");
    }
}

#[test]
fn multiplies_by_halves_are_exact() {
    let mut rng = Rng(99);
    let edges =
        [i32::MIN, i32::MIN + 1, -65536, -65535, -32769, -32768, -1, 0, 1, 0xFFFF, 0x10000, i32::MAX - 1, i32::MAX];
    let randoms: Vec<i32> = (0..2000).map(|_| (rng.next() * 2147483648.0) as i32).collect();
    for a in edges.iter().chain(&randoms) {
        for b in edges.iter().chain(randoms.iter().take(200)) {
            let p = i64::from(*a) * i64::from(*b);
            assert_eq!(fft::wide_mul_by_halves(*a, *b), p, "{a}·{b}");
            assert_eq!(fft::mulh_by_halves(*a, *b), (p >> 32) as i32, "{a}·{b}");
            assert_eq!(fft::mulh(*a, *b), (p >> 32) as i32);
            assert_eq!(fft::wide_mul(*a, *b), p);
        }
    }
}

#[test]
fn scales_convert_once_without_floats() {
    for scale in [0.12f32, 0.05, 0.2, 1.0, 3.5, 1e-3, 0.0123456] {
        let fe = FixedFrontEnd::new(scale, scale);
        let want = core::f64::consts::LN_2 / scale as f64;
        let (m, k) = super::log_multiplier(scale);
        let got = m as f64 / (k as f64).exp2();
        assert!(m >= 1 << 30 && ((got - want) / want).abs() < 1e-9, "{scale}: {got} vs {want}");
        assert_eq!((fe.log_mul, fe.q_shift), (m, k - 6));
        let want = (scale as f64 * 8388608.0).round().min(8388608.0) as i32;
        assert!((fe.gain_mul - want).abs() <= 1, "{scale}: {} vs {want}", fe.gain_mul);
        assert_eq!(FixedFrontEnd::new(scale, -scale).gain_mul, -fe.gain_mul);
    }
    let fe = FixedFrontEnd::new(0.12, 1.0 / 127.0);
    assert_eq!(fe.gain_mul, 66052);
    for bad in [0.0f32, -0.12, f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        assert_eq!(FixedFrontEnd::new(bad, 1.0).log_mul, 0, "{bad}");
    }
    for tiny in [1e-30f32, f32::from_bits(1)] {
        let fe = FixedFrontEnd::new(tiny, 1.0);
        assert_eq!((fe.log_mul, fe.q_shift), (i32::MAX, 1), "{tiny}");
        assert_eq!(super::log_multiplier(tiny), (i32::MAX, 0));
    }
    let huge = FixedFrontEnd::new(1e30, 1e30);
    assert!(huge.log_mul >= 1 << 30 && huge.q_shift == 31);
    // Tiny scales saturate every feature but ln(1) = 0; huge ones give 0.
    let h: [i16; HOP] = core::array::from_fn(|i| (i as i16 - 64) * 100);
    let mut q = [0i8; N_FEATURES];
    let mut tiny = FixedFrontEnd::new(1e-30, 1.0);
    tiny.analyze(&h);
    tiny.features(&mut q);
    assert!(q.iter().all(|v| v.abs() == 127), "{q:?}");
    let mut huge = FixedFrontEnd::new(1e30, 1.0);
    huge.analyze(&h);
    huge.features(&mut q);
    assert!(q.iter().all(|v| *v == 0), "{q:?}");
    assert_eq!(FixedFrontEnd::new(1.0, 1e30).gain_mul, 1 << 23);
    assert_eq!(FixedFrontEnd::new(1.0, f32::NAN).gain_mul, 0);
    assert_eq!(FixedFrontEnd::new(1.0, 1e-30).gain_mul, 0);
    let mut fe = fe;
    fe.reset();
    assert_eq!(fe.gain_mul, 66052);
}
