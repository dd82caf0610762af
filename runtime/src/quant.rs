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
