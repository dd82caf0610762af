//! Dual 16-bit multiply-accumulate and the fixed-point FFT's radix-4 passes for the integer
//! path of `diffq-runtime`, behind a safe API.
//!
//! On Armv7E-M (Cortex-M4, M7) [`smlad`], [`sxtb16`] and [`sxtb16_ror8`] are one instruction each
//! in inline assembly (stable Rust exposes neither the DSP intrinsics nor a pattern LLVM turns
//! into them), runs of lane-pair blocks ([`lane_run_w2_i8`], [`lane_run_w3_i8`],
//! [`lane_run_w4_i8`]; one block: [`lane_block_w2_i8`] …) one loop each, and so are the row
//! pairs of 1-, 2- and 4-bit rows on halfword-paired inputs ([`halves_pairs_w2_i8`] … for a block
//! of pairs, [`halves_rows2_w2_i8`] … for one) and each radix-4
//! pass of the integer FFT ([`radix4_dit_i32`], [`radix4_dif_i32`]: every value in registers,
//! where the compiled Rust spilled), and so is the sum of a layer's int8 inputs ([`sum_i8`], by
//! `USADA8`); elsewhere they are portable Rust computing the same 32-bit
//! results. [`portable`] is always built, so tests compare both: the host runs the portable code,
//! and the firmware built for the M4 and M7 runs the assembly against it (qemu-demo's
//! `simd-test`) and against the host's outputs bit for bit.
#![no_std]
#![deny(unsafe_code)]

#[macro_use]
mod lanes;
mod halves;
pub mod portable;
mod radix4;
mod sums;
pub use halves::{
    halves_pairs_w1_i8, halves_pairs_w2_i8, halves_pairs_w4_i8, halves_rows2_w1_i8, halves_rows2_w2_i8,
    halves_rows2_w4_i8,
};
pub use lanes::{lane_block_w2_i8, lane_block_w3_i8, lane_block_w4_i8, lane_run_w2_i8, lane_run_w3_i8, lane_run_w4_i8};
pub use radix4::{
    mulh, mulh_by_halves, radix4_dif_i32, radix4_dit_i32, wide_mul, wide_mul_by_halves, Cpx, Twiddle, Twiddle3,
};
pub use sums::sum_i8;

/// Whether this build runs the Armv7E-M instructions (`false`: the portable code).
pub const NATIVE: bool = cfg!(simd32_dsp);

/// `acc + lo(a)·lo(b) + hi(a)·hi(b)`, the halfwords as signed 16-bit, wrapping (`SMLAD`).
#[inline(always)]
pub fn smlad(a: u32, b: u32, acc: i32) -> i32 {
    #[cfg(simd32_dsp)]
    return dsp::smlad(a, b, acc);
    #[cfg(not(simd32_dsp))]
    return portable::smlad(a, b, acc);
}

/// Bytes 0 and 2 of `x`, sign-extended, as the low and high halfwords (`SXTB16`).
#[inline(always)]
pub fn sxtb16(x: u32) -> u32 {
    #[cfg(simd32_dsp)]
    return dsp::sxtb16(x);
    #[cfg(not(simd32_dsp))]
    return portable::sxtb16(x);
}

/// Bytes 1 and 3 of `x`, sign-extended, as the low and high halfwords (`SXTB16 …, ROR #8`).
#[inline(always)]
pub fn sxtb16_ror8(x: u32) -> u32 {
    #[cfg(simd32_dsp)]
    return dsp::sxtb16_ror8(x);
    #[cfg(not(simd32_dsp))]
    return portable::sxtb16(x.rotate_right(8));
}

/// The Armv7E-M instructions. Each block reads and writes registers only: no memory, no stack;
/// `SMLAD` may set the sticky Q flag on overflow, which no Rust code reads (the blocks do not
/// claim to preserve flags).
#[cfg(simd32_dsp)]
#[allow(unsafe_code)]
mod dsp {
    use core::arch::asm;

    #[inline(always)]
    pub fn smlad(a: u32, b: u32, acc: i32) -> i32 {
        let out: i32;
        // SAFETY: register-only instruction of every Armv7E-M core (this module is built for
        // `thumbv7em-*` targets only); `pure, nomem, nostack` hold.
        unsafe {
            asm!("smlad {0}, {1}, {2}, {3}", lateout(reg) out, in(reg) a, in(reg) b, in(reg) acc, options(pure, nomem, nostack))
        };
        out
    }

    #[inline(always)]
    pub fn sxtb16(x: u32) -> u32 {
        let out: u32;
        // SAFETY: as `smlad`.
        unsafe { asm!("sxtb16 {0}, {1}", lateout(reg) out, in(reg) x, options(pure, nomem, nostack)) };
        out
    }

    #[inline(always)]
    pub fn sxtb16_ror8(x: u32) -> u32 {
        let out: u32;
        // SAFETY: as `smlad`.
        unsafe { asm!("sxtb16 {0}, {1}, ror #8", lateout(reg) out, in(reg) x, options(pure, nomem, nostack)) };
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests
    extern crate std;
    use super::*;
    use rand::{Rng, SeedableRng};
    use std::{vec, vec::Vec};

    /// The portable code against a 64-bit reference, and the public functions (the assembly
    /// where this test is built for Armv7E-M) against the portable code.
    #[test]
    fn dual_mac_matches_the_reference_on_random_words() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for _ in 0..100_000 {
            let (a, b, acc): (u32, u32, i32) = (rng.random(), rng.random(), rng.random());
            let half = |w: u32, s: u32| i64::from((w >> s) as i16);
            let want = i64::from(acc) + half(a, 0) * half(b, 0) + half(a, 16) * half(b, 16);
            assert_eq!(i64::from(portable::smlad(a, b, acc)), (want as u32 as i32).into());
            assert_eq!(smlad(a, b, acc), portable::smlad(a, b, acc));
            let byte = |s: u32| (a >> s) as u8 as i8 as i16 as u16 as u32;
            assert_eq!(portable::sxtb16(a), byte(0) | (byte(16) << 16));
            assert_eq!(sxtb16(a), portable::sxtb16(a));
            assert_eq!(sxtb16_ror8(a), byte(8) | (byte(24) << 16));
        }
    }

    /// The sum of int8 values (portable, and the public function: the assembly where built for
    /// Armv7E-M) against an i64 sum, at every length 0–99 from every start 0–3 (unaligned words),
    /// the extremes mixed in, and over 2^17 values of −128 and of 127.
    #[test]
    fn input_sums_match_the_reference() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        for round in 0..2000 {
            let x: Vec<i8> = (0..103)
                .map(|_| match round % 5 {
                    0 => -128,
                    1 => 127,
                    _ => rng.random(),
                })
                .collect();
            let (start, len) = (round % 4, round / 4 % 100);
            let x = &x[start..start + len];
            let want = x.iter().map(|&v| i64::from(v)).sum::<i64>();
            assert_eq!(i64::from(portable::sum_i8(x)), want, "round {round}");
            assert_eq!(sum_i8(x), portable::sum_i8(x), "round {round}");
        }
        for v in [-128i8, 127] {
            let x = vec![v; 1 << 17];
            assert_eq!(i64::from(sum_i8(&x)), i64::from(v) << 17);
        }
    }

    /// A block of `b`-bit levels (`levels[row][column]`) written bit by bit by FORMAT.md's
    /// lane-pair map (layout 2), and both rows' `Σ x·level` in i64.
    fn block(b: usize, x: &[i8; 32], levels: &[[u32; 32]; 2]) -> ([Vec<u8>; 2], [i64; 2]) {
        let (l, spare) = (16 / b, 16 - b * (16 / b));
        let rows = levels.map(|row| {
            let mut words = vec![0u32; b];
            for k in 0..16 {
                for h in 0..2 {
                    let level = row[4 * (k / 2) + k % 2 + 2 * h];
                    for i in 0..b {
                        let (w, bit) = if k < b * l {
                            (k / l, 16 * h + (k % l) * b + i)
                        } else {
                            let p = (k - b * l) * b + i; // bit of lane h's spare stream
                            (p / spare, 16 * h + b * l + p % spare)
                        };
                        words[w] |= ((level >> i) & 1) << bit;
                    }
                }
            }
            words.iter().flat_map(|w| w.to_le_bytes()).collect::<Vec<u8>>()
        });
        let sum = |r: usize| x.iter().zip(levels[r]).map(|(&v, l)| i64::from(v) * i64::from(l)).sum::<i64>();
        (rows, [sum(0), sum(1)])
    }

    /// The lane-pair blocks (portable, and the public functions) against FORMAT.md's map and
    /// i64 sums at widths 2, 3 and 4, on random inputs and levels with the extremes mixed in.
    #[test]
    fn lane_blocks_match_the_format_map() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(8);
        for round in 0..2000 {
            let x: [i8; 32] = core::array::from_fn(|_| if round % 3 == 0 { -128 } else { rng.random() });
            for b in 2..=4 {
                let top = (1u32 << b) - 1;
                let levels: [[u32; 32]; 2] = core::array::from_fn(|_| {
                    core::array::from_fn(|_| if round % 5 == 0 { top } else { rng.random::<u32>() & top })
                });
                let ([ra, rb], [sa, sb]) = block(b, &x, &levels);
                let ab: Vec<u8> = ra.into_iter().chain(rb).collect();
                let xp: [u32; 16] = core::array::from_fn(|k| {
                    let w = u32::from_le_bytes(core::array::from_fn(|i| x[4 * (k / 2) + i] as u8));
                    portable::sxtb16(w.rotate_right(8 * (k as u32 % 2)))
                });
                let got = match b {
                    2 => {
                        let ab = ab.as_slice().try_into().unwrap();
                        assert_eq!(lane_block_w2_i8(&xp, ab), portable::lane_block_w2_i8(&xp, ab));
                        portable::lane_block_w2_i8(&xp, ab)
                    }
                    3 => {
                        let ab = ab.as_slice().try_into().unwrap();
                        assert_eq!(lane_block_w3_i8(&xp, ab), portable::lane_block_w3_i8(&xp, ab));
                        portable::lane_block_w3_i8(&xp, ab)
                    }
                    _ => {
                        let ab = ab.as_slice().try_into().unwrap();
                        assert_eq!(lane_block_w4_i8(&xp, ab), portable::lane_block_w4_i8(&xp, ab));
                        portable::lane_block_w4_i8(&xp, ab)
                    }
                };
                let want = (sa as i32, sb as i32);
                assert_eq!(got, want, "b={b} round={round}");
            }
        }
    }

    /// A run of blocks (the public functions: the assembly where built for Armv7E-M) equals `acc`
    /// plus its blocks' sums one by one, at every run length 0–5 and width, random `acc` included.
    #[test]
    fn lane_runs_equal_their_blocks_summed() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(9);
        for round in 0..3000 {
            let xp: Vec<[u32; 16]> = (0..round % 6).map(|_| core::array::from_fn(|_| rng.random())).collect();
            let ab: Vec<u8> = (0..32 * xp.len()).map(|_| rng.random()).collect();
            let acc: (i32, i32) = (rng.random(), rng.random());
            let add = |(a, b): (i32, i32), (c, d): (i32, i32)| (a.wrapping_add(c), b.wrapping_add(d));
            let blocks = || xp.iter();
            let want2 = blocks()
                .zip(ab.chunks_exact(16))
                .fold(acc, |s, (x, a)| add(s, portable::lane_block_w2_i8(x, a.try_into().unwrap())));
            let want3 = blocks()
                .zip(ab.chunks_exact(24))
                .fold(acc, |s, (x, a)| add(s, portable::lane_block_w3_i8(x, a.try_into().unwrap())));
            let want4 = blocks()
                .zip(ab.chunks_exact(32))
                .fold(acc, |s, (x, a)| add(s, portable::lane_block_w4_i8(x, a.try_into().unwrap())));
            assert_eq!(lane_run_w2_i8(&xp, &ab[..16 * (round % 6)], acc), want2, "round {round}");
            assert_eq!(lane_run_w3_i8(&xp, &ab[..24 * (round % 6)], acc), want3, "round {round}");
            assert_eq!(lane_run_w4_i8(&xp, &ab, acc), want4, "round {round}");
        }
    }

    /// Both rows' sums of `b`-bit row pairs by the halves map (see `halves`), in i64 then
    /// wrapped: word `k` of a row, halves `0` and `1`, level `j` against input word `h·k + j`.
    fn halves_reference(b: usize, xw: &[u32], rows: &[u8], pairs: usize) -> Vec<[i32; 2]> {
        let h = 16 / b;
        let row = 4 * (xw.len() / h);
        let sum = |r: &[u8]| {
            let mut s = 0i64;
            for (k, w) in r.chunks_exact(4).enumerate() {
                let w = u32::from_le_bytes(w.try_into().unwrap());
                for j in 0..h {
                    let x = xw[h * k + j];
                    for half in [0, 16] {
                        let level = i64::from((w >> (half + b * j)) & ((1 << b) - 1));
                        s += level * i64::from((x >> half) as u16 as i16);
                    }
                }
            }
            s as i32
        };
        (0..pairs).map(|i| [sum(&rows[2 * i * row..][..row]), sum(&rows[(2 * i + 1) * row..][..row])]).collect()
    }

    /// The row-pair kernels, blocks of pairs and single pairs (the public functions: the
    /// assembly where built for Armv7E-M, and the portable code) against the halves map at
    /// widths 1, 2 and 4, on random rows of 1–6 words, 0–5 pairs, rows short of the pairs,
    /// extreme levels and inputs mixed in; the entries past the pairs done are left as they were.
    #[test]
    fn halves_pairs_match_the_map() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(10);
        type Kernel = fn(&[u32], &[u8], &mut [[i32; 2]]);
        type Pair = fn(&[u32], &[u8], &[u8]) -> (i32, i32);
        let kernels: [(usize, Kernel, Kernel, Pair, Pair); 3] = [
            (1, halves_pairs_w1_i8, portable::halves_pairs_w1_i8, halves_rows2_w1_i8, portable::halves_rows2_w1_i8),
            (2, halves_pairs_w2_i8, portable::halves_pairs_w2_i8, halves_rows2_w2_i8, portable::halves_rows2_w2_i8),
            (4, halves_pairs_w4_i8, portable::halves_pairs_w4_i8, halves_rows2_w4_i8, portable::halves_rows2_w4_i8),
        ];
        for round in 0..3000 {
            for &(b, public, port, rows2, rows2_port) in &kernels {
                let (words, pairs) = (1 + round % 6, (round / 6) % 6);
                let extreme = round % 7 == 0;
                // Past the rows' inputs, up to two words that a whole packed word does not use.
                let xw: Vec<u32> = (0..words * (16 / b) + round % 3)
                    .map(|_| if extreme { 0x8000_8000 } else { rng.random() })
                    .collect();
                let held = if round % 5 == 1 && pairs > 0 { pairs - 1 } else { pairs };
                let rows: Vec<u8> =
                    (0..8 * words * held + round % 4).map(|_| if extreme { 0xFF } else { rng.random() }).collect();
                let want = halves_reference(b, &xw, &rows, held);
                let sentinel = [0x5A5A_5A5A, -7];
                let (mut got, mut got_port) = (vec![sentinel; pairs + 1], vec![sentinel; pairs + 1]);
                public(&xw, &rows, &mut got[..pairs]);
                port(&xw, &rows, &mut got_port[..pairs]);
                assert_eq!(got[..held], want[..], "b={b} round={round}");
                assert!(got[held..].iter().all(|&s| s == sentinel), "b={b} round={round}: past the pairs held");
                assert_eq!(got, got_port, "b={b} round={round}");
                // The same pairs one at a time, row b running on to the end of `rows`.
                for (i, w) in want.iter().enumerate() {
                    let (ra, rb) = (&rows[8 * words * i..][..4 * words], &rows[8 * words * i + 4 * words..]);
                    let one = rows2(&xw, ra, rb);
                    assert_eq!([one.0, one.1], *w, "b={b} round={round} pair {i}");
                    assert_eq!(one, rows2_port(&xw, ra, rb), "b={b} round={round} pair {i}");
                }
            }
        }
    }
}
