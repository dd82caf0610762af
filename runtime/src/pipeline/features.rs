//! The model's input from the spectrum, on each path: log power of bins `0 .. FRAME/2`, or the
//! log of the filterbank's band powers (log-mel). The denoisers and the classifiers call these,
//! so both compute their features with the same code.

use crate::dsp::{self, Complex32, FilterBank};
use crate::dsp_fixed::{FixedFrontEnd, FixedSize};

/// f32 features of `spec` into `feat`: per-bin log power (`bank` `None`) or log band powers.
#[inline(always)]
pub(super) fn f32_features(bank: Option<&FilterBank<'_>>, spec: &[Complex32], feat: &mut [f32]) {
    match bank {
        None => dsp::features(spec, feat),
        #[cfg(feature = "bands")]
        Some(fb) => dsp::band_features(spec, fb, feat),
        // No pipeline holds a filterbank without feature `bands` (`check::filterbank`).
        #[cfg(not(feature = "bands"))]
        Some(_) => {}
    }
}

/// int8 features of `front`'s last analysed frame into `feat`: per-bin log power (`bank`
/// `None`) or log band powers.
#[inline(always)]
pub(super) fn i8_features<Z: FixedSize>(bank: Option<&FilterBank<'_>>, front: &FixedFrontEnd<Z>, feat: &mut [i8]) {
    match bank {
        None => front.features(feat),
        #[cfg(feature = "bands")]
        Some(fb) => front.band_features(fb, feat),
        #[cfg(not(feature = "bands"))]
        Some(_) => {}
    }
}
