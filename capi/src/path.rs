//! The denoiser a `dqd_denoiser` holds: one of four (f32 or integer path, 8 or 16 kHz frames),
//! laid out so that it can be built in place, in the caller's memory.

use core::mem::{size_of, MaybeUninit};
use runtime::dsp::{Narrowband, Wideband};
#[cfg(feature = "f32")]
use runtime::pipeline::F32Denoiser;
#[cfg(feature = "int")]
use runtime::pipeline::I8Denoiser;
use runtime::Model;

/// The f32 denoiser of 8 kHz frames.
#[cfg(feature = "f32")]
pub(crate) type F32Narrow = F32Denoiser<'static, i16, Narrowband>;
/// The f32 denoiser of 16 kHz frames.
#[cfg(feature = "f32")]
pub(crate) type F32Wide = F32Denoiser<'static, i16, Wideband>;
/// The integer denoiser of 8 kHz frames.
#[cfg(feature = "int")]
pub(crate) type IntNarrow = I8Denoiser<'static, Narrowband>;
/// The integer denoiser of 16 kHz frames.
#[cfg(feature = "int")]
pub(crate) type IntWide = I8Denoiser<'static, Wideband>;

/// The discriminants of [`Path`]'s variants ("DQDN" to "DQDQ"): the first four bytes of a
/// filled `dqd_denoiser`, which mark it filled.
const TAG_F32: u32 = 0x4451_444E;
#[cfg(feature = "f32")]
const TAG_F32_WIDE: u32 = TAG_F32 + 1;
#[cfg(feature = "int")]
const TAG_INT: u32 = TAG_F32 + 2;
#[cfg(feature = "int")]
const TAG_INT_WIDE: u32 = TAG_F32 + 3;

/// The discriminants of the variants this build has.
pub(crate) const PATH_TAGS: &[u32] = &[
    #[cfg(feature = "f32")]
    TAG_F32,
    #[cfg(feature = "f32")]
    TAG_F32_WIDE,
    #[cfg(feature = "int")]
    TAG_INT,
    #[cfg(feature = "int")]
    TAG_INT_WIDE,
];

/// The denoiser of one path and one frame size (8 kHz [`Narrowband`], 16 kHz [`Wideband`]). The
/// C struct has room for the largest whichever the path and size: no heap to box into. Its
/// layout is `repr(u32)`'s: each variant is laid out as a [`Tagged`], its discriminant and its
/// denoiser, which is how `DenoiserSlot::write` builds one in place instead of moving it there
/// (which would take its size of stack, twice over).
#[allow(clippy::large_enum_variant)]
#[allow(dead_code)] // the variants are built in place, never as values
#[repr(u32)]
pub(crate) enum Path {
    #[cfg(feature = "f32")]
    F32(F32Narrow) = TAG_F32,
    #[cfg(feature = "f32")]
    F32Wide(F32Wide) = TAG_F32_WIDE,
    #[cfg(feature = "int")]
    Int(IntNarrow) = TAG_INT,
    #[cfg(feature = "int")]
    IntWide(IntWide) = TAG_INT_WIDE,
}

/// One variant of [`Path`] as `repr(u32)` lays it out: a `repr(C)` struct of the discriminant
/// and the variant's field.
#[repr(C)]
pub(crate) struct Tagged<T> {
    pub(crate) tag: u32,
    pub(crate) denoiser: T,
}

/// A denoiser that [`Path`] holds: the discriminant of its variant, the element type of its
/// buffers, its in-place constructor.
///
/// # Safety
/// [`Path`]'s variant of discriminant `TAG` has one field, a `Self`.
pub(crate) unsafe trait Variant: Sized {
    /// The discriminant of the variant holding a `Self`.
    const TAG: u32;
    /// The arena's and the state's element.
    type Elem;
    /// Builds the denoiser in `slot` (the runtime's `init_in`); on error `slot` is untouched.
    fn init_in(
        slot: &mut MaybeUninit<Self>,
        model: Model<'static>,
        arena: &'static mut [Self::Elem],
        state: &'static mut [Self::Elem],
    ) -> Result<(), runtime::Error>;
}

/// Implements [`Variant`] for the denoiser of a variant, and checks that the variant fits.
macro_rules! variant {
    ($feature:literal, $ty:ty, $elem:ty, $tag:ident) => {
        // SAFETY: the variant of discriminant `$tag` holds one `$ty` (`Path` above).
        #[cfg(feature = $feature)]
        unsafe impl Variant for $ty {
            const TAG: u32 = $tag;
            type Elem = $elem;
            fn init_in(
                slot: &mut MaybeUninit<Self>,
                model: Model<'static>,
                arena: &'static mut [$elem],
                state: &'static mut [$elem],
            ) -> Result<(), runtime::Error> {
                <$ty>::init_in(slot, model, arena, state).map(|_| ())
            }
        }
        #[cfg(feature = $feature)]
        const _: () = assert!(size_of::<Tagged<$ty>>() <= size_of::<Path>());
    };
}
variant!("f32", F32Narrow, f32, TAG_F32);
variant!("f32", F32Wide, f32, TAG_F32_WIDE);
variant!("int", IntNarrow, i8, TAG_INT);
variant!("int", IntWide, i8, TAG_INT_WIDE);

impl Path {
    /// Samples per hop of this denoiser's frame size.
    pub(crate) fn hop(&self) -> usize {
        use runtime::dsp::FrameSize;
        match self {
            #[cfg(feature = "f32")]
            Path::F32(_) => Narrowband::HOP,
            #[cfg(feature = "int")]
            Path::Int(_) => Narrowband::HOP,
            #[cfg(feature = "f32")]
            Path::F32Wide(_) => Wideband::HOP,
            #[cfg(feature = "int")]
            Path::IntWide(_) => Wideband::HOP,
        }
    }

    /// Forgets the past: the next hop starts a stream.
    pub(crate) fn reset(&mut self) {
        match self {
            #[cfg(feature = "f32")]
            Path::F32(d) => d.reset(),
            #[cfg(feature = "f32")]
            Path::F32Wide(d) => d.reset(),
            #[cfg(feature = "int")]
            Path::Int(d) => d.reset(),
            #[cfg(feature = "int")]
            Path::IntWide(d) => d.reset(),
        }
    }
}
