//! The sum of int8 values (a layer's inputs, for the weights' offset term): on Armv7E-M four at a
//! time by `USADA8` (the sum of four bytes' absolute differences, here from zero) on the bytes
//! biased by `EOR #0x80808080` (`x + 128`, unsigned), the bias taken back once at the end: 14
//! instructions per 16 values (four unaligned word loads, which Armv7-M allows, four `EOR`, four
//! `USADA8`, 2 of loop), where the compiled Rust took a sign-extending byte load and an add per
//! value. Elsewhere, and in [`crate::portable`], the sum value by value. Both wrap in `i32`.

/// Inline-assembly text of 8 values: two word loads stepping `p`, each word's bytes biased by 128
/// and added to `s` by `USADA8` against zero (`z`).
#[cfg(simd32_dsp)]
macro_rules! eight {
    () => {
        concat!(
            "ldr {a}, [{p}], #4\n",
            "ldr {b}, [{p}], #4\n",
            "eor {a}, {a}, #0x80808080\n",
            "eor {b}, {b}, #0x80808080\n",
            "usada8 {s}, {a}, {z}, {s}\n",
            "usada8 {s}, {b}, {z}, {s}"
        )
    };
}

/// Values per pass of the assembly loop.
#[cfg(simd32_dsp)]
const STEP: usize = 16;

/// `Σ x`, wrapping in `i32` (exact while `x.len() < 2^24`).
#[inline(always)]
pub fn sum_i8(x: &[i8]) -> i32 {
    #[cfg(simd32_dsp)]
    return {
        let passes = x.len() / STEP;
        let (body, tail) = x.split_at(passes * STEP);
        let mut biased = 0u32;
        if passes != 0 {
            // SAFETY: the loop runs `passes ≥ 1` times and reads the `16·passes` bytes of `body`
            // (word loads need no alignment on Armv7E-M), writes registers only (the pointer and
            // count are clobbered inputs) and uses no stack; `SUBS` sets the condition flags,
            // which are not preserved.
            #[allow(unsafe_code)]
            unsafe {
                core::arch::asm!(
                    "2:",
                    eight!(),
                    eight!(),
                    "subs {n}, {n}, #1",
                    "bne 2b",
                    p = inout(reg) body.as_ptr() => _, n = inout(reg) passes => _, z = in(reg) 0u32,
                    s = inout(reg) biased, a = out(reg) _, b = out(reg) _,
                    options(pure, readonly, nostack),
                )
            };
        }
        // Each value came in as `x + 128`: the bias off, modulo 2^32 (the length's bits past 25
        // fall out of `128·len` there, as they do from a wrapping sum).
        let bias = (body.len() as u32).wrapping_mul(128);
        (biased.wrapping_sub(bias) as i32).wrapping_add(crate::portable::sum_i8(tail))
    };
    #[cfg(not(simd32_dsp))]
    return crate::portable::sum_i8(x);
}
