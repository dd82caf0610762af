//! Integer division of a 64-bit dividend by a 32-bit divisor, for the cores the runtime runs on.
//!
//! `u64 / u64` links the compiler's 64-bit division routine on Armv7-M, Armv6-M and RV32 (about
//! 0.9 KB of flash on Armv7-M). These run rarely (the front end's constants at start-up, a board's
//! per-hop cost statistics), so they divide with one 32-bit hardware division and a loop of 32
//! shift-and-subtract steps, once, out of line: fully unrolled at every call site the steps
//! would take about 0.8 KB each.

/// Whether the core counts leading and trailing zeros in one instruction. RV32IMAC without Zbb
/// and Armv6-M do not: LLVM's generic expansion of `leading_zeros` costs them ~25 instructions.
pub(crate) const COUNTS_ZEROS: bool = !cfg!(any(
    all(target_arch = "riscv32", not(target_feature = "zbb")),
    all(target_arch = "arm", not(target_has_atomic = "32"))
));

/// `floor(n / d)`; a divisor of 0 counts as 1.
pub fn div_u64_u32(n: u64, d: u32) -> u64 {
    let d = d.max(1);
    let high = (n >> 32) as u32;
    // The high word's quotient by the core's 32-bit division; its remainder is below `d`.
    let low = narrow_quotient(high % d, n as u32, d);
    (u64::from(high / d) << 32) | u64::from(low)
}

/// `floor(n / d)` saturated to `u32::MAX`; a divisor of 0 counts as 1.
pub fn quotient_u32(n: u64, d: u32) -> u32 {
    let d = d.max(1);
    match u32::try_from(n >> 32) {
        Ok(high) if high < d => narrow_quotient(high, n as u32, d),
        _ => u32::MAX, // a high word ≥ d: more than 32 bits of quotient
    }
}

/// `floor((high·2^32 + low) / d)` for `high < d` (so the quotient fits 32 bits): shift and
/// subtract, one quotient bit per step. The steps are counted by a bit shifted out of a word the
/// optimiser cannot see, so that it neither unrolls them nor copies them into each caller.
#[inline(never)]
fn narrow_quotient(high: u32, low: u32, d: u32) -> u32 {
    // `r:q` is the dividend shifted one bit per step; the remainder `r` stays below `d` and the
    // quotient's bits come in at the bottom of `q`.
    let (mut r, mut q) = (high, low);
    let mut step = core::hint::black_box(1u32 << 31);
    while step != 0 {
        let carry = r >> 31; // 2r ≥ 2^32 > d
        r = (r << 1) | (q >> 31);
        q <<= 1;
        if carry != 0 || r >= d {
            r = r.wrapping_sub(d); // the true 2r + bit − d is below d
            q |= 1;
        }
        step >>= 1;
    }
    q
}

#[cfg(test)]
mod tests {
    use super::{div_u64_u32, quotient_u32};

    #[test]
    fn quotients_equal_u64_division_at_the_edges_and_at_random() {
        let edges = [(0, 1), (u64::MAX, 1), (u64::MAX, 7), (u64::MAX, u32::MAX), ((1 << 32) - 1, 1), (1 << 32, 1)];
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let random = core::iter::from_fn(|| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            Some((x >> (x % 31), (x >> 32) as u32 >> (x % 29)))
        });
        for (n, d) in edges.into_iter().chain([(7, 0), (123_456_789_012_345, 16_777_215)]).chain(random.take(100_000)) {
            let want = n / u64::from(d.max(1));
            assert_eq!(div_u64_u32(n, d), want, "{n} / {d}");
            assert_eq!(quotient_u32(n, d), u32::try_from(want).unwrap_or(u32::MAX), "{n} / {d}");
        }
    }
}
