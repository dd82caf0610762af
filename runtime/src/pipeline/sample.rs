//! The samples the f32 path takes and gives: f32 as they are, i16 PCM through [`crate::pcm`].

use crate::dsp::{Array, FrameSize, Hop};
use crate::pcm;

/// A sample type at the ends of [`F32Denoiser`](super::F32Denoiser): how a hop of it becomes
/// the f32 hop the STFT reads, and how the f32 hop the STFT writes becomes a hop of it.
pub trait SampleFormat: Copy + Default {
    /// Calls `f` with `hop` as f32 samples.
    fn read_f32<Z: FrameSize, R>(hop: &Hop<Z, Self>, f: impl FnOnce(&Hop<Z, f32>) -> R) -> R;
    /// Lets `f` write f32 samples, stored into `hop`.
    fn write_f32<Z: FrameSize>(hop: &mut Hop<Z, Self>, f: impl FnOnce(&mut Hop<Z, f32>));
}

/// f32 samples, in units of full scale: used as they are.
impl SampleFormat for f32 {
    #[inline(always)]
    fn read_f32<Z: FrameSize, R>(hop: &Hop<Z, f32>, f: impl FnOnce(&Hop<Z, f32>) -> R) -> R {
        f(hop)
    }
    #[inline(always)]
    fn write_f32<Z: FrameSize>(hop: &mut Hop<Z, f32>, f: impl FnOnce(&mut Hop<Z, f32>)) {
        f(hop)
    }
}

/// 16-bit PCM: [`pcm::i16_to_f32`] in, [`pcm::f32_to_i16`] out.
impl SampleFormat for i16 {
    #[inline(always)]
    fn read_f32<Z: FrameSize, R>(hop: &Hop<Z, i16>, f: impl FnOnce(&Hop<Z, f32>) -> R) -> R {
        let mut x = Hop::<Z, f32>::filled(0.0);
        for (x, s) in x.as_mut().iter_mut().zip(hop.as_ref()) {
            *x = pcm::i16_to_f32(*s);
        }
        f(&x)
    }
    #[inline(always)]
    fn write_f32<Z: FrameSize>(hop: &mut Hop<Z, i16>, f: impl FnOnce(&mut Hop<Z, f32>)) {
        let mut y = Hop::<Z, f32>::filled(0.0);
        f(&mut y);
        for (o, y) in hop.as_mut().iter_mut().zip(y.as_ref()) {
            *o = pcm::f32_to_i16(*y);
        }
    }
}
