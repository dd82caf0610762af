//! The samples the f32 path takes and gives: f32 as they are, i16 PCM through [`crate::pcm`].

use crate::dsp::HOP;
use crate::pcm;

/// A sample type at the ends of [`F32Denoiser`](super::F32Denoiser): how a hop of it becomes
/// the f32 hop the STFT reads, and how the f32 hop the STFT writes becomes a hop of it.
pub trait SampleFormat: Copy + Default {
    /// Calls `f` with `hop` as f32 samples.
    fn read_f32<R>(hop: &[Self; HOP], f: impl FnOnce(&[f32; HOP]) -> R) -> R;
    /// Lets `f` write f32 samples, stored into `hop`.
    fn write_f32(hop: &mut [Self; HOP], f: impl FnOnce(&mut [f32; HOP]));
}

/// f32 samples, in units of full scale: used as they are.
impl SampleFormat for f32 {
    #[inline(always)]
    fn read_f32<R>(hop: &[f32; HOP], f: impl FnOnce(&[f32; HOP]) -> R) -> R {
        f(hop)
    }
    #[inline(always)]
    fn write_f32(hop: &mut [f32; HOP], f: impl FnOnce(&mut [f32; HOP])) {
        f(hop)
    }
}

/// 16-bit PCM: [`pcm::i16_to_f32`] in, [`pcm::f32_to_i16`] out.
impl SampleFormat for i16 {
    #[inline(always)]
    fn read_f32<R>(hop: &[i16; HOP], f: impl FnOnce(&[f32; HOP]) -> R) -> R {
        let mut x = [0.0f32; HOP];
        for (x, s) in x.iter_mut().zip(hop) {
            *x = pcm::i16_to_f32(*s);
        }
        f(&x)
    }
    #[inline(always)]
    fn write_f32(hop: &mut [i16; HOP], f: impl FnOnce(&mut [f32; HOP])) {
        let mut y = [0.0f32; HOP];
        f(&mut y);
        for (o, y) in hop.iter_mut().zip(&y) {
            *o = pcm::f32_to_i16(*y);
        }
    }
}
