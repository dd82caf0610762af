//! Test-only helpers of the kernels' tests: a seeded generator, packed tensors built from random
//! levels (with their dequantised values), and integer constants computed in f64 by the rules of
//! FORMAT.md ("Integer-path constants").

extern crate std;
use std::vec;
use std::vec::Vec;

use crate::format::{bits_table_len, bits_width_for, BiasQ, IntParams, Layout, Packed};
use crate::layout::pack_lane_blocks;
use crate::quant::{group_bytes, pack_levels, scale_for_bits, MAX_BITS};

/// xorshift64*: deterministic and dependency-free.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub(crate) fn next_u32(&mut self) -> u32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32) as u32
    }

    /// Uniform in `[lo, hi)`.
    pub(crate) fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * f64::from(self.next_u32()) / 4_294_967_296.0
    }

    /// Uniform in `0..n`.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        ((u64::from(self.next_u32()) * n as u64) >> 32) as usize
    }

    pub(crate) fn f32s(&mut self, n: usize, amp: f64) -> Vec<f32> {
        (0..n).map(|_| self.uniform(-amp, amp) as f32).collect()
    }

    pub(crate) fn i8s(&mut self, n: usize) -> Vec<i8> {
        (0..n).map(|_| (self.below(255) as i32 - 127) as i8).collect()
    }
}

/// A packed tensor owning its bytes (row-major unless [`OwnedPacked::paired`]).
pub(crate) struct OwnedPacked {
    pub count: usize,
    pub layout: Layout,
    pub group_size: usize,
    pub min: f32,
    pub max: f32,
    pub base: u8,
    pub table_width: u8,
    pub levels: Vec<u16>,
    pub widths: Vec<u8>,
    pub table: Vec<u8>,
    pub data: Vec<u8>,
}

impl OwnedPacked {
    /// `count` random levels, each group's width drawn from `widths`.
    pub(crate) fn random(rng: &mut Rng, count: usize, group_size: usize, widths: &[u8], min: f32, max: f32) -> Self {
        let n_groups = count / group_size;
        let gw: Vec<u8> = (0..n_groups).map(|_| widths[rng.below(widths.len())]).collect();
        let mut levels = Vec::with_capacity(count);
        let mut data = Vec::new();
        for &b in &gw {
            let g: Vec<u16> = (0..group_size).map(|_| (rng.next_u32() & ((1 << b) - 1)) as u16).collect();
            let mut buf = vec![0u8; group_bytes(group_size, b)];
            pack_levels(&g, b, &mut buf).unwrap();
            data.extend_from_slice(&buf);
            levels.extend_from_slice(&g);
        }
        let base = gw.iter().copied().min().unwrap_or(1);
        let table_width = bits_width_for(&gw);
        let mut table = vec![0u8; bits_table_len(n_groups, table_width)];
        if table_width > 0 {
            for (g, &b) in gw.iter().enumerate() {
                let bit = g * usize::from(table_width);
                table[bit / 8] |= (b - base) << (bit % 8);
            }
        }
        OwnedPacked {
            count,
            layout: Layout::Rows,
            group_size,
            min,
            max,
            base,
            table_width,
            levels,
            widths: gw,
            table,
            data,
        }
    }

    /// The same stored levels read as row pairs of `row_len` values (storage order unchanged).
    pub(crate) fn paired(mut self, row_len: usize) -> Self {
        self.layout = Layout::RowPairs { row_len: row_len as u16, lanes: false };
        self
    }

    /// The same levels as lane pairs of `row_len` values (FORMAT.md layout 2): each pair group
    /// rewritten as lane-pair blocks, a lone last row left as it is.
    pub(crate) fn lane_paired(mut self, row_len: usize) -> Self {
        self.layout = Layout::RowPairs { row_len: row_len as u16, lanes: true };
        let pair_groups = self.count / row_len / 2 * 2 * row_len / self.group_size;
        let mut at = 0;
        for (g, &b) in self.widths.iter().enumerate() {
            let n = group_bytes(self.group_size, b);
            if g < pair_groups {
                let levels = &self.levels[g * self.group_size..(g + 1) * self.group_size];
                pack_lane_blocks(levels, b, &mut self.data[at..at + n]).unwrap();
            }
            at += n;
        }
        self
    }

    pub(crate) fn packed(&self) -> Packed<'_> {
        Packed {
            count: self.count as u32,
            layout: self.layout,
            group_size: self.group_size as u16,
            bits_base: self.base,
            bits_width: self.table_width,
            min: self.min,
            max: self.max,
            bits_table: &self.table,
            data: &self.data,
        }
    }

    /// Level and bit width of row-major weight `i`.
    pub(crate) fn level(&self, i: usize) -> (u16, u8) {
        let q = self.layout.position(self.count, self.group_size, i);
        (self.levels[q], self.widths[q / self.group_size])
    }

    /// Row-major weight `i` as FORMAT.md dequantises it (`min + level·scale_b`, f32), widened.
    pub(crate) fn weight(&self, i: usize) -> f64 {
        let (l, b) = self.level(i);
        let s = scale_for_bits(self.min, self.max, b);
        f64::from(self.min + f32::from(l) * s)
    }
}

/// A conv1d/linear layer's integer constants, owning the bias bytes.
pub(crate) struct OwnedParams {
    shift: u32,
    lshift: u32,
    m_min: i32,
    m_bits: [i32; MAX_BITS as usize],
    values: Vec<u8>,
}

impl OwnedParams {
    /// The constants for weights over `[min, max]`, input scale `sx`, output scale `sy` (f64,
    /// the largest shift that keeps every multiplier within 2^30 and biases within i16).
    pub(crate) fn new(min: f32, max: f32, bias: &[f32], sx: f64, sy: f64) -> Self {
        let m_min = sx * f64::from(min) / sy;
        let m: Vec<f64> = (1..=MAX_BITS).map(|b| sx * f64::from(scale_for_bits(min, max, b)) / sy).collect();
        let big = m.iter().fold(m_min.abs(), |a, v| a.max(v.abs()));
        let shift = if big > 0.0 { ((2f64.powi(30) / big).log2().floor() as u32).clamp(1, 40) } else { 30 };
        let big_bias = bias.iter().fold(0.0f64, |a, b| a.max((f64::from(*b) / sy).abs()));
        let lshift = if big_bias > 0.0 {
            (shift as i64 - (32767.0 / big_bias).log2().floor() as i64).clamp(0, i64::from(shift)) as u32
        } else {
            0
        };
        let unit = 2f64.powi(shift as i32);
        let mut m_bits = [0i32; MAX_BITS as usize];
        for (o, v) in m_bits.iter_mut().zip(&m) {
            *o = (v * unit).round() as i32;
        }
        let bu = 2f64.powi((shift - lshift) as i32);
        let values = bias.iter().flat_map(|b| ((f64::from(*b) / sy * bu).round() as i16).to_le_bytes()).collect();
        OwnedParams { shift, lshift, m_min: (m_min * unit).round() as i32, m_bits, values }
    }

    pub(crate) fn params(&self) -> IntParams<'_> {
        IntParams {
            shift: self.shift,
            m_min: self.m_min,
            m_bits: self.m_bits,
            bias: BiasQ::I16 { values: &self.values, lshift: self.lshift },
        }
    }
}

/// Little-endian f32 bytes (a `Weights::F32` tensor or a `Bias::F32`).
pub(crate) fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// f64 reference of a grouped conv1d frame without bias: `w(idx)` is weight `idx` of the
/// `[out][kernel][in/groups]` tensor, `taps[j]` tap `j` (`None`: zeros).
pub(crate) fn grouped_ref(
    w: impl Fn(usize) -> f64,
    taps: &[Option<Vec<f64>>],
    in_len: usize,
    groups: usize,
    out_len: usize,
) -> Vec<f64> {
    let (ipg, opg, k) = (in_len / groups, out_len / groups, taps.len());
    (0..out_len)
        .map(|n| {
            let mut acc = 0.0;
            for (j, t) in taps.iter().enumerate() {
                for i in 0..ipg {
                    if let Some(x) = t {
                        acc += w((n * k + j) * ipg + i) * x[(n / opg) * ipg + i];
                    }
                }
            }
            acc
        })
        .collect()
}

/// Random taps (`none_first`: the first tap is before the stream start).
pub(crate) fn random_taps_f32(rng: &mut Rng, k: usize, in_len: usize, none_first: bool) -> Vec<Option<Vec<f32>>> {
    (0..k).map(|j| if none_first && j == 0 { None } else { Some(rng.f32s(in_len, 2.0)) }).collect()
}

/// A lane-pair group of `b` bits (FORMAT.md layout 2): the first `n` levels (a multiple of 32) of
/// each of the two rows as lane-pair blocks, row `a`'s blocks then row `b`'s.
pub(crate) fn lane_pair_group(levels: &[[u16; 64]; 2], n: usize, b: u8) -> Vec<u8> {
    let both: Vec<u16> = levels.iter().flat_map(|row| row[..n].iter().copied()).collect();
    let mut bytes = vec![0u8; group_bytes(2 * n, b)];
    pack_lane_blocks(&both, b, &mut bytes).unwrap();
    bytes
}

/// A row's `Σ x·level` in the order of the tables of nibble sums (`nibble_table_f32`), input by
/// input: per nibble (`4/bits` inputs) the entry `((x₀·l₀ + x₁·l₁) + …)`, the even nibbles'
/// entries added in order, the odd ones' likewise, then the two. `level(i)`: the row's level `i`.
pub(crate) fn nibble_order_sum(x: &[f32], bits: u8, level: impl Fn(usize) -> u16) -> f32 {
    let per = 4 / usize::from(bits);
    let (mut a, mut b) = (0.0f32, 0.0f32);
    for (c, chunk) in x.chunks(per).enumerate() {
        let mut e = chunk[0] * f32::from(level(c * per));
        for (i, xv) in chunk.iter().enumerate().skip(1) {
            e += *xv * f32::from(level(c * per + i));
        }
        if c % 2 == 0 {
            a += e
        } else {
            b += e
        }
    }
    a + b
}
