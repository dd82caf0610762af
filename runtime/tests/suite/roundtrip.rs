//! Bit packing round trips: the raw LSB-first stream for every width 1..=15 and any length, and
//! whole packed tensors (odd group sizes, every bit-width-table width) through a written blob.

use diffq_runtime::quant::{pack_levels, unpack_levels, MAX_BITS};
use diffq_runtime::writer::BlobWriter;
use diffq_runtime::{Model, Weights};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    /// Every width 1..=15 on the same random (odd) length: pack → unpack is the identity, the
    /// stream is `ceil(len·bits/8)` bytes, padding bits are zero, a short buffer is `None`.
    #[test]
    fn pack_unpack_every_width(raw in prop::collection::vec(any::<u16>(), 0..257)) {
        for bits in 1..=MAX_BITS {
            let levels: Vec<u16> = raw.iter().map(|&l| l & ((1u32 << bits) - 1) as u16).collect();
            let nbits = levels.len() * usize::from(bits);
            let n = nbits.div_ceil(8);
            let mut buf = vec![0xA5u8; n + 3];
            prop_assert_eq!(pack_levels(&levels, bits, &mut buf), Some(n));
            if nbits % 8 != 0 {
                prop_assert_eq!(buf[n - 1] >> (nbits % 8), 0, "padding bits must be zero");
            }
            let mut back = vec![0u16; levels.len()];
            prop_assert_eq!(unpack_levels(&buf[..n], bits, &mut back), Some(()));
            prop_assert_eq!(&back, &levels);
            if n > 0 {
                prop_assert_eq!(unpack_levels(&buf[..n - 1], bits, &mut back), None);
            }
            prop_assert_eq!(pack_levels(&levels, bits, &mut vec![0u8; n.saturating_sub(1)]), if n == 0 { Some(0) } else { None });
        }
    }

    /// A level that does not fit, or a width outside 1..=15, is refused (never silently cut).
    #[test]
    fn pack_refuses_bad_input(bits in 1u8..=15, len in 1usize..40, at in 0usize..40) {
        let mut levels = vec![0u16; len];
        levels[at % len] = (1u32 << bits) as u16; // one past the largest level
        let mut buf = vec![0u8; 2 * len + 2];
        prop_assert_eq!(pack_levels(&levels, bits, &mut buf), None);
        prop_assert_eq!(pack_levels(&levels, 0, &mut buf), None);
        prop_assert_eq!(pack_levels(&levels, 16, &mut buf), None);
        prop_assert_eq!(unpack_levels(&buf, 0, &mut levels), None);
        prop_assert_eq!(unpack_levels(&buf, 16, &mut levels), None);
    }

    /// A packed tensor written by `BlobWriter` reads back level for level through `Model`:
    /// group sizes 8..=64, 1..=9 groups per row, 1..=3 rows, bit widths spanning 0..=14 (table
    /// widths 0, 1, 2, 4).
    #[test]
    fn packed_tensor_through_blob(gs8 in 1usize..=8, groups in 1usize..=9, rows in 1usize..=3,
                                  lo in 1u8..=15, spread in 0u8..=14, seed in any::<u64>()) {
        let gs = gs8 * 8;
        let hi = (lo + spread).min(MAX_BITS);
        let mut r = crate::common::rng(seed);
        let q = crate::common::Q::random(&mut r, gs * groups * rows, gs, crate::common::Bits::Var(lo, hi));
        let mut bw = BlobWriter::new(gs * groups);
        let w = q.add(&mut bw);
        bw.linear(w, None, gs * groups, rows).unwrap();
        let blob = bw.finish().unwrap();
        let m = Model::parse(&blob).unwrap();
        let Weights::Packed(p) = m.tensor(0).unwrap().weights else { panic!("not packed") };
        let (qlo, qhi) = (*q.bits.iter().min().unwrap(), *q.bits.iter().max().unwrap());
        let expect_width = match qhi - qlo { 0 => 0, 1 => 1, 2 | 3 => 2, _ => 4 };
        prop_assert_eq!(p.bits_width, expect_width);
        prop_assert_eq!(p.bits_base, qlo);
        prop_assert_eq!(p.fixed_bits().is_some(), qlo == qhi);
        prop_assert_eq!(p.bits_table.len(), (q.bits.len() * usize::from(expect_width)).div_ceil(8));
        prop_assert_eq!((p.min, p.max, usize::from(p.group_size)), (q.min, q.max, gs));
        let mut off = 0;
        for (g, chunk) in q.levels.chunks(gs).enumerate() {
            let b = p.group_bits(g);
            prop_assert_eq!(b, q.bits[g]);
            let nb = gs * usize::from(b) / 8;
            let mut back = vec![0u16; gs];
            unpack_levels(&p.data[off..off + nb], b, &mut back).unwrap();
            prop_assert_eq!(&back[..], chunk);
            off += nb;
        }
        prop_assert_eq!(off, p.data.len());
    }
}
