//! Reading packed levels: 8 levels of `B` bits (= `B` bytes) with constant shifts, little-endian
//! word loads, a reader for a width known only at run time, and walking over groups.

use crate::error::Error;
use crate::quant::{group_bytes, MAX_BITS};

/// The 8 levels stored in `p` (`p.len() == B`; shorter input yields zeros, never a panic).
/// `B` is a const generic so each width compiles to its own straight-line code.
#[inline(always)]
pub(crate) fn unpack8<const B: usize>(p: &[u8]) -> [u32; 8] {
    let mask = (1u32 << B) - 1;
    let mut out = [0u32; 8];
    if B <= 4 {
        // 8·B ≤ 32 bits: one word.
        let mut w = [0u8; 4];
        for (d, s) in w.iter_mut().zip(p.iter().take(B)) {
            *d = *s;
        }
        let v = u32::from_le_bytes(w);
        for (i, o) in out.iter_mut().enumerate() {
            *o = (v >> (i * B)) & mask;
        }
    } else if B <= 8 {
        let mut w = [0u8; 8];
        for (d, s) in w.iter_mut().zip(p.iter().take(B)) {
            *d = *s;
        }
        let v = u64::from_le_bytes(w);
        for (i, o) in out.iter_mut().enumerate() {
            *o = (v >> (i * B)) as u32 & mask;
        }
    } else {
        let mut w = [0u8; 16];
        for (d, s) in w.iter_mut().zip(p.iter().take(B)) {
            *d = *s;
        }
        let v = u128::from_le_bytes(w);
        for (i, o) in out.iter_mut().enumerate() {
            *o = (v >> (i * B)) as u32 & mask;
        }
    }
    out
}

/// The mask of one `b`-bit level in each halfword of a word (`b ≤ 15`): extracts two levels at
/// once where a word holds them at the same bit offset of its halves (row pairs, halfword pairs).
#[inline(always)]
pub(crate) const fn halves_mask(b: usize) -> u32 {
    let lane = (1u32 << b) - 1;
    lane | (lane << 16)
}

/// Up to 4 bytes (one chunk of 8 levels, `B ≤ 4`) as a little-endian `u32`.
#[inline(always)]
pub(crate) fn le_u32(p: &[u8]) -> u32 {
    let mut w = [0u8; 4];
    for (d, s) in w.iter_mut().zip(p) {
        *d = *s;
    }
    u32::from_le_bytes(w)
}

/// Up to 8 bytes (one chunk of 8 levels, `B ≤ 8`) as a little-endian `u64`.
#[inline(always)]
pub(crate) fn le_u64(p: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    for (d, s) in w.iter_mut().zip(p) {
        *d = *s;
    }
    u64::from_le_bytes(w)
}

/// Up to 16 bytes (a block of chunks) as a little-endian `u128`: with a constant length this
/// compiles to word loads, and constant shifts of it to plain 32-bit operations.
#[inline(always)]
pub(crate) fn le_u128(p: &[u8]) -> u128 {
    let mut w = [0u8; 16];
    for (d, s) in w.iter_mut().zip(p) {
        *d = *s;
    }
    u128::from_le_bytes(w)
}

/// Up to 16 bytes as a little-endian `u128`, read a 32-bit word at a time: with a constant
/// length of whole words this compiles to one word load per word (unaligned `ldr` on Armv7-M),
/// where [`le_u128`]'s byte copy becomes byte loads.
#[inline(always)]
pub(crate) fn le_words_u128(p: &[u8]) -> u128 {
    let words = p.chunks_exact(4);
    let tail = u128::from(le_u32(words.remainder())).checked_shl(8 * (p.len() & !3) as u32).unwrap_or(0);
    let word = |w: &[u8]| <[u8; 4]>::try_from(w).map_or(0, u32::from_le_bytes);
    words.take(4).enumerate().fold(tail, |v, (i, w)| v | u128::from(word(w)) << (32 * i))
}

/// Levels of `b` bits (1..=15), LSB-first, read one at a time from `data` (0 past its end): the
/// any-width kernels' reader.
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

/// Steps over `n` groups of `gs` levels (a tap before the stream start reads only zeros).
#[inline]
pub(crate) fn skip_groups<'d>(
    bits: &mut impl Iterator<Item = u8>,
    data: &'d [u8],
    n: usize,
    gs: usize,
) -> Result<&'d [u8], Error> {
    let mut data = data;
    for _ in 0..n {
        let nb = group_bytes(gs, bits.next().unwrap_or(0));
        data = data.get(nb..).ok_or(Error::KernelShape)?;
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::super::dispatch::dispatch_bits_upto8;
    use super::*;
    use crate::quant::{pack_levels, unpack_levels};
    use proptest::prop_assert_eq;

    /// Every width 1..=15 as a const generic (the kernels stop at 8).
    macro_rules! dispatch_bits_all {
        ($b:expr, $f:ident, $default:expr, ($($arg:expr),*)) => {
            match $b {
                9 => $f::<9>($($arg),*),
                10 => $f::<10>($($arg),*),
                11 => $f::<11>($($arg),*),
                12 => $f::<12>($($arg),*),
                13 => $f::<13>($($arg),*),
                14 => $f::<14>($($arg),*),
                15 => $f::<15>($($arg),*),
                b => dispatch_bits_upto8!(b, $f, $default, ($($arg),*)),
            }
        };
    }

    fn check<const B: usize>() {
        let levels: [u16; 8] =
            core::array::from_fn(|i| ((i as u32).wrapping_mul(2_654_435_761u32) >> 7) as u16 & ((1 << B) - 1) as u16);
        let mut buf = [0u8; 16];
        let n = pack_levels(&levels, B as u8, &mut buf).unwrap();
        assert_eq!(n, B);
        let got = unpack8::<B>(&buf[..B]);
        for i in 0..8 {
            assert_eq!(got[i], u32::from(levels[i]), "B={B} i={i}");
        }
    }

    /// `unpack8::<B>` (the kernels' fast unpack) and `quant::unpack_levels` (the reference
    /// bit reader) agree on the same packed bytes; trailing bytes are ignored, short input
    /// neither panics nor reads past the slice.
    fn agree<const B: usize>(raw: &[u16; 8], junk: u8) -> Result<(), proptest::test_runner::TestCaseError> {
        let levels: [u16; 8] = core::array::from_fn(|i| raw[i] & ((1u32 << B) - 1) as u16);
        let mut buf = [junk; 17];
        prop_assert_eq!(pack_levels(&levels, B as u8, &mut buf), Some(B));
        let mut reference = [0u16; 8];
        prop_assert_eq!(unpack_levels(&buf[..B], B as u8, &mut reference), Some(()));
        prop_assert_eq!(reference, levels);
        let fast = unpack8::<B>(&buf[..B]);
        prop_assert_eq!(fast.map(|v| v as u16), reference);
        prop_assert_eq!(unpack8::<B>(&buf), fast, "bytes past B are ignored");
        let _ = unpack8::<B>(&buf[..B - 1]);
        let _ = unpack8::<B>(&[]);
        Ok(())
    }

    proptest::proptest! {
        #[test]
        fn unpack8_agrees_with_unpack_levels(raw in proptest::array::uniform8(proptest::prelude::any::<u16>()), junk in proptest::prelude::any::<u8>()) {
            for b in 1..=15u8 {
                dispatch_bits_all!(b, agree, Ok(()), (&raw, junk))?;
            }
        }
    }

    #[test]
    fn unpack8_matches_pack_for_every_width() {
        check::<1>();
        check::<2>();
        check::<3>();
        check::<4>();
        check::<5>();
        check::<6>();
        check::<7>();
        check::<8>();
        check::<9>();
        check::<10>();
        check::<11>();
        check::<12>();
        check::<13>();
        check::<14>();
        check::<15>();
    }

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

    #[test]
    fn split_group_rejects_bad_widths_and_short_data() {
        let d = [0u8; 8];
        assert!(split_group(&d, 8, 0).is_none());
        assert!(split_group(&d, 8, 16).is_none());
        assert!(split_group(&d, 16, 5).is_none(), "16 levels of 5 bits need 10 bytes");
        assert_eq!(split_group(&d, 16, 4).map(|(a, b)| (a.len(), b.len())), Some((8, 0)));
    }
}
