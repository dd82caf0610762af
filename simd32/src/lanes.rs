//! Runs of lane-pair blocks of two rows at 2, 3 or 4 bits: `diffq-runtime`'s storage order for dual
//! multiply-accumulates (its FORMAT.md, layout 2). A block is 32 int8 inputs and, per row, `B`
//! little-endian words (`4·B` bytes) holding 16 pairs of `B`-bit levels: pair `k` multiplies the
//! input pair `(x[4q + k mod 2], x[4q + 2 + k mod 2])`, `q = k / 2`, which the caller passes
//! ready as word `k` of `xp` (`SXTB16` of the input word `x[4q..4q + 4]` for `k` even,
//! `SXTB16 …, ROR #8` for `k` odd: the inputs widened once per layer). With `L = ⌊16 / B⌋` levels
//! per 16-bit lane, pair `k < B·L` is bits `(k mod L)·B ..` of word `k / L` in both lanes; at 3
//! bits the 16th pair is the spare bit 15 (lane 0) and 31 (lane 1) of words 0, 1 and 2, as its
//! bits 0, 1 and 2.
//!
//! On Armv7E-M a run of blocks of one width is one inline-assembly loop: per 4 inputs one `LDRD`
//! of two input pairs (stepping the input pointer), per pair and row one `AND` with a shifted
//! operand and one `SMLAD`, in 11 registers, so that no value goes through the stack: 76, 91 and
//! 80 instructions per block at 2, 3 and 4 bits plus 3 of loop, the sums kept in registers from
//! one block to the next (a caller scales a run's sums once, not each block's). Compiled from
//! Rust on int8 inputs, the 3-bit block reloaded its input pointer from the stack every 4 inputs
//! and kept every word live for the spare pair. Elsewhere,
//! and in [`crate::portable`], the same operations in Rust with the same 32-bit results.

/// Inline-assembly text of one pair: row `a`'s and row `b`'s levels at bit `$s` of the words in
/// `wa` and `wb` (`and` with the shifted word), each dual-multiplied by the input pair in `$x`.
#[cfg(simd32_dsp)]
macro_rules! pair {
    ($x:literal, 0) => {
        concat!(
            "and {t}, {m}, {wa}\n",
            "smlad {sa}, {t}, {",
            $x,
            "}, {sa}\n",
            "and {t}, {m}, {wb}\n",
            "smlad {sb}, {t}, {",
            $x,
            "}, {sb}\n"
        )
    };
    ($x:literal, $s:literal) => {
        concat!(
            "and {t}, {m}, {wa}, lsr #",
            $s,
            "\n",
            "smlad {sa}, {t}, {",
            $x,
            "}, {sa}\n",
            "and {t}, {m}, {wb}, lsr #",
            $s,
            "\n",
            "smlad {sb}, {t}, {",
            $x,
            "}, {sb}\n"
        )
    };
}

/// Loads the next input pairs (words `2q` and `2q + 1` of the block's `xp`: inputs `4q..4q + 4`)
/// into `xl` and `xh`, stepping `px` on by 8 bytes.
#[cfg(simd32_dsp)]
macro_rules! inputs {
    () => {
        "ldrd {xl}, {xh}, [{px}], #8\n"
    };
}

/// Loads row a's word at byte offset `$o` into `wa` and row b's (`$b` bytes on) into `wb`.
#[cfg(simd32_dsp)]
macro_rules! words {
    ($o:literal, $b:literal) => {
        concat!("ldr {wa}, [{p}, #", $o, "]\n", "ldr {wb}, [{p}, #", $o, " + ", $b, "]\n")
    };
}

/// Inline-assembly text of one packed word of both rows at 1 bit (in `wa`, `wb`), 16 input
/// pairs: 8 [`inputs`] loads, per pair and row an `AND` and an `SMLAD` ([`pair`]), level `j` of
/// each halfword at bit `j` against input pair `j` (the halves row pairs of `crate::halves`).
#[cfg(simd32_dsp)]
macro_rules! word_w1 {
    () => {
        concat!(
            inputs!(),
            pair!("xl", 0),
            pair!("xh", 1),
            inputs!(),
            pair!("xl", 2),
            pair!("xh", 3),
            inputs!(),
            pair!("xl", 4),
            pair!("xh", 5),
            inputs!(),
            pair!("xl", 6),
            pair!("xh", 7),
            inputs!(),
            pair!("xl", 8),
            pair!("xh", 9),
            inputs!(),
            pair!("xl", 10),
            pair!("xh", 11),
            inputs!(),
            pair!("xl", 12),
            pair!("xh", 13),
            inputs!(),
            pair!("xl", 14),
            pair!("xh", 15)
        )
    };
}

/// One packed word of both rows at 2 bits, as [`word_w1`]: 8 input pairs, 4 loads (a lane-pair
/// block's words at 2 bits too).
#[cfg(simd32_dsp)]
macro_rules! word_w2 {
    () => {
        concat!(
            inputs!(),
            pair!("xl", 0),
            pair!("xh", 2),
            inputs!(),
            pair!("xl", 4),
            pair!("xh", 6),
            inputs!(),
            pair!("xl", 8),
            pair!("xh", 10),
            inputs!(),
            pair!("xl", 12),
            pair!("xh", 14)
        )
    };
}

/// One packed word of both rows at 4 bits, as [`word_w1`]: 4 input pairs, 2 loads (a lane-pair
/// block's words at 4 bits too).
#[cfg(simd32_dsp)]
macro_rules! word_w4 {
    () => {
        concat!(inputs!(), pair!("xl", 0), pair!("xh", 4), inputs!(), pair!("xl", 8), pair!("xh", 12))
    };
}

/// Runs the block's assembly `$text` over a run of blocks: `ab`'s blocks `$step` bytes apart,
/// the input pairs one after the other; operands: the two pointers, the block count, the level
/// mask, both sums (`acc` in, the sums out), five scratch registers. Per block after the first,
/// three instructions of loop (the input pointer steps with its loads).
#[cfg(simd32_dsp)]
macro_rules! run_asm {
    ($xp:expr, $ab:expr, $acc:expr, $mask:expr, $step:literal, $($text:expr),+ $(,)?) => {{
        // (A division only when `ab` is short of `xp`'s blocks.)
        let n = if $ab.len() >= $xp.len().saturating_mul($step) { $xp.len() } else { $ab.len() / $step };
        let (mut sa, mut sb) = $acc;
        if n != 0 {
            // SAFETY: the loop runs `n ≥ 1` times and reads only the first `n` blocks of `xp`
            // (`[u32; 16]` each, contiguous, aligned for `ldrd`: 64 bytes per block) and of `ab`
            // (`$step = 8·B` bytes each; offsets fixed in the text, within one block; unaligned
            // word loads are architectural on Armv7E-M), writes registers only (the pointers and
            // count are clobbered inputs), and uses no stack; `SMLAD` may set the sticky Q flag,
            // which no Rust code reads, and `SUBS` the condition flags, which are not preserved.
            #[allow(unsafe_code)]
            unsafe {
                core::arch::asm!(
                    "2:",
                    $($text),+,
                    concat!("add {p}, {p}, #", stringify!($step)),
                    "subs {n}, {n}, #1",
                    "bne 2b",
                    px = inout(reg) $xp.as_ptr() => _, p = inout(reg) $ab.as_ptr() => _,
                    n = inout(reg) n => _, m = in(reg) $mask, sa = inout(reg) sa, sb = inout(reg) sb,
                    xl = out(reg) _, xh = out(reg) _, wa = out(reg) _, wb = out(reg) _, t = out(reg) _,
                    options(pure, readonly, nostack),
                )
            };
        }
        (sa, sb)
    }};
}

/// Both rows' sums over one 2-bit block: [`lane_run_w2_i8`] of one block from zero.
#[inline(always)]
pub fn lane_block_w2_i8(xp: &[u32; 16], ab: &[u8; 16]) -> (i32, i32) {
    lane_run_w2_i8(core::slice::from_ref(xp), ab, (0, 0))
}

/// Both rows' sums over one 3-bit block: [`lane_run_w3_i8`] of one block from zero.
#[inline(always)]
pub fn lane_block_w3_i8(xp: &[u32; 16], ab: &[u8; 24]) -> (i32, i32) {
    lane_run_w3_i8(core::slice::from_ref(xp), ab, (0, 0))
}

/// Both rows' sums over one 4-bit block: [`lane_run_w4_i8`] of one block from zero.
#[inline(always)]
pub fn lane_block_w4_i8(xp: &[u32; 16], ab: &[u8; 32]) -> (i32, i32) {
    lane_run_w4_i8(core::slice::from_ref(xp), ab, (0, 0))
}

/// `acc` plus both rows' sums over a run of 2-bit blocks (8 levels per lane; `xp`: each block's
/// 16 input pairs, see the module; `ab`: each block's row a's two words, then row b's: 16 bytes),
/// over the blocks both hold whole, wrapping.
#[inline(always)]
pub fn lane_run_w2_i8(xp: &[[u32; 16]], ab: &[u8], acc: (i32, i32)) -> (i32, i32) {
    #[cfg(simd32_dsp)]
    return run_asm!(xp, ab, acc, 0x0003_0003u32, 16, words!(0, 8), word_w2!(), words!(4, 8), word_w2!(),);
    #[cfg(not(simd32_dsp))]
    return crate::portable::lane_run_w2_i8(xp, ab, acc);
}

/// `acc` plus both rows' sums over a run of 3-bit blocks (5 levels per lane in each of three
/// words per row, the 16th from the spare bits; `ab`: each block's row a's three words, then row
/// b's), as [`lane_run_w2_i8`].
#[inline(always)]
pub fn lane_run_w3_i8(xp: &[[u32; 16]], ab: &[u8], acc: (i32, i32)) -> (i32, i32) {
    #[cfg(simd32_dsp)]
    return run_asm!(
        xp,
        ab,
        acc,
        0x0007_0007u32,
        24,
        words!(0, 12),
        inputs!(),
        pair!("xl", 0),
        pair!("xh", 3),
        inputs!(),
        pair!("xl", 6),
        pair!("xh", 9),
        inputs!(),
        pair!("xl", 12),
        words!(4, 12),
        pair!("xh", 0),
        inputs!(),
        pair!("xl", 3),
        pair!("xh", 6),
        inputs!(),
        pair!("xl", 9),
        pair!("xh", 12),
        inputs!(),
        words!(8, 12),
        pair!("xl", 0),
        pair!("xh", 3),
        inputs!(),
        pair!("xl", 6),
        pair!("xh", 9),
        inputs!(),
        pair!("xl", 12),
        // The spare pair, multiplied by `xh`: `xl` becomes the bit mask 0x0001_0001 (the level
        // mask's lowest bits); each row's level gathers the bits of word 2 (still in `wa`, `wb`),
        // then of words 1 and 0, each shifting the ones before it up by one.
        "and {xl}, {m}, {m}, lsr #2",
        "and {t}, {xl}, {wa}, lsr #15",
        "ldr {wa}, [{p}, #4]",
        "and {wa}, {xl}, {wa}, lsr #15",
        "orr {t}, {wa}, {t}, lsl #1",
        "ldr {wa}, [{p}]",
        "and {wa}, {xl}, {wa}, lsr #15",
        "orr {t}, {wa}, {t}, lsl #1",
        "smlad {sa}, {t}, {xh}, {sa}",
        "and {t}, {xl}, {wb}, lsr #15",
        "ldr {wb}, [{p}, #16]",
        "and {wb}, {xl}, {wb}, lsr #15",
        "orr {t}, {wb}, {t}, lsl #1",
        "ldr {wb}, [{p}, #12]",
        "and {wb}, {xl}, {wb}, lsr #15",
        "orr {t}, {wb}, {t}, lsl #1",
        "smlad {sb}, {t}, {xh}, {sb}",
    );
    #[cfg(not(simd32_dsp))]
    return crate::portable::lane_run_w3_i8(xp, ab, acc);
}

/// `acc` plus both rows' sums over a run of 4-bit blocks (4 levels per lane, four words per row;
/// `ab`: each block's row a's words, then row b's), as [`lane_run_w2_i8`].
#[inline(always)]
pub fn lane_run_w4_i8(xp: &[[u32; 16]], ab: &[u8], acc: (i32, i32)) -> (i32, i32) {
    #[cfg(simd32_dsp)]
    return run_asm!(
        xp,
        ab,
        acc,
        0x000F_000Fu32,
        32,
        words!(0, 16),
        word_w4!(),
        words!(4, 16),
        word_w4!(),
        words!(8, 16),
        word_w4!(),
        words!(12, 16),
        word_w4!(),
    );
    #[cfg(not(simd32_dsp))]
    return crate::portable::lane_run_w4_i8(xp, ab, acc);
}
