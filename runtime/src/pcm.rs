//! 16-bit PCM ↔ f32 samples: the one conversion of the project (firmware, trainer and host
//! tools), the same on every machine.

/// Full scale: sample `s` means `s / 32768`.
pub const FULL_SCALE: f32 = 32768.0;

/// `s / 32768` (exact in f32).
#[inline]
pub fn i16_to_f32(s: i16) -> f32 {
    f32::from(s) * (1.0 / FULL_SCALE)
}

/// `clamp(round(x · 32768), −32768, 32767)`, rounding half away from zero; NaN gives 0.
#[inline]
pub fn f32_to_i16(x: f32) -> i16 {
    crate::quant::round(x * FULL_SCALE) as i16 // `as` saturates, and maps NaN to 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_saturation() {
        for s in [i16::MIN, -12345, -1, 0, 1, 77, i16::MAX] {
            assert_eq!(f32_to_i16(i16_to_f32(s)), s);
        }
        assert_eq!(f32_to_i16(1.5), i16::MAX);
        assert_eq!(f32_to_i16(-1.5), i16::MIN);
        assert_eq!(f32_to_i16(f32::NAN), 0);
        assert_eq!(f32_to_i16(0.5 / FULL_SCALE), 1); // half away from zero
        assert_eq!(f32_to_i16(-0.5 / FULL_SCALE), -1);
    }
}
