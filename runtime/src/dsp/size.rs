//! The two frame sizes of the front end (FORMAT.md, "Front end"): [`Narrowband`] (8 kHz,
//! 256-sample frames) and [`Wideband`] (16 kHz, 512-sample frames). Every buffer of the STFT and
//! of the pipelines is an array of a size's [`FrameSize::Hop`], [`FrameSize::Frame`] or
//! [`FrameSize::Bins`] type, so a stream built for 8 kHz holds no 512-point buffer.

use crate::feature::WIDEBAND_RATE;

/// A fixed-length array of `T` (`[T; N]` for every `N`): what the STFT's buffers are.
pub trait Array<T>: Copy + AsRef<[T]> + AsMut<[T]> {
    /// The array with every element `v`.
    fn filled(v: T) -> Self;
}

impl<T: Copy, const N: usize> Array<T> for [T; N] {
    #[inline(always)]
    fn filled(v: T) -> Self {
        [v; N]
    }
}

/// One frame size of the STFT front end: its rate, lengths, buffers and window (whose values
/// are also the FFTs' twiddles).
/// Implemented by [`Narrowband`] and [`Wideband`] only.
pub trait FrameSize: Copy + Default + core::fmt::Debug + 'static {
    /// Sample rate (Hz).
    const SAMPLE_RATE: u32;
    /// Samples per analysis frame (32 ms), and the FFT length.
    const FRAME: usize;
    /// Samples between frames (16 ms): one model step per hop.
    const HOP: usize;
    /// One-sided spectrum bins, DC through Nyquist: `FRAME/2 + 1`.
    const BINS: usize;
    /// Log-power features: bins `0 .. FRAME/2` (Nyquist dropped so widths stay multiples of 16).
    const N_FEATURES: usize;
    /// `HOP` values (also `FRAME/2`: the log-power features, the complex points of the
    /// half-length FFT).
    type Hop<T: Copy>: Array<T>;
    /// `FRAME` values.
    type Frame<T: Copy>: Array<T>;
    /// `BINS` values.
    type Bins<T: Copy>: Array<T>;
    /// The square-root periodic Hann window's first half and middle, `w[0..=FRAME/2]` in
    /// flash (`BINS` values); the window is symmetric, `w[FRAME − i] = w[i]`, and
    /// [`window_value`] reads any of its `FRAME` values.
    fn window() -> &'static Self::Bins<f32>;
}

/// `Hop` values of `T` for frame size `Z`.
pub type Hop<Z, T> = <Z as FrameSize>::Hop<T>;
/// `Bins` values of `T` for frame size `Z`.
pub type Bins<Z, T> = <Z as FrameSize>::Bins<T>;

/// `w[i]` of frame size `Z`'s window for `i` in `0..FRAME` (from [`FrameSize::window`]'s half by
/// symmetry), 0 beyond.
pub fn window_value<Z: FrameSize>(i: usize) -> f32 {
    let j = if i <= Z::HOP { Some(i) } else { Z::FRAME.checked_sub(i).filter(|j| *j > 0) };
    j.and_then(|j| Z::window().as_ref().get(j)).copied().unwrap_or(0.0)
}

/// `w[i] = sin(πi/F)` for i in `0..N` (`N = F/2 + 1`: the first half and the middle of the
/// square-root periodic Hann window of `F` samples, `sqrt(0.5 − 0.5·cos(2πi/F))`).
#[allow(clippy::indexing_slicing)] // const fn: an out-of-range index fails the build, not the chip
const fn sqrt_hann<const N: usize>() -> [f32; N] {
    let frame = 2 * (N - 1);
    let mut w = [0.0f32; N];
    let mut i = 0;
    while i < N {
        w[i] = super::const_sin(core::f64::consts::PI * i as f64 / frame as f64) as f32;
        i += 1;
    }
    w
}

macro_rules! frame_size {
    ($(#[$doc:meta])* $name:ident, $rate:expr, $frame:expr, $(#[$wdoc:meta])* $vis:vis $window:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
        pub struct $name;

        $(#[$wdoc])*
        $vis static $window: [f32; $frame / 2 + 1] = sqrt_hann::<{ $frame / 2 + 1 }>();

        impl FrameSize for $name {
            const SAMPLE_RATE: u32 = $rate;
            const FRAME: usize = $frame;
            const HOP: usize = $frame / 2;
            const BINS: usize = $frame / 2 + 1;
            const N_FEATURES: usize = $frame / 2;
            type Hop<T: Copy> = [T; $frame / 2];
            type Frame<T: Copy> = [T; $frame];
            type Bins<T: Copy> = [T; $frame / 2 + 1];
            #[inline(always)]
            fn window() -> &'static [f32; $frame / 2 + 1] {
                &$window
            }
        }
    };
}

frame_size!(
    /// 8 kHz audio, 256-sample frames, hop 128, 129 bins: the default front end (format
    /// versions 1–4 imply it).
    Narrowband,
    8000,
    256,
    /// The square-root periodic Hann window of [`Narrowband`]: its first 129 of 256 values
    /// (the rest mirror them: [`window_value`]), in flash.
    pub WINDOW
);
#[cfg(feature = "wideband")]
frame_size!(
    /// 16 kHz audio, 512-sample frames, hop 256, 257 bins (feature `wideband`).
    Wideband,
    16000,
    WIDEBAND_FRAME,
    WINDOW_512
);

/// Samples per frame of the 16 kHz front end ([`Wideband`]'s `FRAME`, also in builds without it).
pub const WIDEBAND_FRAME: usize = 512;

/// The frame length at `sample_rate` (32 ms: 256 at 8000 Hz, 512 at 16000 Hz), `None` for a rate
/// without a front end.
pub const fn frame_at(sample_rate: u32) -> Option<usize> {
    match sample_rate {
        Narrowband::SAMPLE_RATE => Some(Narrowband::FRAME),
        WIDEBAND_RATE => Some(WIDEBAND_FRAME),
        _ => None,
    }
}
