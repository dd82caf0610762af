//! `simd-test`: `diffq-simd32`'s functions, the Armv7E-M assembly on the M4 and M7 builds (its
//! portable code elsewhere), against its portable code on edge cases and random inputs.

use diffq_simd32::{portable, smlad, sxtb16, sxtb16_ror8, NATIVE};

/// Inputs checked after the edge cases.
const RANDOM: u32 = 100_000;

/// The number of inputs checked, or the first `(a, b, acc)` on which the two disagree.
pub fn run() -> Result<u32, (u32, u32, i32)> {
    let edges = [0, 1, 0x7FFF_7FFF, 0x8000_8000, 0xFFFF_FFFF, 0x8080_8080, 0x7F7F_7F7F, 0x0001_FFFF];
    let mut s = 0x2545_F491u32;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        s
    };
    let mut n = 0;
    let mut check = |a: u32, b: u32, acc: i32| {
        n += 1;
        let same = smlad(a, b, acc) == portable::smlad(a, b, acc)
            && sxtb16(a) == portable::sxtb16(a)
            && sxtb16_ror8(a) == portable::sxtb16(a.rotate_right(8));
        if same {
            Ok(())
        } else {
            Err((a, b, acc))
        }
    };
    for a in edges {
        for b in edges {
            for acc in [0, i32::MAX, i32::MIN, -1] {
                check(a, b, acc)?;
            }
        }
    }
    for _ in 0..RANDOM {
        let (a, b, acc) = (next(), next(), next() as i32);
        check(a, b, acc)?;
    }
    defmt::info!("simd32 self-test: native assembly {=bool}", NATIVE);
    Ok(n)
}
