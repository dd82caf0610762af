//! Dual 16-bit multiply-accumulate for the integer kernels of `diffq-runtime`, behind a safe API.
//!
//! On Armv7E-M (Cortex-M4, M7) each function is one instruction in inline assembly (stable Rust
//! exposes neither the DSP intrinsics nor a pattern LLVM turns into them); elsewhere it is
//! portable Rust computing the same 32-bit result. [`portable`] is always built, so tests compare
//! both: the host runs the portable code, and the firmware built for the M4 and M7 runs the
//! assembly against the host's outputs bit for bit.
#![no_std]
#![deny(unsafe_code)]

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

/// The same operations in portable Rust (built everywhere, for the tests).
pub mod portable {
    /// [`super::smlad`].
    #[inline(always)]
    pub fn smlad(a: u32, b: u32, acc: i32) -> i32 {
        let lo = i32::from(a as i16) * i32::from(b as i16);
        let hi = i32::from((a >> 16) as i16) * i32::from((b >> 16) as i16);
        acc.wrapping_add(lo).wrapping_add(hi)
    }

    /// [`super::sxtb16`].
    #[inline(always)]
    pub fn sxtb16(x: u32) -> u32 {
        let lo = u32::from(x as u8 as i8 as i16 as u16);
        let hi = u32::from((x >> 16) as u8 as i8 as i16 as u16);
        lo | (hi << 16)
    }
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
    use super::*;
    use rand::{Rng, SeedableRng};

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
}
