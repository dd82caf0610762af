//! The row-pair group body for RV32 at 3 and 4 bits (see [`super::dot_i8`]'s `dot_pair_i8`):
//! RV32 has no unaligned word loads, so a packed word is put together from bytes, and this body
//! builds each one only from bytes where its lanes start.

use super::bits::{halves_mask, le_u32};

/// Whether [`pair_bytes_i8`] takes segments of `s` levels at `B` bits (3 bits: whole 8-level
/// chunks; 4 bits: whole 4-level lanes). At 1 and 2 bits the words body is the shorter one on RV32.
pub(super) const fn pair_bytes_fit<const B: usize>(s: usize) -> bool {
    s != 0 && (B == 3 && s % 8 == 0 || B == 4 && s % 4 == 0)
}

/// [`dot_pair_i8`]'s body on RV32 at 3 and 4 bits (no unaligned word loads, so each word is
/// put together from bytes): each packed word is built from the rows' bytes where its lanes
/// start on a byte, so no lane straddles a 32-bit word. At 4 bits a lane is two bytes of each row
/// (4 levels); at 3 bits each 3 bytes of a row (8 levels) make a lane of 5 levels (`& 0x7FFF`)
/// and one of 3 (`>> 15`). Flushed every 16 levels (`16·128·(2^B − 1) ≤ 30 720 < 2^15`, see
/// [`dot_pair_i8`]), which also keeps each flush's sum short enough for RV32's registers (LLVM
/// sums the products between flushes as one tree: every 32 levels, it spilled).
#[inline(always)]
pub(super) fn pair_bytes_i8<const B: usize>(xs: &[i8], pa: &[u8], pb: &[u8]) -> (i32, i32) {
    let mask = halves_mask(B);
    let mac = |acc: &mut i32, x: &[i8], w: u32| {
        for (j, v) in x.iter().enumerate() {
            *acc += i32::from(*v) * ((w >> (j * B)) & mask) as i32;
        }
    };
    let (mut sa, mut sb, mut acc) = (0i32, 0i32, 0i32);
    let mut flush = |acc: &mut i32| {
        let lo = i32::from(*acc as i16);
        (sa, sb, *acc) = (sa + lo, sb + ((*acc - lo) >> 16), 0);
    };
    if B == 3 {
        let chunks = xs.chunks_exact(8).zip(pa.chunks_exact(3)).zip(pb.chunks_exact(3));
        for (c, ((x8, a), b)) in chunks.enumerate() {
            let (ra, rb) = (le_u32(a), le_u32(b));
            let (x5, x3) = x8.split_at(5);
            mac(&mut acc, x5, (ra & 0x7FFF) | (rb << 16));
            mac(&mut acc, x3, (ra >> 15) | ((rb >> 15) << 16));
            if c % 2 == 1 {
                flush(&mut acc);
            }
        }
    } else if B == 4 {
        let words = xs.chunks_exact(4).zip(pa.chunks_exact(2)).zip(pb.chunks_exact(2));
        for (c, ((x4, a), b)) in words.enumerate() {
            mac(&mut acc, x4, le_u32(a) | (le_u32(b) << 16));
            if c % 4 == 3 {
                flush(&mut acc);
            }
        }
    }
    let lo = i32::from(acc as i16);
    (sa + lo, sb + ((acc - lo) >> 16))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::dot_i8::tests::{inputs, pair_case};
    use crate::kernels::test_util::Rng;

    /// The RV32 body for 3 and 4 bits ([`pair_bytes_i8`]: `dot_pair_i8` takes it on RV32 only,
    /// so it is called directly here) agrees with the plain sums for every segment length it takes up to 64
    /// levels, extremes included.
    #[test]
    fn pair_bytes_matches_reference() {
        fn check<const B: usize>(rng: &mut Rng) {
            for seg in (1..=64).filter(|&s| pair_bytes_fit::<B>(s)) {
                for _ in 0..20 {
                    let x = inputs(rng, seg);
                    let (bytes, want) = pair_case(rng, &x, B as u8);
                    let (pa, pb) = bytes.split_at(bytes.len() / 2);
                    assert_eq!(pair_bytes_i8::<B>(&x, pa, pb), want, "B={B} seg={seg}");
                }
            }
        }
        let mut rng = Rng::new(13);
        check::<3>(&mut rng);
        check::<4>(&mut rng);
        assert!(!pair_bytes_fit::<2>(32) && !pair_bytes_fit::<5>(32) && !pair_bytes_fit::<3>(12));
    }
}
