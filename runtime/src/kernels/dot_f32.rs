//! Per-group dot products of the f32 path: `Σ x_i·level_i` over one group's packed levels, for a
//! width known at compile time (`B ≤ 8`: one unrolled body each, and one that loops over a
//! run-time number of 8-level chunks for other group sizes) and for any width (one body for all:
//! group sizes that are not whole chunks and widths 9..=15). Each any-width sum adds the same products in the
//! same order as its compile-time twin, so the results are bit-identical whichever code runs.

use super::bits::{le_u128, le_u32, le_u64, LevelReader};

/// Levels as f32 for a table index of `K·b` bits: entry `i` holds the `K` levels packed in `i`,
/// LSB-first. A level is a small integer, exactly an f32: a lookup gives the value the
/// conversion (`level as f32`) gives, without the core-to-FPU move and the conversion.
const fn level_table<const K: usize, const N: usize>(b: u32) -> [[f32; K]; N] {
    let mut t = [[0.0f32; K]; N];
    let (mut rows, mut i): (&mut [[f32; K]], usize) = (&mut t, 0);
    while let Some((entry, more)) = rows.split_first_mut() {
        let (mut levels, mut k): (&mut [f32], u32) = (entry, 0);
        while let Some((v, rest)) = levels.split_first_mut() {
            *v = ((i >> (k * b)) & ((1 << b) - 1)) as f32;
            (levels, k) = (rest, k + 1);
        }
        (rows, i) = (more, i + 1);
    }
    t
}

/// Two 2-bit levels per 4 bits (128 bytes of flash).
static LEVELS2: [[f32; 2]; 16] = level_table(2);
/// Two 3-bit levels per 6 bits (512 bytes).
static LEVELS3: [[f32; 2]; 64] = level_table(3);
/// Two 4-bit levels per byte (2 KiB; linked only into builds with 4-bit bodies).
static LEVELS4: [[f32; 2]; 256] = level_table(4);

/// Two consecutive `B`-bit levels (`B` = 2, 3 or 4; `field`: their `2B` bits, LSB-first) as
/// f32, from the tables.
#[inline(always)]
pub(super) fn level_pair_f32<const B: usize>(field: usize) -> [f32; 2] {
    match B {
        4 => LEVELS4.get(field),
        3 => LEVELS3.get(field),
        _ => LEVELS2.get(field),
    }
    .copied()
    .unwrap_or_default()
}

/// The 8 levels of one chunk (LSB-first in `w`, `B` = 2, 3 or 4) as f32, from the tables: per 2
/// levels a field extract and an address, then one FPU load per level. Chosen by estimated M4
/// cycles: one lookup per level cost more cycles than `vmov` + `vcvt` at 4 bits (kbench fixed
/// 4-bit linear 8.86 against 7.84 per MAC), two per byte fewer, so the row-pair and lane-pair
/// bodies take 4-bit levels from the table (16 kHz M4 f32 demo frame: 459,499 → 456,400
/// est. cycles). The row bodies ([`mac8_f32`], fixed widths) convert at 4 bits: with the table
/// their own figures improved (fixed 4-bit 256x256: 6.85 → 6.38 est. cycles per MAC), but the
/// 8 kHz demo, which never runs them, took 0.7% more cycles per frame (508,207 against 504,533)
/// from the code around them. Wider levels convert.
#[inline(always)]
fn levels8_f32<const B: usize>(w: u32) -> [f32; 8] {
    let t = |j: usize| level_pair_f32::<B>((w >> (j * 2 * B)) as usize & ((1 << (2 * B)) - 1));
    let ([l0, l1], [l2, l3], [l4, l5], [l6, l7]) = (t(0), t(1), t(2), t(3));
    [l0, l1, l2, l3, l4, l5, l6, l7]
}

/// 8 MACs: `x · levels`, the levels LSB-first in `w`. Two accumulators (even and odd levels)
/// halve the floating-point dependency chain.
#[inline(always)]
fn mac8_f32<const B: usize>(xs: &[f32], w: u64, a0: &mut f32, a1: &mut f32) {
    let Ok(&[x0, x1, x2, x3, x4, x5, x6, x7]) = <&[f32; 8]>::try_from(xs) else { return };
    let mask = (1u64 << B) - 1;
    // 2 and 3 bits: the same values from the tables (8·B ≤ 32 bits of `w`).
    let [l0, l1, l2, l3, l4, l5, l6, l7] = if (2..=3).contains(&B) {
        levels8_f32::<B>(w as u32)
    } else {
        core::array::from_fn(|i| ((w >> (i * B)) & mask) as u32 as f32)
    };
    *a0 += x0 * l0;
    *a1 += x1 * l1;
    *a0 += x2 * l2;
    *a1 += x3 * l3;
    *a0 += x4 * l4;
    *a1 += x5 * l5;
    *a0 += x6 * l6;
    *a1 += x7 * l7;
}

/// `Σ x_i·level_i` over `x.len()` levels (a multiple of 8), `B ≤ 8` (wider groups take
/// [`dot_group_any_f32`], which adds the same terms in the same order). The levels are read in
/// blocks of `min(16 / B, 4)` chunks of 8 levels (≤ 16 bytes, whole-word loads).
#[inline(always)]
pub(crate) fn dot_group_f32<const B: usize>(x: &[f32], p: &[u8]) -> f32 {
    let (mut a0, mut a1) = (0.0f32, 0.0f32);
    let c = (16 / B).min(4); // B = 1..=8: 4, 4, 5→4, 4, 3, 2, 2, 2 (small enough to unroll)
    let (xb, pb) = (x.chunks_exact(8 * c), p.chunks_exact(B * c));
    let (xr, pr) = (xb.remainder(), pb.remainder());
    for (xs, ps) in xb.zip(pb) {
        let v = le_u128(ps);
        for (j, x8) in xs.chunks_exact(8).enumerate() {
            mac8_f32::<B>(x8, (v >> (8 * B * j)) as u64, &mut a0, &mut a1);
        }
    }
    for (x8, p8) in xr.chunks_exact(8).zip(pr.chunks_exact(B)) {
        mac8_f32::<B>(x8, le_u64(p8), &mut a0, &mut a1);
    }
    a0 + a1
}

/// [`dot_group_f32`] of two rows over the same inputs (`pa`, `pb`: each row's levels), each row's
/// terms added as `dot_group_f32` adds them (so the same sums, bit for bit), every input loaded
/// once for both rows. Its own walk: one generic over the row count for both measured 1.7%
/// more instructions per frame on the M4 f32 16 kHz demo (525,800 against 517,000).
#[inline(always)]
pub(crate) fn dot_rows2_f32<const B: usize>(x: &[f32], pa: &[u8], pb: &[u8]) -> (f32, f32) {
    let (mut a0, mut a1, mut b0, mut b1) = (0.0f32, 0.0f32, 0.0f32, 0.0f32);
    let c = (16 / B).min(4);
    let (xb, ab, bb) = (x.chunks_exact(8 * c), pa.chunks_exact(B * c), pb.chunks_exact(B * c));
    let (xr, ar, br) = (xb.remainder(), ab.remainder(), bb.remainder());
    for ((xs, qa), qb) in xb.zip(ab).zip(bb) {
        let (va, vb) = (le_u128(qa), le_u128(qb));
        for (j, x8) in xs.chunks_exact(8).enumerate() {
            mac8_f32::<B>(x8, (va >> (8 * B * j)) as u64, &mut a0, &mut a1);
            mac8_f32::<B>(x8, (vb >> (8 * B * j)) as u64, &mut b0, &mut b1);
        }
    }
    for ((x8, qa), qb) in xr.chunks_exact(8).zip(ar.chunks_exact(B)).zip(br.chunks_exact(B)) {
        mac8_f32::<B>(x8, le_u64(qa), &mut a0, &mut a1);
        mac8_f32::<B>(x8, le_u64(qb), &mut b0, &mut b1);
    }
    (a0 + a1, b0 + b1)
}

/// [`dot_group_f32`] for a run-time number of chunks (`x.len() / 8`, `B ≤ 8`): one chunk of 8
/// levels per iteration (one body per width whatever the group size), the same terms added in
/// the same order.
#[inline(always)]
pub(crate) fn dot_chunks_f32<const B: usize>(x: &[f32], p: &[u8]) -> f32 {
    let (mut a0, mut a1) = (0.0f32, 0.0f32);
    for (x8, p8) in x.chunks_exact(8).zip(p.chunks_exact(B)) {
        let w = if B <= 4 { u64::from(le_u32(p8)) } else { le_u64(p8) };
        mac8_f32::<B>(x8, w, &mut a0, &mut a1);
    }
    a0 + a1
}

/// [`dot_group_f32`] for a width `bits` (1..=15) known only at run time: even and odd terms in
/// two sums, as `dot_group_f32::<B>` adds them.
pub(crate) fn dot_group_any_f32(x: &[f32], p: &[u8], bits: u8) -> f32 {
    let mut r = LevelReader::new(p, bits);
    let (mut a0, mut a1) = (0.0f32, 0.0f32);
    for xs in x.chunks_exact(2) {
        if let [x0, x1] = xs {
            a0 += *x0 * r.next_level() as f32;
            a1 += *x1 * r.next_level() as f32;
        }
    }
    a0 + a1
}

/// Both rows of one row-pair group (`B ≤ 8`): `pa`, `pb` are the segment's levels of row `a`
/// and of row `b`; each input is loaded once for both rows.
#[inline(always)]
pub(crate) fn dot_pair_f32<const B: usize>(xs: &[f32], pa: &[u8], pb: &[u8]) -> (f32, f32) {
    let mask = (1u64 << B) - 1;
    let (mut a, mut b) = (0.0f32, 0.0f32);
    for ((x8, ca), cb) in xs.chunks_exact(8).zip(pa.chunks_exact(B)).zip(pb.chunks_exact(B)) {
        // Up to 4 bits a chunk is one 32-bit word per row (cheaper to assemble and shift).
        let (wa, wb) = if B <= 4 { (u64::from(le_u32(ca)), u64::from(le_u32(cb))) } else { (le_u64(ca), le_u64(cb)) };
        for (i, xv) in x8.iter().enumerate() {
            a += *xv * ((wa >> (i * B)) & mask) as u32 as f32;
            b += *xv * ((wb >> (i * B)) & mask) as u32 as f32;
        }
    }
    (a, b)
}

/// [`dot_pair_f32`] at 2, 3 and 4 bits: each chunk's levels as f32 from [`levels8_f32`]'s tables,
/// the same values, so the same products and sums in the same order. At 3 bits each of `pa`,
/// `pb` carries one byte more than the row's levels (from what follows them in the blob): every
/// 3-byte chunk is read as one unaligned word load, its fourth byte unused.
#[inline(always)]
pub(crate) fn dot_pair_table_f32<const B: usize>(xs: &[f32], pa: &[u8], pb: &[u8]) -> (f32, f32) {
    let (mut a, mut b) = (0.0f32, 0.0f32);
    let x8s = xs.chunks_exact(8);
    if B == 3 {
        for ((x8, ca), cb) in x8s.zip(pa.windows(4).step_by(3)).zip(pb.windows(4).step_by(3)) {
            (a, b) = chunk_pair_f32::<B>(x8, le_u32(ca), le_u32(cb), (a, b));
        }
    } else {
        for ((x8, ca), cb) in x8s.zip(pa.chunks_exact(B)).zip(pb.chunks_exact(B)) {
            (a, b) = chunk_pair_f32::<B>(x8, le_u32(ca), le_u32(cb), (a, b));
        }
    }
    (a, b)
}

/// One chunk of [`dot_pair_table_f32`]: 8 inputs times both rows' levels (in `wa`, `wb`).
/// Always inlined: as a closure, a build with every width's bodies (the C API's library) called
/// it out of line: 720,320 instead of 570,400 instructions per frame (16 kHz, M4 f32).
#[inline(always)]
fn chunk_pair_f32<const B: usize>(x8: &[f32], wa: u32, wb: u32, (mut a, mut b): (f32, f32)) -> (f32, f32) {
    let (la, lb) = (levels8_f32::<B>(wa), levels8_f32::<B>(wb));
    for ((xv, va), vb) in x8.iter().zip(la).zip(lb) {
        a += *xv * va;
        b += *xv * vb;
    }
    (a, b)
}

/// [`dot_pair_f32`] for any width, adding as `dot_pair_f32::<B>` does: one sum per row up to
/// 8 bits, [`dot_group_any_f32`] per row above.
pub(crate) fn dot_pair_any_f32(xs: &[f32], pa: &[u8], pb: &[u8], bits: u8) -> (f32, f32) {
    if bits > 8 {
        return (dot_group_any_f32(xs, pa, bits), dot_group_any_f32(xs, pb, bits));
    }
    let (mut ra, mut rb) = (LevelReader::new(pa, bits), LevelReader::new(pb, bits));
    let (mut a, mut b) = (0.0f32, 0.0f32);
    for xv in xs {
        a += *xv * ra.next_level() as f32;
        b += *xv * rb.next_level() as f32;
    }
    (a, b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quant::group_bytes;

    /// Widths 1..=8 have compile-time bodies (unrolled, one chunk at a time) and the any-width
    /// one: their f32 sums must be equal bit for bit (same products, same order), or a model's
    /// output would depend on its shape.
    fn same_f32<const B: usize>(x: &[f32], packed: &[u8]) {
        let n = x.len();
        let p = &packed[..group_bytes(n, B as u8)];
        assert_eq!(dot_group_any_f32(x, p, B as u8).to_bits(), dot_group_f32::<B>(x, p).to_bits(), "dot, B={B}");
        assert_eq!(dot_chunks_f32::<B>(x, p).to_bits(), dot_group_f32::<B>(x, p).to_bits(), "chunks, B={B}");
        let both = &packed[..2 * group_bytes(n, B as u8)];
        let (pa, pb) = both.split_at(both.len() / 2);
        let (ra, rb) = dot_rows2_f32::<B>(x, pa, pb);
        let rows = (dot_group_f32::<B>(x, pa).to_bits(), dot_group_f32::<B>(x, pb).to_bits());
        assert_eq!((ra.to_bits(), rb.to_bits()), rows, "two rows, B={B}");
        let (sa, sb) = dot_pair_f32::<B>(x, pa, pb);
        let (a, b) = dot_pair_any_f32(x, pa, pb, B as u8);
        assert_eq!((a.to_bits(), b.to_bits()), (sa.to_bits(), sb.to_bits()), "pair, B={B}");
        if (2..=4).contains(&B) {
            // At 3 bits each row's bytes are followed by one more (here random: it must not count).
            let half = pa.len();
            let (ta, tb) = if B == 3 { (&packed[..half + 1], &packed[half..2 * half + 1]) } else { (pa, pb) };
            let (ta, tb) = dot_pair_table_f32::<B>(x, ta, tb);
            assert_eq!((ta.to_bits(), tb.to_bits()), (sa.to_bits(), sb.to_bits()), "table pair, B={B}");
        }
    }

    #[test]
    fn f32_sums_equal_the_monomorphised_kernels_bit_for_bit() {
        let mut seed = 0x1234_5678u32;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed
        };
        for n in [8usize, 16, 24, 32, 40, 48, 64] {
            let x: [f32; 64] = core::array::from_fn(|_| (next() as i32 as f32) * 1e-9);
            let packed: [u8; 128] = core::array::from_fn(|_| next() as u8);
            let x = &x[..n];
            same_f32::<1>(x, &packed);
            same_f32::<2>(x, &packed);
            same_f32::<3>(x, &packed);
            same_f32::<4>(x, &packed);
            same_f32::<5>(x, &packed);
            same_f32::<6>(x, &packed);
            same_f32::<7>(x, &packed);
            same_f32::<8>(x, &packed);
        }
    }
}
