//! The output stage of the integer conv1d/linear kernels: `q_y[n] = requant(acc[n] + min_term +
//! bias_q[n])` ([`IntParams::requant`]), its per-layer constants worked out once per layer call.
//!
//! Per output the definition adds a bias constant shifted left by `L`, then rounds and shifts
//! the 64-bit sum right by `S`: two shifts of a 64-bit value by a run-time amount, each about
//! eight instructions on a 32-bit core (the general code tests the amount against 32 every time).
//! The blobs' bias constants have `L ≤ 30` (the writer picks `S` ≈ 31..35 so that the multipliers
//! fill an i32, and `L` about 8 to 15 below it): then the bias is one 32 × 32 → 64
//! multiply-accumulate by `2^L`, and the shift by `S` is written with 32-bit shifts: for `S ≥ 32`
//! one shift of the sum's high word by `S − 32` (`⌊t / 2^S⌋ = ⌊⌊t / 2^32⌋ / 2^(S−32)⌋`), below a
//! pair of them, and the clamp in 32 bits where the shifted sum fits an i32 (its high word is the
//! low word's sign; else it is past either bound). Measured on the M4 integer demo: 4–5% fewer
//! instructions per frame than the definition's code. Other constants (and the i64 bias constants of formats 1 and 2) take
//! the definition as it is written.

use crate::format::{BiasQ, IntParams};
use crate::quant::clamp127;

/// Row pairs whose sums the row loops collect before finishing them together
/// ([`Finish::pairs`]): the loop that sums keeps none of the output stage's constants live.
pub(super) const PAIR_BLOCK: usize = 16;

/// How a layer's outputs are finished.
#[derive(Clone, Copy)]
enum Mode<'a> {
    /// i16 bias constants with `L ≤ 30`: the bias is added by one multiply-accumulate.
    WordShifts {
        /// The i16 bias constants.
        values: &'a [u8],
        /// `2^L`.
        unit: i32,
        /// `S`.
        s: u32,
    },
    /// Any other constants: the definition.
    General,
}

/// A layer's output stage, built once per layer call by [`Finish::new`].
#[derive(Clone, Copy)]
pub(super) struct Finish<'p, 'a> {
    params: &'p IntParams<'a>,
    /// `min_term`, plus the rounding term `2^(S−1)` in [`Mode::WordShifts`].
    base: i64,
    mode: Mode<'a>,
}

impl<'p, 'a> Finish<'p, 'a> {
    /// The output stage of `params` for a call whose input adds `min_term` to every output.
    #[inline(always)]
    pub(super) fn new(params: &'p IntParams<'a>, min_term: i64) -> Self {
        let s = params.shift;
        match params.bias {
            BiasQ::I16 { values, lshift } if (1..=62).contains(&s) && lshift <= 30 => Finish {
                params,
                base: min_term.wrapping_add(1i64 << (s - 1)),
                mode: Mode::WordShifts { values, unit: 1 << lshift, s },
            },
            _ => Finish { params, base: min_term, mode: Mode::General },
        }
    }

    /// `q_y[n]` for the sum `acc` of output `n`.
    #[inline(always)]
    pub(super) fn one(&self, acc: i64, n: usize) -> i8 {
        match self.mode {
            Mode::WordShifts { values, unit, s } => {
                word_shifts(acc.wrapping_add(self.base), bias16(values, n), unit, s)
            }
            Mode::General => self.params.requant(acc.wrapping_add(self.base).wrapping_add(self.params.bias_at(n))),
        }
    }
}

impl Finish<'_, '_> {
    /// What every output adds to its sum before the output stage (`min_term`, and the rounding
    /// term where the stage has one): the row loops that hand their sums to [`Finish::pairs`]
    /// start each sum from it.
    #[inline(always)]
    pub(super) fn base(&self) -> i64 {
        self.base
    }

    /// The outputs of consecutive row pairs from their sums, each already holding
    /// [`Finish::base`]: `out[2i]`, `out[2i + 1]` become [`Finish::one`] of `sums[i] − base` at
    /// outputs `n + 2i`, `n + 2i + 1` (`out` holds `2·sums.len()` values), so that the row loops
    /// keep none of this stage's constants live. Out of line: one copy for every kernel, called
    /// once per block of rows.
    #[inline(never)]
    pub(super) fn pairs(&self, sums: &[(i64, i64)], n: usize, out: &mut [i8]) {
        let consts = match self.mode {
            Mode::WordShifts { values, unit, s } => {
                values.get(2 * n..).and_then(|v| v.get(..2 * out.len())).map(|v| (v, unit, s))
            }
            Mode::General => None,
        };
        let Some((values, unit, s)) = consts else {
            return self.pairs_by_definition(sums, n, out);
        };
        for ((yy, &(a, b)), c) in out.chunks_exact_mut(2).zip(sums).zip(values.chunks_exact(4)) {
            let w = <[u8; 4]>::try_from(c).map_or(0, u32::from_le_bytes);
            if let [ya, yb] = yy {
                (*ya, *yb) =
                    (word_shifts(a, w as u16 as i16, unit, s), word_shifts(b, (w >> 16) as u16 as i16, unit, s));
            }
        }
    }
}

impl Finish<'_, '_> {
    /// [`Finish::pairs`] pair by pair: the i64 constants of formats 1 and 2, shifts outside
    /// `1..=62`, and blocks past the constants (a kernel checks the lengths first). Out of line:
    /// no blob of the current format comes here.
    #[cold]
    #[inline(never)]
    fn pairs_by_definition(&self, sums: &[(i64, i64)], n: usize, out: &mut [i8]) {
        for (k, (yy, &(a, b))) in out.chunks_exact_mut(2).zip(sums).enumerate() {
            for (j, (y, t)) in yy.iter_mut().zip([a, b]).enumerate() {
                *y = self.one_out_of_line(t.wrapping_sub(self.base), n + 2 * k + j);
            }
        }
    }

    /// [`Finish::one`], out of line (one copy of both modes for the cold paths).
    #[inline(never)]
    pub(super) fn one_out_of_line(&self, acc: i64, n: usize) -> i8 {
        self.one(acc, n)
    }
}

/// The i16 bias constant `c[n]` (0 out of range; the kernels check the length first).
#[inline(always)]
fn bias16(values: &[u8], n: usize) -> i16 {
    crate::bytes::u16_at(values, 2 * n, crate::error::Part::Header).unwrap_or(0) as i16
}

/// `clamp(⌊(t + c·unit) / 2^s⌋, −127, 127)` (`1 ≤ s ≤ 62`) with 32-bit shifts: for `s ≥ 32` the
/// sum's high word shifted by `s − 32`, below the two words shifted as a pair.
#[inline(always)]
fn word_shifts(t: i64, c: i16, unit: i32, s: u32) -> i8 {
    let t = t.wrapping_add(i64::from(c) * i64::from(unit));
    let (hi, lo) = ((t >> 32) as i32, t as u32);
    if s >= 32 {
        return clamp127(hi.wrapping_shr(s - 32));
    }
    // The words of `t >> s`; where it fits an i32 (its high word is the low word's sign), the
    // 32-bit clamp, else the bound of its sign: no 64-bit compares.
    let (r_hi, r_lo) = (hi.wrapping_shr(s), (lo.wrapping_shr(s) | (hi as u32).wrapping_shl(32 - s)) as i32);
    if r_hi == r_lo >> 31 {
        clamp127(r_lo)
    } else if r_hi < 0 {
        -127
    } else {
        127
    }
}

/// The outputs of the row pairs `$rows` (a `&mut [i8]`), finished by blocks of [`PAIR_BLOCK`]
/// pairs through `$finish` ([`Finish::pairs`]); `$sum` is each pair's two row sums as a
/// `Result`, with `$base` bound to [`Finish::base`]. A macro rather than a function taking a
/// closure: through a closure the row-pair kernels' loop compiled to 3.5–8% more instructions
/// (the C API's integer frames, the GRUs' groups of 96).
macro_rules! finish_pair_rows {
    ($finish:expr, $rows:expr, |$base:ident| $sum:expr) => {{
        let mut sums = [(0i64, 0i64); PAIR_BLOCK];
        for (j, block) in $rows.chunks_mut(2 * PAIR_BLOCK).enumerate() {
            let sums = sums.get_mut(..block.len() / 2).unwrap_or_default();
            for s in sums.iter_mut() {
                let $base = $finish.base();
                *s = $sum?;
            }
            $finish.pairs(sums, 2 * PAIR_BLOCK * j, block);
        }
        Ok(())
    }};
}
pub(super) use finish_pair_rows;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::test_util::Rng;
    use alloc::vec::Vec;

    fn params(shift: u32, lshift: u32, values: &[u8]) -> IntParams<'_> {
        IntParams { shift, m_min: 0, m_bits: [0; 15], bias: BiasQ::I16 { values, lshift } }
    }

    /// Both modes equal the definition on sums near every rounding and clamping edge, at every
    /// shift pair the format allows.
    #[test]
    fn equals_the_definition() {
        let values: Vec<u8> =
            [0i16, 1, -1, 127, -128, i16::MAX, i16::MIN, 12345].iter().flat_map(|v| v.to_le_bytes()).collect();
        let mut rng = Rng::new(0x2545_f491_4f6c_dd1d);
        let mut next = || u64::from(rng.next_u32()) << 32 | u64::from(rng.next_u32());
        let mut high = 0;
        for s in 1..=62u32 {
            for l in 0..=s {
                let p = params(s, l, &values);
                let min_term = next() as i64 >> (next() % 64);
                let f = Finish::new(&p, min_term);
                high += usize::from(matches!(f.mode, Mode::WordShifts { .. }));
                for _ in 0..40 {
                    let r = next();
                    // Sums around the output's edges (±127.5 steps, 0) and anywhere.
                    let edge = [127i64, -127, 0, 128, -128][(r % 5) as usize] << s.min(62);
                    let acc = if r & 32 == 0 { edge.wrapping_add((r >> 8) as i64 % 5) } else { r as i64 >> (r % 60) };
                    for n in 0..values.len() / 2 - 1 {
                        let want = |n: usize, a: i64| p.requant(a.wrapping_add(min_term).wrapping_add(p.bias_at(n)));
                        assert_eq!(f.one(acc, n), want(n, acc), "S {s} L {l} acc {acc} n {n}");
                        let (a, b) = (acc, acc ^ 0x5555);
                        let mut two = [0i8; 2];
                        f.pairs(&[(a.wrapping_add(f.base()), b.wrapping_add(f.base()))], n, &mut two);
                        assert_eq!(two, [want(n, a), want(n + 1, b)], "S {s} L {l} n {n}");
                    }
                }
            }
        }
        assert!(high > 0, "the word-shift mode was never taken");
    }

    /// Sums whose shifted value is at the edge of an i32 (where the 32-bit clamp hands over to
    /// the bound of the sign) equal the definition, at every shift below 32.
    #[test]
    fn shifted_sums_at_the_i32_edge_equal_the_definition() {
        let values: Vec<u8> = [0i16, -77].iter().flat_map(|v| v.to_le_bytes()).collect();
        for s in 1..32u32 {
            let p = params(s, s.min(9), &values);
            let f = Finish::new(&p, 0);
            assert!(matches!(f.mode, Mode::WordShifts { .. }));
            for k in [i64::from(i32::MAX), 1 << 31, 1 << 32, i64::from(i32::MIN), i64::from(i32::MIN) - 1, 200, -200] {
                for d in -3..=3i64 {
                    let acc = (k << s).wrapping_add(d << (s - 1));
                    for n in 0..2 {
                        let want = p.requant(acc.wrapping_add(p.bias_at(n)));
                        assert_eq!(f.one(acc, n), want, "S {s} k {k} d {d} n {n}");
                    }
                    let mut two = [0i8; 2];
                    let neg = acc.wrapping_neg();
                    f.pairs(&[(acc.wrapping_add(f.base()), neg.wrapping_add(f.base()))], 0, &mut two);
                    assert_eq!(two, [p.requant(acc), p.requant(neg.wrapping_add(p.bias_at(1)))], "S {s} k {k}");
                }
            }
        }
    }

    /// The i64 constants of formats 1 and 2 take the definition.
    #[test]
    fn i64_constants_take_the_definition() {
        let values: Vec<u8> = [5i64 << 40, -3].iter().flat_map(|v| v.to_le_bytes()).collect();
        let p = IntParams { shift: 40, m_min: 0, m_bits: [0; 15], bias: BiasQ::I64(&values) };
        let f = Finish::new(&p, 7);
        assert!(matches!(f.mode, Mode::General));
        assert_eq!(f.one(100 << 40, 0), p.requant((100 << 40) + 7 + (5 << 40)));
        let mut two = [0i8; 2];
        f.pairs(&[((-(3i64 << 40)).wrapping_add(f.base()), 9i64.wrapping_add(f.base()))], 0, &mut two);
        assert_eq!(two, [p.requant(-(3 << 40) + 7 + (5 << 40)), p.requant(9 + 7 - 3)]);
    }

    /// `pairs` on sums holding `base` equals `one` on the same sums without it: every shift
    /// pair, both modes, blocks that start anywhere, and blocks that run past the constants
    /// (the path by definition, constant 0 there).
    #[test]
    fn pairs_equal_one() {
        let values: Vec<u8> = (0..24i16).flat_map(|v| (v * 1361 - 16000).to_le_bytes()).collect();
        let wide: Vec<u8> = (0..24i64).flat_map(|v| ((v - 12) << 37).to_le_bytes()).collect();
        let mut rng = Rng::new(0x9e37_79b9_7f4a_7c15);
        let mut next = || (u64::from(rng.next_u32()) << 32 | u64::from(rng.next_u32())) as i64;
        for s in 1..=62u32 {
            for (l, bias) in [(0, 0), (s.min(30), 0), (s, 0), (0, 1)] {
                let p = if bias == 0 {
                    params(s, l, &values)
                } else {
                    IntParams { shift: s, m_min: 0, m_bits: [0; 15], bias: BiasQ::I64(&wide) }
                };
                let f = Finish::new(&p, next() >> 20);
                for (n, pairs) in [(0, 12), (4, 3), (18, 3), (20, 5)] {
                    let raw: Vec<(i64, i64)> = (0..pairs).map(|_| (next() >> (next() & 63), next() >> 30)).collect();
                    let held: Vec<(i64, i64)> =
                        raw.iter().map(|&(a, b)| (a.wrapping_add(f.base()), b.wrapping_add(f.base()))).collect();
                    let mut out = alloc::vec![0i8; 2 * pairs];
                    f.pairs(&held, n, &mut out);
                    for (k, &(a, b)) in raw.iter().enumerate() {
                        let want = [f.one(a, n + 2 * k), f.one(b, n + 2 * k + 1)];
                        assert_eq!([out[2 * k], out[2 * k + 1]], want, "S {s} L {l} n {n} k {k}");
                    }
                }
            }
        }
    }
}
