//! One lane-pair block of two rows at 2, 3 or 4 bits: `diffq-runtime`'s storage order for dual
//! multiply-accumulates (its FORMAT.md, layout 2). A block is 32 int8 inputs and, per row, `B`
//! little-endian words (`4·B` bytes) holding 16 pairs of `B`-bit levels: pair `k` multiplies the
//! input pair `(x[4q + k mod 2], x[4q + 2 + k mod 2])`, `q = k / 2`, which the caller passes
//! ready as word `k` of `xp` (`SXTB16` of the input word `x[4q..4q + 4]` for `k` even,
//! `SXTB16 …, ROR #8` for `k` odd: the inputs widened once per layer). With `L = ⌊16 / B⌋` levels
//! per 16-bit lane, pair `k < B·L` is bits `(k mod L)·B ..` of word `k / L` in both lanes; at 3
//! bits the 16th pair is the spare bit 15 (lane 0) and 31 (lane 1) of words 0, 1 and 2, as its
//! bits 0, 1 and 2.
//!
//! On Armv7E-M each block is one inline-assembly sequence: per 4 inputs one `LDRD` of two input
//! pairs, per pair and row one `AND` with a shifted operand and one `SMLAD` (`SMUAD` for the
//! first), in 10 registers, so that no value goes through the stack: 76, 91 and 80 instructions
//! at 2, 3 and 4 bits. Compiled from Rust on int8 inputs, the 3-bit block reloaded its input
//! pointer from the stack every 4 inputs and kept every word live for the spare pair. Elsewhere,
//! and in [`crate::portable`], the same operations in Rust with the same 32-bit results.

/// Inline-assembly text of one pair: row `a`'s and row `b`'s levels at bit `$s` of the words in
/// `wa` and `wb` (`and` with the shifted word), each dual-multiplied by the input pair in `$x`.
#[cfg(simd32_dsp)]
macro_rules! pair {
    (first $x:literal) => {
        concat!(
            "and {t}, {m}, {wa}\n",
            "smuad {sa}, {t}, {",
            $x,
            "}\n",
            "and {t}, {m}, {wb}\n",
            "smuad {sb}, {t}, {",
            $x,
            "}\n"
        )
    };
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

/// Loads the input pairs of inputs `4q..4q + 4` (words `2q` and `2q + 1` of `xp`, at byte offset
/// `$o = 8q`) into `xl` and `xh`.
#[cfg(simd32_dsp)]
macro_rules! inputs {
    ($o:literal) => {
        concat!("ldrd {xl}, {xh}, [{px}, #", $o, "]\n")
    };
}

/// Loads row a's word at byte offset `$o` into `wa` and row b's (`$b` bytes on) into `wb`.
#[cfg(simd32_dsp)]
macro_rules! words {
    ($o:literal, $b:literal) => {
        concat!("ldr {wa}, [{p}, #", $o, "]\n", "ldr {wb}, [{p}, #", $o, " + ", $b, "]\n")
    };
}

/// Runs the block's assembly `$text` with its operands: the two pointers, the level mask, both
/// sums, five scratch registers.
#[cfg(simd32_dsp)]
macro_rules! block_asm {
    ($x:expr, $p:expr, $mask:expr, $($text:expr),+ $(,)?) => {{
        let (sa, sb): (i32, i32);
        // SAFETY: the sequence reads only the 64 bytes behind `px` (a `[u32; 16]`: aligned for
        // `ldrd`) and the `8·B` bytes behind `p` (offsets fixed in the text, within the arrays'
        // lengths; unaligned word loads are architectural on Armv7E-M), writes registers only,
        // and uses no stack; `SMLAD` may set the sticky Q flag, which no Rust code reads.
        #[allow(unsafe_code)]
        unsafe {
            core::arch::asm!(
                $($text),+,
                px = in(reg) $x.as_ptr(), p = in(reg) $p.as_ptr(),
                m = in(reg) $mask, sa = out(reg) sa, sb = out(reg) sb,
                xl = out(reg) _, xh = out(reg) _, wa = out(reg) _, wb = out(reg) _, t = out(reg) _,
                options(pure, readonly, nostack),
            )
        };
        (sa, sb)
    }};
}

/// Both rows' sums over one 2-bit block (8 levels per lane; `xp`: the block's 16 input pairs, see
/// the module; `ab`: row a's two words, then row b's).
#[inline(always)]
pub fn lane_block_w2_i8(xp: &[u32; 16], ab: &[u8; 16]) -> (i32, i32) {
    #[cfg(simd32_dsp)]
    return block_asm!(
        xp,
        ab,
        0x0003_0003u32,
        words!(0, 8),
        inputs!(0),
        pair!(first "xl"),
        pair!("xh", 2),
        inputs!(8),
        pair!("xl", 4),
        pair!("xh", 6),
        inputs!(16),
        pair!("xl", 8),
        pair!("xh", 10),
        inputs!(24),
        pair!("xl", 12),
        pair!("xh", 14),
        words!(4, 8),
        inputs!(32),
        pair!("xl", 0),
        pair!("xh", 2),
        inputs!(40),
        pair!("xl", 4),
        pair!("xh", 6),
        inputs!(48),
        pair!("xl", 8),
        pair!("xh", 10),
        inputs!(56),
        pair!("xl", 12),
        pair!("xh", 14),
    );
    #[cfg(not(simd32_dsp))]
    return crate::portable::lane_block_w2_i8(xp, ab);
}

/// Both rows' sums over one 3-bit block (5 levels per lane in each of three words per row, the
/// 16th from the spare bits; `ab`: row a's three words, then row b's).
#[inline(always)]
pub fn lane_block_w3_i8(xp: &[u32; 16], ab: &[u8; 24]) -> (i32, i32) {
    #[cfg(simd32_dsp)]
    return block_asm!(
        xp,
        ab,
        0x0007_0007u32,
        words!(0, 12),
        inputs!(0),
        pair!(first "xl"),
        pair!("xh", 3),
        inputs!(8),
        pair!("xl", 6),
        pair!("xh", 9),
        inputs!(16),
        pair!("xl", 12),
        words!(4, 12),
        pair!("xh", 0),
        inputs!(24),
        pair!("xl", 3),
        pair!("xh", 6),
        inputs!(32),
        pair!("xl", 9),
        pair!("xh", 12),
        inputs!(40),
        words!(8, 12),
        pair!("xl", 0),
        pair!("xh", 3),
        inputs!(48),
        pair!("xl", 6),
        pair!("xh", 9),
        inputs!(56),
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
    return crate::portable::lane_block_w3_i8(xp, ab);
}

/// Both rows' sums over one 4-bit block (4 levels per lane, four words per row; `ab`: row a's
/// words, then row b's).
#[inline(always)]
pub fn lane_block_w4_i8(xp: &[u32; 16], ab: &[u8; 32]) -> (i32, i32) {
    #[cfg(simd32_dsp)]
    return block_asm!(
        xp,
        ab,
        0x000F_000Fu32,
        words!(0, 16),
        inputs!(0),
        pair!(first "xl"),
        pair!("xh", 4),
        inputs!(8),
        pair!("xl", 8),
        pair!("xh", 12),
        words!(4, 16),
        inputs!(16),
        pair!("xl", 0),
        pair!("xh", 4),
        inputs!(24),
        pair!("xl", 8),
        pair!("xh", 12),
        words!(8, 16),
        inputs!(32),
        pair!("xl", 0),
        pair!("xh", 4),
        inputs!(40),
        pair!("xl", 8),
        pair!("xh", 12),
        words!(12, 16),
        inputs!(48),
        pair!("xl", 0),
        pair!("xh", 4),
        inputs!(56),
        pair!("xl", 8),
        pair!("xh", 12),
    );
    #[cfg(not(simd32_dsp))]
    return crate::portable::lane_block_w4_i8(xp, ab);
}
