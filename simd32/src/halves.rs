//! Row pairs of one width `B` of 1, 2 or 4 bits in halfword-paired words: `diffq-runtime`'s rows
//! (its FORMAT.md, layout 0) of a one-input layer whose rows are whole packed words.
//!
//! A row's little-endian word `k` holds `H = 16 / B` levels in its low halfword and the next `H`
//! in its high one: level `j` of each half at bits `B·j` (and `16 + B·j`), so one `AND` of the
//! shifted word with the level mask puts levels `j` and `j + H` of the word in the halfwords of
//! one word, ready for `SMLAD` against input pair `xw[H·k + j]` (the caller widens the inputs
//! once per layer: `x_j` in the low halfword, `x_{j+H}` in the high one, sign-extended).
//!
//! On Armv7E-M a call is one inline-assembly loop over a block of row pairs: per packed word of
//! both rows two `LDR`s (unaligned loads are architectural), `H / 2` `LDRD`s of input pairs and
//! per pair and row one `AND` and one `SMLAD` (40 instructions per word at 2 bits, with its
//! two of loop), per row pair 9 more to store both sums and move on, in 12 registers and two
//! words of stack (the output pointer and the pair count). Compiled from Rust, the loop reloaded
//! its row pointer from the stack every word and spent 46 instructions per row pair between
//! rows. Elsewhere, and in [`crate::portable`], the same operations in Rust with the same
//! results.

/// Runs `$text` (one packed word of both rows, the word already in `wa` and `wb`) over a block
/// of row pairs: the inputs `$xw`, the rows `$rows`, the sums into `$out`; `$lsl`: `log2(H)`,
/// so that one row's bytes shifted by it are its inputs' bytes.
#[cfg(simd32_dsp)]
macro_rules! pairs_asm {
    ($xw:expr, $rows:expr, $out:expr, $b:literal, $mask:expr, $lsl:literal, $text:expr) => {{
        let (xw, rows, out): (&[u32], &[u8], &mut [[i32; 2]]) = ($xw, $rows, $out);
        let h = 16 / $b;
        let words = xw.len() / h;
        let row = 4 * words;
        // (A division only when `rows` is short of `out`'s pairs.)
        let n = match row {
            0 => 0,
            _ if rows.len() >= out.len().saturating_mul(2 * row) => out.len(),
            _ => rows.len() / (2 * row),
        };
        if n != 0 {
            let end = xw.as_ptr().wrapping_add(h * words);
            // SAFETY: `n ≥ 1` row pairs and `words ≥ 1` words per row: the loop reads the words
            // `[0, words·h)` of `xw` (`u32`s, aligned for `LDRD`; `px` restarts at `end − h·row`
            // bytes, `xw`'s start, for each pair and stops at `end`) and the `2·n·row` bytes
            // of `rows` from its start (row b at `row` bytes past row a; unaligned word loads are
            // architectural on Armv7E-M); it writes `n` pairs of `out` (`[i32; 2]`, 8 bytes each,
            // word-aligned for `STRD`) and two words below the stack pointer, which it lowers
            // around them and restores; every other write is to a register (the pointers and
            // the count are clobbered inputs). `SMLAD` may set the sticky Q flag, which no Rust
            // code reads, and `SUBS`/`CMP` the condition flags, which are not preserved.
            #[allow(unsafe_code)]
            unsafe {
                core::arch::asm!(
                    "strd {xl}, {xh}, [sp, #-8]!",
                    "1:",
                    "mov {sa}, #0",
                    "mov {sb}, #0",
                    concat!("sub {px}, {end}, {row}, lsl #", stringify!($lsl)),
                    "2:",
                    "ldr {wb}, [{pa}, {row}]",
                    "ldr {wa}, [{pa}], #4",
                    $text,
                    "cmp {px}, {end}",
                    "bne 2b",
                    "ldrd {xl}, {xh}, [sp]",
                    "strd {sa}, {sb}, [{xl}], #8",
                    "add {pa}, {pa}, {row}",
                    "subs {xh}, {xh}, #1",
                    "strd {xl}, {xh}, [sp]",
                    "bne 1b",
                    "add sp, sp, #8",
                    px = out(reg) _, end = in(reg) end, pa = inout(reg) rows.as_ptr() => _, row = in(reg) row,
                    m = in(reg) $mask, sa = out(reg) _, sb = out(reg) _,
                    xl = inout(reg) out.as_mut_ptr() => _, xh = inout(reg) n => _,
                    wa = out(reg) _, wb = out(reg) _, t = out(reg) _,
                )
            };
        }
    }};
}

/// Runs `$text` (one packed word of both rows) over two rows `$ra`, `$rb` on the inputs `$xw`:
/// the words all three hold whole; both sums from zero.
#[cfg(simd32_dsp)]
macro_rules! rows2_asm {
    ($xw:expr, $ra:expr, $rb:expr, $b:literal, $mask:expr, $text:expr) => {{
        let (xw, ra, rb): (&[u32], &[u8], &[u8]) = ($xw, $ra, $rb);
        let words = (xw.len() / (16 / $b)).min(ra.len() / 4).min(rb.len() / 4);
        let (mut sa, mut sb) = (0i32, 0i32);
        if words != 0 {
            let end = xw.as_ptr().wrapping_add(16 / $b * words);
            // SAFETY: `words ≥ 1`: the loop reads the first `words·16/B` words of `xw` (`u32`s,
            // aligned for `LDRD`; it stops at `end`) and the first `4·words` bytes of `ra` and
            // `rb` (unaligned word loads are architectural on Armv7E-M), writes registers only
            // (the pointers are clobbered inputs) and uses no stack; `SMLAD` may set the sticky
            // Q flag, which no Rust code reads, and `CMP` the condition flags, not preserved.
            #[allow(unsafe_code)]
            unsafe {
                core::arch::asm!(
                    "2:",
                    "ldr {wa}, [{pa}], #4",
                    "ldr {wb}, [{pb}], #4",
                    $text,
                    "cmp {px}, {end}",
                    "bne 2b",
                    px = inout(reg) xw.as_ptr() => _, end = in(reg) end, pa = inout(reg) ra.as_ptr() => _,
                    pb = inout(reg) rb.as_ptr() => _, m = in(reg) $mask, sa = inout(reg) sa, sb = inout(reg) sb,
                    xl = out(reg) _, xh = out(reg) _, wa = out(reg) _, wb = out(reg) _, t = out(reg) _,
                    options(pure, readonly, nostack),
                )
            };
        }
        (sa, sb)
    }};
}

/// Row pairs at 1 bit (16 levels per halfword): pair `i`'s rows are `rows`' rows `2i` and
/// `2i + 1`, each `4·⌊xw.len() / 16⌋` bytes, one after the other; `out[i]` becomes both rows'
/// `Σ x·level` (wrapping) over the input pairs `xw` (see the module), for each pair that both
/// `out` and `rows` hold whole; the rest of `out` is left as it is.
#[inline(always)]
pub fn halves_pairs_w1_i8(xw: &[u32], rows: &[u8], out: &mut [[i32; 2]]) {
    #[cfg(simd32_dsp)]
    return pairs_asm!(xw, rows, out, 1, 0x0001_0001u32, 4, word_w1!());
    #[cfg(not(simd32_dsp))]
    return crate::portable::halves_pairs_w1_i8(xw, rows, out);
}

/// Row pairs at 2 bits (8 levels per halfword), as [`halves_pairs_w1_i8`]: rows of
/// `4·⌊xw.len() / 8⌋` bytes.
#[inline(always)]
pub fn halves_pairs_w2_i8(xw: &[u32], rows: &[u8], out: &mut [[i32; 2]]) {
    #[cfg(simd32_dsp)]
    return pairs_asm!(xw, rows, out, 2, 0x0003_0003u32, 3, word_w2!());
    #[cfg(not(simd32_dsp))]
    return crate::portable::halves_pairs_w2_i8(xw, rows, out);
}

/// Row pairs at 4 bits (4 levels per halfword), as [`halves_pairs_w1_i8`]: rows of
/// `4·⌊xw.len() / 4⌋` bytes.
#[inline(always)]
pub fn halves_pairs_w4_i8(xw: &[u32], rows: &[u8], out: &mut [[i32; 2]]) {
    #[cfg(simd32_dsp)]
    return pairs_asm!(xw, rows, out, 4, 0x000F_000Fu32, 2, word_w4!());
    #[cfg(not(simd32_dsp))]
    return crate::portable::halves_pairs_w4_i8(xw, rows, out);
}

/// One row pair at 1 bit, rows `ra` and `rb` apart (the rows of one input of a layer with
/// several): both rows' `Σ x·level` (wrapping, from zero) over the packed words that `ra`, `rb`
/// and the input pairs `xw` (16 per word) all hold whole.
#[inline(always)]
pub fn halves_rows2_w1_i8(xw: &[u32], ra: &[u8], rb: &[u8]) -> (i32, i32) {
    #[cfg(simd32_dsp)]
    return rows2_asm!(xw, ra, rb, 1, 0x0001_0001u32, word_w1!());
    #[cfg(not(simd32_dsp))]
    return crate::portable::halves_rows2_w1_i8(xw, ra, rb);
}

/// One row pair at 2 bits (8 input pairs per word), as [`halves_rows2_w1_i8`].
#[inline(always)]
pub fn halves_rows2_w2_i8(xw: &[u32], ra: &[u8], rb: &[u8]) -> (i32, i32) {
    #[cfg(simd32_dsp)]
    return rows2_asm!(xw, ra, rb, 2, 0x0003_0003u32, word_w2!());
    #[cfg(not(simd32_dsp))]
    return crate::portable::halves_rows2_w2_i8(xw, ra, rb);
}

/// One row pair at 4 bits (4 input pairs per word), as [`halves_rows2_w1_i8`].
#[inline(always)]
pub fn halves_rows2_w4_i8(xw: &[u32], ra: &[u8], rb: &[u8]) -> (i32, i32) {
    #[cfg(simd32_dsp)]
    return rows2_asm!(xw, ra, rb, 4, 0x000F_000Fu32, word_w4!());
    #[cfg(not(simd32_dsp))]
    return crate::portable::halves_rows2_w4_i8(xw, ra, rb);
}
