//! Group dot products for a bit width known only at run time: one copy of the code serves
//! every width. The monomorphised kernels (one copy per width) cover the shapes that matter for
//! speed (widths 1..=8 with the trainer's group size of 64); these cover the rest (other group
//! sizes, widths 9..=15) for a few KB of flash instead of ~25 KB per kernel family.
//!
//! Each sum adds the same products in the same order as its monomorphised twin, so the results
//! are bit-identical (f32 included) whichever code runs.

use crate::quant::{group_bytes, MAX_BITS};

/// Levels of `b` bits (1..=15), LSB-first, read one at a time from `data` (0 past its end).
pub(crate) struct LevelReader<'a> {
    data: &'a [u8],
    pos: usize,
    acc: u32,
    held: u32,
    bits: u32,
    mask: u32,
}

impl<'a> LevelReader<'a> {
    #[inline(always)]
    pub(crate) fn new(data: &'a [u8], bits: u8) -> Self {
        let bits = u32::from(bits.clamp(1, MAX_BITS));
        LevelReader { data, pos: 0, acc: 0, held: 0, bits, mask: (1 << bits) - 1 }
    }

    /// The next level. `held < bits ≤ 15` before a refill, so `acc` never exceeds 22 bits.
    #[inline(always)]
    pub(crate) fn next_level(&mut self) -> u32 {
        while self.held < self.bits {
            self.acc |= u32::from(self.data.get(self.pos).copied().unwrap_or(0)) << self.held;
            self.held += 8;
            self.pos += 1;
        }
        let v = self.acc & self.mask;
        self.acc >>= self.bits;
        self.held -= self.bits;
        v
    }
}

/// Splits one group of `len` levels at `bits` off `data`: `None` for a width outside 1..=15 or
/// too few bytes (the kernels turn it into `Error::KernelShape`).
#[inline(always)]
pub(crate) fn split_group(data: &[u8], len: usize, bits: u8) -> Option<(&[u8], &[u8])> {
    if bits == 0 || bits > MAX_BITS {
        return None;
    }
    data.split_at_checked(group_bytes(len, bits))
}

/// `Σ x_i·level_i` with even and odd terms in two sums, as `f32::dot_group::<B>` adds them.
pub(crate) fn dot_f32(x: &[f32], p: &[u8], bits: u8) -> f32 {
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

/// Both rows of a row-pair group on the f32 path, as `f32::pair_into::<B>` adds them: one sum
/// per row up to 8 bits, [`dot_f32`] per row above.
pub(crate) fn pair_f32(xs: &[f32], pa: &[u8], pb: &[u8], bits: u8) -> (f32, f32) {
    if bits > 8 {
        return (dot_f32(xs, pa, bits), dot_f32(xs, pb, bits));
    }
    let (mut ra, mut rb) = (LevelReader::new(pa, bits), LevelReader::new(pb, bits));
    let (mut a, mut b) = (0.0f32, 0.0f32);
    for xv in xs {
        a += *xv * ra.next_level() as f32;
        b += *xv * rb.next_level() as f32;
    }
    (a, b)
}

/// `Σ q_i·level_i` in i32 (exact when the caller's `fits_i32` holds; wrapping otherwise, never
/// a panic).
pub(crate) fn dot_i32(x: &[i8], p: &[u8], bits: u8) -> i32 {
    let mut r = LevelReader::new(p, bits);
    x.iter().fold(0i32, |a, xv| a.wrapping_add(i32::from(*xv) * r.next_level() as i32))
}

/// `Σ q_i·level_i` in i64, for groups whose sum may not fit i32.
pub(crate) fn dot_i64(x: &[i8], p: &[u8], bits: u8) -> i64 {
    let mut r = LevelReader::new(p, bits);
    x.iter().fold(0i64, |a, xv| a.wrapping_add(i64::from(*xv) * i64::from(r.next_level())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quant::{pack_levels, unpack_levels};

    /// The reader agrees with the reference bit reader at every width, and pads with zeros.
    #[test]
    fn reader_matches_unpack_levels_for_every_width() {
        for bits in 1..=MAX_BITS {
            let levels: [u16; 24] = core::array::from_fn(|i| {
                ((i as u32).wrapping_mul(2_654_435_761) >> 9) as u16 & ((1u32 << bits) - 1) as u16
            });
            let mut buf = [0u8; 64];
            let n = pack_levels(&levels, bits, &mut buf).unwrap();
            let mut reference = [0u16; 24];
            unpack_levels(&buf[..n], bits, &mut reference).unwrap();
            let mut r = LevelReader::new(&buf[..n], bits);
            for (i, want) in reference.iter().enumerate() {
                assert_eq!(r.next_level(), u32::from(*want), "bits {bits} level {i}");
            }
            assert_eq!(r.next_level(), 0, "past the end: zeros");
        }
    }

    /// Widths 1..=8 have both a monomorphised body and this one: their f32 sums must be equal
    /// bit for bit (same products, same order), or a model's output would depend on its shape.
    fn same_f32<const B: usize>(x: &[f32], packed: &[u8]) {
        let n = x.len();
        let p = &packed[..group_bytes(n, B as u8)];
        assert_eq!(dot_f32(x, p, B as u8).to_bits(), super::super::f32::dot_group::<B>(x, p).to_bits(), "dot, B={B}");
        let (mut sa, mut sb) = ([0.0f32; 16], [0.0f32; 16]);
        let both = &packed[..2 * group_bytes(n, B as u8)];
        super::super::f32::pair_into::<B>(x, both, &mut sa, &mut sb).unwrap();
        let (a, b) = pair_f32(x, &both[..both.len() / 2], &both[both.len() / 2..], B as u8);
        assert_eq!((a.to_bits(), b.to_bits()), (sa[B].to_bits(), sb[B].to_bits()), "pair, B={B}");
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
        for n in [8usize, 16, 32, 40, 64] {
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

    #[test]
    fn split_group_rejects_bad_widths_and_short_data() {
        let d = [0u8; 8];
        assert!(split_group(&d, 8, 0).is_none());
        assert!(split_group(&d, 8, 16).is_none());
        assert!(split_group(&d, 16, 5).is_none(), "16 levels of 5 bits need 10 bytes");
        assert_eq!(split_group(&d, 16, 4).map(|(a, b)| (a.len(), b.len())), Some((8, 0)));
    }
}
