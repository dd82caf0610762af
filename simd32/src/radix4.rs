//! The radix-4 passes of `diffq-runtime`'s fixed-point FFT (its `dsp_fixed`): complex `i32`
//! points, Q31 twiddles, every product `mulh` (the high word of a 32×32 product), every add and
//! subtract wrapping, each pass scaling by ¼ (two floored halvings).
//!
//! On Armv7E-M one pass is one inline-assembly loop over all its blocks, one butterfly per
//! iteration in 12 registers, so that no value goes through the stack: per butterfly four `LDRD`
//! of points (two `LDR` each for the quarters past `LDRD`'s 1,020-byte reach, `Q` = 64), three
//! `LDRD` of twiddles (the pointer stepping with the first), five instructions per twiddle
//! product (`SMMUL`, `SMMLA`, two `SMMUL`, `SUB`), the halvings folded into `ADD`/`RSB` with a
//! shifted operand where they come first, and four `STRD`: 50 instructions for the
//! decimation-in-time butterfly and 53 for the decimation-in-frequency one (4 more at `Q` = 64),
//! plus 3 of loop, where the compiled Rust took 62–77 with its loop, spilling. Elsewhere, and in
//! [`crate::portable`], the same operations in Rust.

/// One complex point `re + j·im` (before the FFT, two packed real samples).
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct Cpx {
    /// Real part.
    pub re: i32,
    /// Imaginary part.
    pub im: i32,
}

/// One twiddle `W = c − j·s`, both Q31 (1.0 saturates to `i32::MAX`).
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct Twiddle {
    /// `cos` of the angle.
    pub c: i32,
    /// `sin` of the angle.
    pub s: i32,
}

/// The three twiddles of one radix-4 butterfly: `W^j`, `W^2j`, `W^3j`.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct Twiddle3 {
    /// `W^j`.
    pub w1: Twiddle,
    /// `W^2j`.
    pub w2: Twiddle,
    /// `W^3j`.
    pub w3: Twiddle,
}

/// Loads (`$op` `"ld"`) or stores (`"st"`) the point at byte offset `$o` of the block pointer
/// from or into `$a`, `$b`: `near`, one `LDRD`/`STRD` (`$o` ≤ 1020); `far`, two `LDR`/`STR`.
#[cfg(simd32_dsp)]
macro_rules! point {
    ($op:literal, near, $a:literal, $b:literal, $o:literal) => {
        concat!($op, "rd {", $a, "}, {", $b, "}, [{pa}, #", $o, "]")
    };
    ($op:literal, far, $a:literal, $b:literal, $o:literal) => {
        concat!($op, "r {", $a, "}, [{pa}, #", $o, "]\n", $op, "r {", $b, "}, [{pa}, #", $o, " + 4]")
    };
}

/// `W(z, w)`: `z` in `$zr`, `$zi`, `w` in `$c`, `$s`; the result into `$re`, `$im` (`$im` may be
/// `$zi`; `$zr` clobbered).
#[cfg(simd32_dsp)]
macro_rules! rot {
    ($zr:literal, $zi:literal, $c:literal, $s:literal, $re:literal, $im:literal) => {
        concat!(
            "smmul {", $re, "}, {", $zr, "}, {", $c, "}\n", "smmla {", $re, "}, {", $zi, "}, {", $s, "}, {", $re,
            "}\n", "smmul {", $zi, "}, {", $zi, "}, {", $c, "}\n", "smmul {", $zr, "}, {", $zr, "}, {", $s, "}\n",
            "sub {", $im, "}, {", $zi, "}, {", $zr, "}"
        )
    };
}

/// One pass of `$kind` (`dit`, `dif`) over every whole block of `$q` points of `$buf`:
/// quarters at byte offsets 0, `$b`, `$c`, `$d` (`$far`: `near` or `far` for the last two).
/// One count runs through the blocks' butterflies: at each multiple of `$q` the block pointer
/// skips the three quarters it did not step through and the twiddle pointer goes back to the
/// first triple (both by `24·$q` bytes).
#[cfg(simd32_dsp)]
macro_rules! dsp_pass {
    ($kind:ident, $buf:expr, $tw:expr, $q:literal, $far:ident, $b:literal, $c:literal, $d:literal) => {{
        let n = $buf.len() / (4 * $q) * $q;
        if n != 0 {
            let (pa, tw) = ($buf.as_mut_ptr(), $tw.as_ptr());
            // SAFETY: `n` is a nonzero multiple of `$q` (4, 16 or 64), `$buf` holds `n / $q`
            // blocks of `4·$q` points and `$tw` `$q` triples; butterfly `j` of a block reads and
            // writes its points `j`, `j + $q`, `j + 2·$q` and `j + 3·$q` (byte offsets below
            // `32·$q`, fixed in the text) and reads twiddle triple `j` (24 bytes); the block
            // pointer then moves on by whole blocks, `n / $q` of them (`Cpx` and `Twiddle3` are
            // `repr(C)` words, aligned for `LDRD`). Nothing else is read or written, no stack is
            // used, the pointers and count are clobbered inputs, and `SUBS`/`TST` set the
            // condition flags, which are not preserved.
            #[allow(unsafe_code)]
            unsafe {
                core::arch::asm!(
                    "2:",
                    dsp_pass!(@body $kind, $far, $b, $c, $d),
                    "subs {n}, {n}, #1",
                    concat!("tst {n}, #", $q, " - 1"),
                    "bne 2b",
                    concat!("add {pa}, {pa}, #", $d),
                    concat!("sub {tw}, {tw}, #", $d),
                    "cmp {n}, #0",
                    "bne 2b",
                    pa = inout(reg) pa => _, tw = inout(reg) tw => _, n = inout(reg) n => _,
                    t0 = out(reg) _, t1 = out(reg) _, t2 = out(reg) _, t3 = out(reg) _, t4 = out(reg) _,
                    t5 = out(reg) _, t6 = out(reg) _, t7 = out(reg) _, t8 = out(reg) _,
                    options(nostack),
                )
            };
        }
    }};
    (@body dit, $far:ident, $b:literal, $c:literal, $d:literal) => {
        concat!(
            // u₂ = W(x₂, w₁) into t4, t5 (the twiddle pointer steps on: w₂, w₃ at −16, −8).
            point!("ld", $far, "t0", "t1", $c), "\n",
            "ldrd {t2}, {t3}, [{tw}], #24\n",
            rot!("t0", "t1", "t2", "t3", "t4", "t5"), "\n",
            // u₃ = W(x₃, w₃) into t6, t1; r = u₂ + u₃ (t0, t6), s = u₂ − u₃ (t4, t5).
            point!("ld", $far, "t0", "t1", $d), "\n",
            "ldrd {t2}, {t3}, [{tw}, #-8]\n",
            rot!("t0", "t1", "t2", "t3", "t6", "t1"), "\n",
            "add {t0}, {t4}, {t6}\n",
            "sub {t4}, {t4}, {t6}\n",
            "add {t6}, {t5}, {t1}\n",
            "sub {t5}, {t5}, {t1}\n",
            // u₁ = W(x₁, w₂) into t8, t2; p = (x₀ >> 1) + u₁ (t7, t1), m = (x₀ >> 1) − u₁ (t8, t2).
            point!("ld", near, "t1", "t2", $b), "\n",
            "ldrd {t3}, {t7}, [{tw}, #-16]\n",
            rot!("t1", "t2", "t3", "t7", "t8", "t2"), "\n",
            "ldrd {t1}, {t3}, [{pa}]\n",
            "add {t7}, {t8}, {t1}, asr #1\n",
            "rsb {t8}, {t8}, {t1}, asr #1\n",
            "add {t1}, {t2}, {t3}, asr #1\n",
            "rsb {t2}, {t2}, {t3}, asr #1\n",
            // x₁ = (m − j·s) >> 1 = ((m.re + s.im), (m.im − s.re)) >> 1, x₃ = (m + j·s) >> 1.
            "add {t3}, {t8}, {t5}\n",
            "sub {t8}, {t8}, {t5}\n",
            "sub {t5}, {t2}, {t4}\n",
            "add {t2}, {t2}, {t4}\n",
            "asr {t3}, {t3}, #1\n",
            "asr {t5}, {t5}, #1\n",
            "asr {t8}, {t8}, #1\n",
            "asr {t2}, {t2}, #1\n",
            point!("st", near, "t3", "t5", $b), "\n",
            point!("st", $far, "t8", "t2", $d), "\n",
            // x₂ = (p − r) >> 1, x₀ = (p + r) >> 1 (the block pointer steps on).
            "sub {t3}, {t7}, {t0}\n",
            "add {t7}, {t7}, {t0}\n",
            "sub {t5}, {t1}, {t6}\n",
            "add {t1}, {t1}, {t6}\n",
            "asr {t3}, {t3}, #1\n",
            "asr {t5}, {t5}, #1\n",
            "asr {t7}, {t7}, #1\n",
            "asr {t1}, {t1}, #1\n",
            point!("st", $far, "t3", "t5", $c), "\n",
            "strd {t7}, {t1}, [{pa}], #8",
        )
    };
    (@body dif, $far:ident, $b:literal, $c:literal, $d:literal) => {
        concat!(
            // s₀ = (x₀ + x₂) >> 1 (t4, t2), d₀ = (x₀ − x₂) >> 1 (t0, t1).
            "ldrd {t0}, {t1}, [{pa}]\n",
            point!("ld", $far, "t2", "t3", $c), "\n",
            "add {t4}, {t0}, {t2}\n",
            "sub {t0}, {t0}, {t2}\n",
            "add {t2}, {t1}, {t3}\n",
            "sub {t1}, {t1}, {t3}\n",
            "asr {t4}, {t4}, #1\n",
            "asr {t0}, {t0}, #1\n",
            "asr {t2}, {t2}, #1\n",
            "asr {t1}, {t1}, #1\n",
            // s₁ = (x₁ + x₃) >> 1 (t8, t6), d₁ = (x₁ − x₃) >> 1 (t3, t5).
            point!("ld", near, "t3", "t5", $b), "\n",
            point!("ld", $far, "t6", "t7", $d), "\n",
            "add {t8}, {t3}, {t6}\n",
            "sub {t3}, {t3}, {t6}\n",
            "add {t6}, {t5}, {t7}\n",
            "sub {t5}, {t5}, {t7}\n",
            "asr {t8}, {t8}, #1\n",
            "asr {t3}, {t3}, #1\n",
            "asr {t6}, {t6}, #1\n",
            "asr {t5}, {t5}, #1\n",
            // x₀ = (s₀ + s₁) >> 1; e = s₀ − s₁ (t7, t8).
            "sub {t7}, {t4}, {t8}\n",
            "add {t4}, {t4}, {t8}\n",
            "sub {t8}, {t2}, {t6}\n",
            "add {t2}, {t2}, {t6}\n",
            "asr {t4}, {t4}, #1\n",
            "asr {t2}, {t2}, #1\n",
            "strd {t4}, {t2}, [{pa}]\n",
            // x₁ = W(e, w₂).
            "ldrd {t2}, {t4}, [{tw}, #8]\n",
            rot!("t7", "t8", "t2", "t4", "t6", "t8"), "\n",
            point!("st", near, "t6", "t8", $b), "\n",
            // z₂ = d₀ − j·d₁ = (d₀.re + d₁.im, d₀.im − d₁.re) (t2, t4), z₃ = d₀ + j·d₁ (t0, t1).
            "add {t2}, {t0}, {t5}\n",
            "sub {t0}, {t0}, {t5}\n",
            "sub {t4}, {t1}, {t3}\n",
            "add {t1}, {t1}, {t3}\n",
            // x₂ = W(z₂, w₁), x₃ = W(z₃, w₃) (the twiddle pointer steps on with w₁).
            "ldrd {t3}, {t5}, [{tw}], #24\n",
            rot!("t2", "t4", "t3", "t5", "t6", "t4"), "\n",
            point!("st", $far, "t6", "t4", $c), "\n",
            "ldrd {t3}, {t5}, [{tw}, #-8]\n",
            rot!("t0", "t1", "t3", "t5", "t6", "t1"), "\n",
            point!("st", $far, "t6", "t1", $d), "\n",
            "add {pa}, {pa}, #8",
        )
    };
}

/// The pass `$kind` (`dit`, `dif`) at quarter length `$q` over `$buf`: the assembly loop on
/// Armv7E-M where there is one (`$q` = 4, 16, 64, and `$tw` holding `$q` triples), else
/// `$portable`.
macro_rules! pass {
    ($kind:ident, $q:ident, $buf:ident, $tw:ident, $portable:expr) => {{
        #[cfg(simd32_dsp)]
        if let Some(tw) = $tw.get(..$q) {
            match $q {
                4 => return dsp_pass!($kind, $buf, tw, 4, near, 32, 64, 96),
                16 => return dsp_pass!($kind, $buf, tw, 16, near, 128, 256, 384),
                64 => return dsp_pass!($kind, $buf, tw, 64, far, 512, 1024, 1536),
                _ => {}
            }
        }
        $portable($buf, $tw)
    }};
}

/// One radix-4 decimation-in-time pass of quarter length `Q`: each block of `4Q` points of
/// `buf` holds the DFTs/Q of the four interleaved quarters of its input in the order 0, 2, 1, 3
/// (bit reversal) and becomes their DFT/4Q. With quarters `x₀ … x₃` at `j` and `(w₁, w₂, w₃) =
/// tw[j]`: `u₁ = W(x₁, w₂)`, `u₂ = W(x₂, w₁)`, `u₃ = W(x₃, w₃)` (`W(z, w) = (mulh(z.re, c) +
/// mulh(z.im, s), mulh(z.im, c) − mulh(z.re, s))`), `p, m = (x₀ >> 1) ± u₁`, `r, s = u₂ ± u₃`,
/// then `x₀ = (p + r) >> 1`, `x₂ = (p − r) >> 1`, `x₁ = (m − j·s) >> 1`, `x₃ = (m + j·s) >> 1`.
/// Blocks past the last whole one, and `j` past `tw`, are left as they are.
#[inline(always)]
pub fn radix4_dit_i32<const Q: usize>(buf: &mut [Cpx], tw: &[Twiddle3]) {
    pass!(dit, Q, buf, tw, crate::portable::radix4_dit_i32::<Q>);
}

/// One radix-4 decimation-in-frequency pass, [`radix4_dit_i32`]'s inverse order: each block of
/// `4Q` points (natural order) becomes, per quarter 0, 1, 2, 3, the DFT/4 of the output bins
/// `4k`, `4k + 2`, `4k + 1`, `4k + 3` with their twiddles applied: with `s₀, d₀ = (x₀ ± x₂) >> 1`
/// and `s₁, d₁ = (x₁ ± x₃) >> 1`, `x₀ = (s₀ + s₁) >> 1`, `x₁ = W(s₀ − s₁, w₂)`, `x₂ = W(d₀ −
/// j·d₁, w₁)`, `x₃ = W(d₀ + j·d₁, w₃)`. Blocks past the last whole one, and `j` past `tw`, are
/// left as they are.
#[inline(always)]
pub fn radix4_dif_i32<const Q: usize>(buf: &mut [Cpx], tw: &[Twiddle3]) {
    pass!(dif, Q, buf, tw, crate::portable::radix4_dif_i32::<Q>);
}

/// `floor(a·b / 2^32)`: with `b` a Q31 number, that is `a·b/2`. One `SMMUL` on Armv7-M, one
/// `mulh` on RV32IM; ARMv6-M (Cortex-M0/M0+), which has only a 32-bit `muls`, would call its
/// 64×64 `__aeabi_lmul`, so it gets [`mulh_by_halves`] instead: the same bits, ~3× cheaper.
/// ARMv6-M is told apart by its lack of atomic read-modify-write (`target_has_atomic = "32"`):
/// Arm target features such as `thumb2` are not visible to `cfg` on stable Rust, and testing
/// for them silently sent the Cortex-M4 down the slow path too.
#[inline(always)]
pub fn mulh(a: i32, b: i32) -> i32 {
    if ARMV6M {
        mulh_by_halves(a, b)
    } else {
        ((i64::from(a) * i64::from(b)) >> 32) as i32
    }
}

/// Whether this is an ARMv6-M build (no 32×32→64 multiply; see [`mulh`]).
const ARMV6M: bool = cfg!(all(target_arch = "arm", not(target_has_atomic = "32")));

/// `a·b` exactly as i64 ([`wide_mul_by_halves`] on ARMv6-M, as [`mulh`]).
#[inline(always)]
pub fn wide_mul(a: i32, b: i32) -> i64 {
    if ARMV6M {
        wide_mul_by_halves(a, b)
    } else {
        i64::from(a) * i64::from(b)
    }
}

/// `a·b` as i64 from four 16×16-bit products, exact.
#[inline(always)]
pub fn wide_mul_by_halves(a: i32, b: i32) -> i64 {
    let (a0, a1) = (a & 0xFFFF, a >> 16);
    let (b0, b1) = (b & 0xFFFF, b >> 16);
    let lo = u64::from((a0 as u32) * (b0 as u32));
    let mid = i64::from(a1 * b0) + i64::from(a0 * b1);
    (i64::from(a1 * b1) << 32) + (mid << 16) + lo as i64
}

/// `floor(a·b / 2^32)` from four 16×16-bit products (Hacker's Delight `mulhs`), exact.
#[inline(always)]
pub fn mulh_by_halves(a: i32, b: i32) -> i32 {
    let (a0, a1) = (a & 0xFFFF, a >> 16);
    let (b0, b1) = (b & 0xFFFF, b >> 16);
    let w0 = (a0 as u32) * (b0 as u32); // < 2^32
    let t = a1 * b0 + (w0 >> 16) as i32; // a1·b0 in (−2^31 + 2^16, 2^31 − 2^16]: no overflow
    let w1 = a0 * b1 + (t & 0xFFFF);
    a1 * b1 + (t >> 16) + (w1 >> 16)
}
