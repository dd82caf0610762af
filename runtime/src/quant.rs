//! Pure quantisation math, shared by the trainer (export, evaluation) and the kernels.
//! Every function uses the same f32 operations on every machine (no fused multiply-add), so a
//! weight dequantised by the trainer and by the firmware is the same number.

/// Largest bit width a group may have.
pub const MAX_BITS: u8 = 15;

/// Quantisation step for `bits` bits over `[min, max]`: `(max − min) / (2^bits − 1)`.
#[inline]
pub fn scale_for_bits(min: f32, max: f32, bits: u8) -> f32 {
    let levels = ((1u32 << u32::from(bits.clamp(1, MAX_BITS))) - 1) as f32;
    (max - min) / levels
}

/// `min + level · scale`, the one dequantisation formula of the project.
#[inline]
pub fn dequantize(min: f32, scale: f32, level: u16) -> f32 {
    min + f32::from(level) * scale
}

/// Nearest level of `w` (ties away from zero), clamped to `0 ..= 2^bits − 1`.
/// A zero scale (constant tensor) maps everything to level 0. NaN maps to 0.
#[inline]
pub fn quantize(w: f32, min: f32, scale: f32, bits: u8) -> u16 {
    let top = (1u32 << u32::from(bits.clamp(1, MAX_BITS))) - 1;
    if scale.is_nan() || scale <= 0.0 {
        return 0;
    }
    let l = round((w - min) / scale);
    if l.is_nan() || l <= 0.0 {
        0
    } else if l >= top as f32 {
        top as u16
    } else {
        l as u16
    }
}

/// Round half away from zero without `std` (matches `f32::round`).
#[inline]
pub fn round(x: f32) -> f32 {
    libm::roundf(x)
}

/// `clamp(v, −127, 127)` as an int8 (the integer path's symmetric range). On Armv7-M (Arm with
/// 32-bit atomics, which Armv6-M lacks) as [`clamp127_by_saturation`]; elsewhere, without a
/// saturating instruction, as the plain clamp.
#[inline(always)]
pub(crate) fn clamp127(v: i32) -> i8 {
    if cfg!(all(target_arch = "arm", target_has_atomic = "32")) {
        clamp127_by_saturation(v)
    } else {
        v.clamp(-127, 127) as i8
    }
}

/// [`clamp127`] as a saturation to i8 (`ssat`) and a step from −128 to −127: a compare, the
/// saturation and a conditional move, where Armv7-M spends two compares and two conditional
/// moves on the plain clamp (LLVM does not form `ssat` for an asymmetric range).
#[inline(always)]
fn clamp127_by_saturation(v: i32) -> i8 {
    let s = v.clamp(-128, 127);
    (s + i32::from(s == -128)) as i8
}

/// Number of bytes a group of `group_size` levels at `bits` bits occupies.
#[inline]
pub const fn group_bytes(group_size: usize, bits: u8) -> usize {
    group_size * bits as usize / 8
}

/// Write `levels` as an LSB-first bit stream of `bits`-bit fields into `out`.
/// Returns `None` if `out` is too short or a level does not fit in `bits`.
pub fn pack_levels(levels: &[u16], bits: u8, out: &mut [u8]) -> Option<usize> {
    if bits == 0 || bits > MAX_BITS {
        return None;
    }
    let nbits = levels.len().checked_mul(usize::from(bits))?;
    let nbytes = nbits.div_ceil(8);
    let out = out.get_mut(..nbytes)?;
    out.fill(0);
    let mut pos = 0usize;
    for &l in levels {
        if u32::from(l) >> bits != 0 {
            return None;
        }
        let mut v = u32::from(l);
        let mut left = u32::from(bits);
        while left > 0 {
            let byte = out.get_mut(pos / 8)?;
            let sh = (pos % 8) as u32;
            let take = (8 - sh).min(left);
            *byte |= ((v & ((1 << take) - 1)) << sh) as u8;
            v >>= take;
            left -= take;
            pos += take as usize;
        }
    }
    Some(nbytes)
}

/// Read `out.len()` fields of `bits` bits from the LSB-first stream `packed`.
/// Returns `None` if `packed` is too short.
pub fn unpack_levels(packed: &[u8], bits: u8, out: &mut [u16]) -> Option<()> {
    if bits == 0 || bits > MAX_BITS {
        return None;
    }
    let mut pos = 0usize;
    for o in out.iter_mut() {
        let mut v = 0u32;
        let mut got = 0u32;
        while got < u32::from(bits) {
            let byte = u32::from(*packed.get(pos / 8)?);
            let sh = (pos % 8) as u32;
            let take = (8 - sh).min(u32::from(bits) - got);
            v |= ((byte >> sh) & ((1 << take) - 1)) << got;
            got += take;
            pos += take as usize;
        }
        *o = v as u16;
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::{clamp127, clamp127_by_saturation};

    /// Both forms equal the plain clamp on every value near the range and at the extremes of
    /// i32.
    #[test]
    fn clamp127_is_the_symmetric_clamp() {
        let near = (-70_000..70_000).chain([i32::MIN, i32::MIN + 1, i32::MAX, i32::MAX - 1]);
        for v in near {
            let want = v.clamp(-127, 127) as i8;
            assert_eq!((clamp127(v), clamp127_by_saturation(v)), (want, want), "{v}");
        }
    }
}
