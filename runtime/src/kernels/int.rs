//! Integer kernels (cores without an FPU): int8 activations, int32 group sums, int64
//! accumulation and a fixed-point rescale per output (constants precomputed in the blob).

use super::any_width;
use super::f32::check_shape;
use super::int_pairs::{dot2_swar, pair_sums};
use super::unpack::{dispatch_bits_upto8, le_u128, le_u64, skip_groups, unpack8};
use crate::bytes::{i32_at, i64_at, u16_at, u32_at};
use crate::error::{Error, Part};
use crate::format::{int_linear_len, GroupBits, Layout, Packed, Weights, INT_LINEAR_FIXED};
use crate::quant::{group_bytes, MAX_BITS};

/// Fixed-point constants of one conv1d/linear layer (FORMAT.md, "Integer-path constants").
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IntParams<'a> {
    pub shift: u32,
    pub m_min: i32,
    /// `m_bits[b − 1]` multiplies the level sums of `b`-bit groups.
    pub m_bits: [i32; MAX_BITS as usize],
    pub bias: BiasQ<'a>,
}

/// The per-output bias constants `bias_q[n]` of the integer path.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BiasQ<'a> {
    /// Format ≥ 3: `out` little-endian i16 values `c[n]`, `bias_q[n] = c[n]·2^lshift`.
    I16 { values: &'a [u8], lshift: u32 },
    /// Formats 1 and 2: `out` little-endian i64 values.
    I64(&'a [u8]),
}

impl BiasQ<'_> {
    /// Number of outputs the constants cover.
    pub fn len(&self) -> usize {
        match self {
            BiasQ::I16 { values, .. } => values.len() / 2,
            BiasQ::I64(v) => v.len() / 8,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `bias_q[n]` (0 out of range; the kernels check the length first). Out of line: it runs
    /// once per output, and inlined into every kernel copy it cost ~3 KB of RV32 flash.
    #[inline(never)]
    pub fn at(&self, n: usize) -> i64 {
        match *self {
            BiasQ::I16 { values, lshift } => {
                i64::from(u16_at(values, 2 * n, Part::Header).unwrap_or(0) as i16).wrapping_shl(lshift)
            }
            BiasQ::I64(v) => i64_at(v, 8 * n, Part::Header).unwrap_or(0),
        }
    }
}

impl<'a> IntParams<'a> {
    /// Decodes a block of [`int_linear_len`]`(version, out_len)` bytes.
    pub fn read(block: &'a [u8], out_len: usize, version: u16, part: Part) -> Result<Self, Error> {
        let word = u32_at(block, 0, part)?;
        // v3 packs the bias shift into byte 1 of the shift word; v1/v2 use the whole word.
        let (shift, lshift) = if version >= 3 { (word & 0xFF, word >> 8) } else { (word, 0) };
        if !(1..=62).contains(&shift) || lshift > shift {
            return Err(Error::InvalidField(part));
        }
        let mut m_bits = [0i32; MAX_BITS as usize];
        for (i, m) in m_bits.iter_mut().enumerate() {
            *m = i32_at(block, 8 + 4 * i, part)?;
        }
        let values = block.get(INT_LINEAR_FIXED..int_linear_len(version, out_len)).ok_or(Error::OutOfBounds(part))?;
        let bias = if version >= 3 { BiasQ::I16 { values, lshift } } else { BiasQ::I64(values) };
        Ok(IntParams { shift, m_min: i32_at(block, 4, part)?, m_bits, bias })
    }

    /// The biases as the f32 path reads them from a v4 blob: `c[n]·2^(L−S)·out_scale`
    /// (`None` for the i64 constants of v1/v2, whose blobs keep bias tensors).
    pub fn f32_bias(&self, out_scale: f32) -> Option<Weights<'a>> {
        match self.bias {
            // 2^(L−S) is exact in f32: 0 ≤ L ≤ S ≤ 62.
            BiasQ::I16 { values, lshift } => {
                let e = lshift as i32 - self.shift as i32;
                let pow2 = f32::from_bits(((127 + e).clamp(1, 254) as u32) << 23);
                Some(Weights::ScaledI16 { data: values, scale: out_scale * pow2 })
            }
            BiasQ::I64(_) => None,
        }
    }

    #[inline]
    fn bias_at(&self, n: usize) -> i64 {
        self.bias.at(n)
    }

    #[inline]
    fn m(&self, bits: u8) -> i64 {
        i64::from(self.m_bits.get(usize::from(bits).wrapping_sub(1)).copied().unwrap_or(0))
    }

    /// `clamp(round(acc / 2^shift), −127, 127)`.
    #[inline]
    fn requant(&self, acc: i64) -> i8 {
        // Wrapping: hostile constants must not trap; valid blobs stay far below 2^63.
        let r = acc.wrapping_add(1i64 << (self.shift.clamp(1, 62) - 1)) >> self.shift.clamp(1, 62);
        r.clamp(-127, 127) as i8
    }
}

/// `Σ q_i·level_i` over one group (fits i32: 4096 · 127 · 32767 < 2^35 is NOT guaranteed,
/// so groups are summed in i32 only up to 8 levels at a time and widened per group).
#[inline(always)]
fn dot_group<const B: usize>(x: &[i8], p: &[u8]) -> i64 {
    let mut acc = 0i64;
    for (xs, ps) in x.chunks_exact(8).zip(p.chunks_exact(B)) {
        let l = unpack8::<B>(ps);
        let mut a = 0i32;
        for (xv, lv) in xs.iter().zip(l.iter()) {
            a += i32::from(*xv) * (*lv as i32);
        }
        acc += i64::from(a);
    }
    acc
}

/// 8 MACs, the levels LSB-first in `w` (`B ≤ 7`).
#[inline(always)]
fn mac8<const B: usize>(xs: &[i8], w: u64) -> i32 {
    let Ok(&[x0, x1, x2, x3, x4, x5, x6, x7]) = <&[i8; 8]>::try_from(xs) else { return 0 };
    let mask = (1u64 << B) - 1;
    let l = |i: usize| ((w >> (i * B)) & mask) as i32;
    i32::from(x0) * l(0)
        + i32::from(x1) * l(1)
        + i32::from(x2) * l(2)
        + i32::from(x3) * l(3)
        + i32::from(x4) * l(4)
        + i32::from(x5) * l(5)
        + i32::from(x6) * l(6)
        + i32::from(x7) * l(7)
}

/// Like [`dot_group`] but summing a whole group in i32 (safe when `group_size·128·(2^B−1) < 2^31`).
/// Widths up to 7 bits read the levels in blocks of `min(16 / B, 4)` chunks (≤ 16 bytes, word loads);
/// 8 bits is byte-aligned already (and vectorises on hosts as it is).
#[inline(always)]
pub(super) fn dot_group32<const B: usize>(x: &[i8], p: &[u8]) -> i32 {
    let mut a = 0i32;
    if B <= 7 {
        let c = (16 / B).min(4); // small enough to unroll: constant shifts
        let (xb, pb) = (x.chunks_exact(8 * c), p.chunks_exact(B * c));
        let (xr, pr) = (xb.remainder(), pb.remainder());
        for (xs, ps) in xb.zip(pb) {
            let v = le_u128(ps);
            for (j, x8) in xs.chunks_exact(8).enumerate() {
                a += mac8::<B>(x8, (v >> (8 * B * j)) as u64);
            }
        }
        for (x8, p8) in xr.chunks_exact(8).zip(pr.chunks_exact(B)) {
            a += mac8::<B>(x8, le_u64(p8));
        }
        return a;
    }
    for (xs, ps) in x.chunks_exact(8).zip(p.chunks_exact(B)) {
        let l = unpack8::<B>(ps);
        for (xv, lv) in xs.iter().zip(l.iter()) {
            a += i32::from(*xv) * (*lv as i32);
        }
    }
    a
}

fn fits_i32(group_size: usize, bits: u8) -> bool {
    // 128, not 127: callers and hostile LUTs can feed −128 (e.g. 1032 × 128 × 16383 ≥ 2^31).
    (group_size as u64) * 128 * ((1u64 << bits) - 1) < (1u64 << 31)
}

/// Integer `out = requant(W·[x_taps] + b)`; weights must be packed.
pub fn matvec_i8(
    w: &Weights<'_>,
    params: &IntParams<'_>,
    taps: &[Option<&[i8]>],
    in_len: usize,
    out: &mut [i8],
) -> Result<(), Error> {
    let Weights::Packed(p) = w else {
        return Err(Error::Unsupported(Part::Header));
    };
    check_shape(p.count, taps, in_len, out.len())?;
    if p.group_size == 0 || in_len == 0 || in_len % usize::from(p.group_size) != 0 || params.bias.len() != out.len() {
        return Err(Error::KernelShape);
    }
    let sum_q: i64 = taps.iter().flatten().map(|t| t.iter().map(|&v| i64::from(v)).sum::<i64>()).sum();
    let min_term = i64::from(params.m_min).wrapping_mul(sum_q);
    match (p.fixed_bits(), p.layout) {
        // Fixed widths up to 8 bits get their own kernel; 9..=15 the general one.
        (Some(b @ 1..=8), Layout::Rows) => {
            dispatch_bits_upto8!(b, rows_fixed, Err(Error::KernelShape), (p, params, taps, in_len, min_term, out))
        }
        // The trainer's default group size as a constant: the group loops unroll fully. Other
        // sizes take the generic loops (same results, slower; one copy of the code per size
        // would cost ~25 KB of flash each).
        _ if p.group_size == 64 => rows_var::<64, 32>(p, params, taps, in_len, min_term, out),
        _ => rows_var::<0, 0>(p, params, taps, in_len, min_term, out),
    }
}

/// `Σ x·level` over one row of the fixed-bit path (all taps).
#[inline(always)]
fn row_fixed<const B: usize>(row: &[u8], taps: &[Option<&[i8]>], tap_bytes: usize, gs: usize, narrow: bool) -> i64 {
    let gb = group_bytes(gs, B as u8);
    let mut acc = 0i64;
    for (tap, wb) in taps.iter().zip(row.chunks_exact(tap_bytes)) {
        if let Some(x) = tap {
            for (xg, pg) in x.chunks_exact(gs).zip(wb.chunks_exact(gb)) {
                acc += if narrow { i64::from(dot_group32::<B>(xg, pg)) } else { dot_group::<B>(xg, pg) };
            }
        }
    }
    acc
}

fn rows_fixed<const B: usize>(
    p: &Packed<'_>,
    params: &IntParams<'_>,
    taps: &[Option<&[i8]>],
    in_len: usize,
    min_term: i64,
    out: &mut [i8],
) -> Result<(), Error> {
    let m = params.m(B as u8);
    let gs = usize::from(p.group_size);
    let narrow = fits_i32(gs, B as u8);
    let tap_bytes = group_bytes(in_len, B as u8);
    let row_bytes = tap_bytes * taps.len();
    if row_bytes == 0 {
        return Err(Error::KernelShape);
    }
    let mut rows = p.data.chunks_exact(row_bytes);
    // One multiplier for the whole tensor: the level sums of a row need no group boundaries.
    let finish =
        |acc: i64, n: usize| params.requant(acc.wrapping_mul(m).wrapping_add(min_term).wrapping_add(params.bias_at(n)));
    let mut done = 0;
    if B <= 4 {
        let mut pairs = out.chunks_exact_mut(2);
        for yy in &mut pairs {
            let (Some(ra), Some(rb)) = (rows.next(), rows.next()) else { return Err(Error::KernelShape) };
            let (mut sa, mut sb) = (0i64, 0i64);
            for ((tap, wa), wb) in taps.iter().zip(ra.chunks_exact(tap_bytes)).zip(rb.chunks_exact(tap_bytes)) {
                if let Some(x) = tap {
                    let (a, b) = dot2_swar::<B>(x, wa, wb);
                    sa += a;
                    sb += b;
                }
            }
            if let [ya, yb] = yy {
                *ya = finish(sa, done);
                *yb = finish(sb, done + 1);
            }
            done += 2;
        }
        for y in pairs.into_remainder() {
            let row = rows.next().ok_or(Error::KernelShape)?;
            *y = finish(row_fixed::<B>(row, taps, tap_bytes, gs, narrow), done);
            done += 1;
        }
    } else {
        for y in out.iter_mut() {
            let row = rows.next().ok_or(Error::KernelShape)?;
            *y = finish(row_fixed::<B>(row, taps, tap_bytes, gs, narrow), done);
            done += 1;
        }
    }
    Ok(())
}

/// Level sums of one row (all taps), one i32 per bit width, from the groups at `bits`/`data`.
#[inline(always)]
fn row_sums<const G: usize>(
    gs: usize,
    bits: &mut GroupBits<'_>,
    data: &mut &[u8],
    taps: &[Option<&[i8]>],
    in_len: usize,
    sums: &mut [i32; 16],
) -> Result<(), Error> {
    let gs = if G == 0 { gs } else { G };
    for tap in taps {
        match tap {
            Some(x) => {
                for xg in x.chunks_exact(gs) {
                    let b = bits.next().unwrap_or(0);
                    *data = if G == 0 || b > 8 {
                        group_any(xg, data, b, sums)
                    } else {
                        dispatch_bits_upto8!(b, group_into, None, (xg, *data, sums))
                    }
                    .ok_or(Error::KernelShape)?;
                }
            }
            None => *data = skip_groups(bits, data, in_len / gs, gs)?,
        }
    }
    Ok(())
}

/// Σ_g m(b_g)·A_g = Σ_b m(b)·(Σ_{g: b_g = b} A_g): one i64 multiply per width per row, none
/// per group; then bias, rounding and the int8 clamp.
#[inline(always)]
fn finish_sums(
    params: &IntParams<'_>,
    m: &[i64; 16],
    (lo, hi): (u8, u8),
    sums: &[i32; 16],
    min_term: i64,
    n: usize,
) -> i8 {
    let mut acc = min_term.wrapping_add(params.bias_at(n));
    for b in usize::from(lo)..=usize::from(hi) {
        if let (Some(s), Some(mb)) = (sums.get(b), m.get(b)) {
            acc = acc.wrapping_add(mb.wrapping_mul(i64::from(*s)));
        }
    }
    params.requant(acc)
}

/// `G`: the group size when known at compile time, 0 to read it from the tensor; `S = G / 2`.
fn rows_var<const G: usize, const S: usize>(
    p: &Packed<'_>,
    params: &IntParams<'_>,
    taps: &[Option<&[i8]>],
    in_len: usize,
    min_term: i64,
    out: &mut [i8],
) -> Result<(), Error> {
    let top = p.bits_base + ((1u8 << p.bits_width) - 1);
    // Per-width i32 sums over a whole row are exact when a row of top-width levels fits.
    if !fits_i32(in_len * taps.len(), top.min(MAX_BITS)) {
        return rows_var_wide(p, params, taps, in_len, min_term, out);
    }
    let m: [i64; 16] = core::array::from_fn(|b| if b == 0 { 0 } else { params.m(b as u8) });
    let widths = (p.bits_base, top.min(MAX_BITS));
    let (mut bits, mut data) = (p.bits_iter(), p.data);
    let gs = usize::from(p.group_size);
    let n_out = out.len();
    let lone = match p.layout {
        Layout::Rows => 0..n_out,
        Layout::RowPairs { .. } => {
            for (k, yy) in out.chunks_exact_mut(2).enumerate() {
                let (mut sa, mut sb) = ([0i32; 16], [0i32; 16]);
                pair_sums::<S>(gs, &mut bits, &mut data, taps, in_len, &mut sa, &mut sb)?;
                if let [ya, yb] = yy {
                    *ya = finish_sums(params, &m, widths, &sa, min_term, 2 * k);
                    *yb = finish_sums(params, &m, widths, &sb, min_term, 2 * k + 1);
                }
            }
            n_out / 2 * 2..n_out
        }
    };
    for n in lone {
        let mut sums = [0i32; 16];
        row_sums::<G>(gs, &mut bits, &mut data, taps, in_len, &mut sums)?;
        if let Some(y) = out.get_mut(n) {
            *y = finish_sums(params, &m, widths, &sums, min_term, n);
        }
    }
    Ok(())
}

/// Adds one `B`-bit group's level sum to `sums[B]`; returns the packed bytes after it.
#[inline(always)]
fn group_into<'d, const B: usize>(xg: &[i8], data: &'d [u8], sums: &mut [i32; 16]) -> Option<&'d [u8]> {
    let (bytes, rest) = data.split_at_checked(group_bytes(xg.len(), B as u8))?;
    if let Some(s) = sums.get_mut(B) {
        *s = s.wrapping_add(dot_group32::<B>(xg, bytes));
    }
    Some(rest)
}

/// [`group_into`] for any width (one body for all): other group sizes and widths 9..=15.
/// Inlined: out of line, the call in the group loop cost RV32 6% on the mixed-bit layers.
#[inline(always)]
fn group_any<'d>(xg: &[i8], data: &'d [u8], b: u8, sums: &mut [i32; 16]) -> Option<&'d [u8]> {
    let (bytes, rest) = any_width::split_group(data, xg.len(), b)?;
    if let Some(s) = sums.get_mut(usize::from(b)) {
        *s = s.wrapping_add(any_width::dot_i32(xg, bytes, b));
    }
    Some(rest)
}

/// Mixed widths whose row sums could overflow i32 (wide groups at high bit widths): i64 sums
/// per group, in either layout (a pair group feeds two rows, a row group one).
fn rows_var_wide(
    p: &Packed<'_>,
    params: &IntParams<'_>,
    taps: &[Option<&[i8]>],
    in_len: usize,
    min_term: i64,
    out: &mut [i8],
) -> Result<(), Error> {
    let gs = usize::from(p.group_size);
    let paired_rows = if matches!(p.layout, Layout::RowPairs { .. }) { out.len() / 2 * 2 } else { 0 };
    let (mut bits, mut data) = (p.bits_iter(), p.data);
    let mut n = 0;
    while n < out.len() {
        let rows = if n < paired_rows { 2 } else { 1 };
        let seg = gs / rows;
        let mut acc = [0, 1].map(|j| min_term.wrapping_add(params.bias_at(n + j)));
        for tap in taps {
            for k in 0..in_len / seg {
                let b = bits.next().unwrap_or(0);
                let half = group_bytes(seg, b).max(1);
                let (bytes, rest) = data.split_at_checked(rows * half).ok_or(Error::KernelShape)?;
                data = rest;
                if let Some(xg) = tap.and_then(|x| x.get(k * seg..(k + 1) * seg)) {
                    for (a, pr) in acc.iter_mut().zip(bytes.chunks_exact(half)) {
                        let dot = any_width::dot_i64(xg, pr, b);
                        *a = a.wrapping_add(params.m(b).wrapping_mul(dot));
                    }
                }
            }
        }
        for (y, a) in out.iter_mut().skip(n).zip(acc.iter()).take(rows) {
            *y = params.requant(*a);
        }
        n += rows;
    }
    Ok(())
}

/// Whole-sequence causal conv1d on the integer path (same conventions as `conv1d_seq_f32`).
#[allow(clippy::too_many_arguments)]
pub fn conv1d_seq_i8(
    w: &Weights<'_>,
    params: &IntParams<'_>,
    in_len: usize,
    kernel: usize,
    dilation: usize,
    stride: usize,
    x: &[i8],
    y: &mut [i8],
) -> Result<(), Error> {
    super::conv1d_seq(in_len, kernel, dilation, stride, x, y, |taps, yt| matvec_i8(w, params, taps, in_len, yt))
}
