//! The two structs C allocates (`dqd_model`, `dqd_denoiser`: opaque arrays of 64-bit words), what
//! Rust keeps in them, the checks that turn a raw pointer from C into a reference, and the one
//! struct C reads (`dqd_stream`).

use crate::path::{Path, Tagged, Variant, PATH_TAGS};
use crate::status::{DQD_ERR_MISALIGNED, DQD_ERR_NOT_INITIALISED, DQD_ERR_NULL, DQD_ERR_OVERLAP};
use core::mem::{align_of, size_of, MaybeUninit};
use runtime::Model;

/// 64-bit words in a [`DqdModel`].
pub const DQD_MODEL_WORDS: usize = 12;
/// 64-bit words in a [`DqdDenoiser`].
pub const DQD_DENOISER_WORDS: usize = 808;

/// What a stream through a model looks like (`dqd_stream`): filled by `dqd_model_stream`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DqdStream {
    /// Sample rate the model is trained for, in Hz: 8000 or 16000.
    pub sample_rate: u32,
    /// Samples per hop: each `dqd_process` call takes and gives this many (128 at 8 kHz, 256 at
    /// 16 kHz; at most `DQD_MAX_HOP`). 16 ms of audio.
    pub hop: usize,
    /// Latency in samples: `dqd_process` gives back the hop fed one call earlier (the first hop of
    /// a stream is silent), so this equals `hop`.
    pub latency_samples: usize,
}

/// A parsed model (`dqd_model`): filled by `dqd_model_parse`, read by `dqd_sizes` and
/// `dqd_denoiser_init`. It refers to the blob, which must stay in place while it is used.
#[repr(C)]
pub struct DqdModel {
    /// Opaque storage: only the `dqd_*` functions read or write it.
    pub opaque: [u64; DQD_MODEL_WORDS],
}

/// A denoiser (`dqd_denoiser`): filled by `dqd_denoiser_init`, used by `dqd_process` and
/// `dqd_reset`. It refers to the blob, the arena and the state, which must stay in place and
/// untouched while it is used. It holds the front end's buffers (a few KiB): declare it static
/// or give it room on the stack.
#[repr(C)]
pub struct DqdDenoiser {
    /// Opaque storage: only the `dqd_*` functions read or write it.
    pub opaque: [u64; DQD_DENOISER_WORDS],
}

/// Marks a filled [`DqdModel`] ("DQMO"). A filled [`DqdDenoiser`] is marked by the
/// discriminant of its [`Path`] ([`PATH_TAGS`]).
const MODEL_TAG: u32 = 0x4451_4D4F;

/// A byte range `[start, start + len)` of caller memory.
#[derive(Clone, Copy)]
pub(crate) struct Region {
    start: usize,
    len: usize,
}

impl Region {
    pub(crate) fn of<T>(p: *const T, len: usize) -> Self {
        Region { start: p as usize, len }
    }

    pub(crate) fn is_null(self) -> bool {
        self.start == 0
    }

    #[cfg_attr(not(feature = "f32"), allow(dead_code))]
    pub(crate) fn aligned_for<T>(self) -> bool {
        self.start % align_of::<T>() == 0
    }

    /// The region as a slice of as many whole `T` as fit.
    ///
    /// # Safety
    /// The region is non-null, aligned for `T`, writable, holds valid `T`s for every bit pattern,
    /// and nothing else reads or writes it while the slice lives.
    pub(crate) unsafe fn as_slice_mut<T>(self) -> &'static mut [T] {
        // SAFETY: the caller's contract.
        unsafe { core::slice::from_raw_parts_mut(self.start as *mut T, self.len / size_of::<T>()) }
    }

    pub(crate) fn overlaps(self, o: Region) -> bool {
        self.len > 0
            && o.len > 0
            && self.start < o.start.saturating_add(o.len)
            && o.start < self.start.saturating_add(self.len)
    }
}

/// [`DQD_ERR_OVERLAP`] if any two of `regions` share a byte.
pub(crate) fn disjoint(regions: &[Region]) -> Result<(), i32> {
    for (i, a) in regions.iter().enumerate() {
        if regions.iter().skip(i + 1).any(|b| a.overlaps(*b)) {
            return Err(DQD_ERR_OVERLAP);
        }
    }
    Ok(())
}

/// What a [`DqdModel`] holds.
#[repr(C)]
pub(crate) struct ModelSlot {
    tag: u32,
    pub(crate) blob: Region,
    pub(crate) model: Model<'static>,
}

/// What a [`DqdDenoiser`] holds: the denoiser and the caller memory it refers to.
#[repr(C)]
pub(crate) struct DenoiserSlot {
    /// First: its discriminant, the slot's first four bytes, marks a filled slot.
    pub(crate) path: Path,
    pub(crate) regions: [Region; 4],
}

const _: () = assert!(size_of::<ModelSlot>() <= size_of::<DqdModel>());
const _: () = assert!(align_of::<ModelSlot>() <= align_of::<DqdModel>());
const _: () = assert!(size_of::<DenoiserSlot>() <= size_of::<DqdDenoiser>());
const _: () = assert!(align_of::<DenoiserSlot>() <= align_of::<DqdDenoiser>());

/// `p` as a `*mut S` if it is not null and aligned for `S`.
fn checked<T, S>(p: *const T) -> Result<*mut S, i32> {
    if p.is_null() {
        Err(DQD_ERR_NULL)
    } else if (p as usize) % align_of::<S>() != 0 {
        Err(DQD_ERR_MISALIGNED)
    } else {
        Ok(p.cast::<S>().cast_mut())
    }
}

/// Reads the tag of a slot at `p` (non-null, aligned; the first four bytes of both slots: the
/// model's `tag`, the denoiser's discriminant).
///
/// # Safety
/// `p` points to `size_of::<u32>()` readable bytes.
unsafe fn tag_at(p: *const u32) -> u32 {
    // SAFETY: the caller's contract; any bit pattern is a valid `u32`.
    unsafe { p.read() }
}

impl ModelSlot {
    /// Fills `out` (a [`DqdModel`] in caller memory).
    ///
    /// # Safety
    /// `out` is null or points to a writable `dqd_model`.
    pub(crate) unsafe fn write(out: *mut DqdModel, blob: Region, model: Model<'static>) -> Result<(), i32> {
        let p = checked::<_, ModelSlot>(out)?;
        // SAFETY: `p` is non-null, aligned, and the struct behind it is large enough (asserted above).
        unsafe { p.write(ModelSlot { tag: MODEL_TAG, blob, model }) };
        Ok(())
    }

    /// Marks `out` (if non-null and aligned) as not filled, so a failed parse is not used.
    ///
    /// # Safety
    /// As [`ModelSlot::write`].
    pub(crate) unsafe fn clear(out: *mut DqdModel) {
        if let Ok(p) = checked::<_, ModelSlot>(out) {
            // SAFETY: as in `write`; only the tag is written.
            unsafe { core::ptr::addr_of_mut!((*p).tag).write(0) };
        }
    }

    /// The slot a successful `dqd_model_parse` left at `p`.
    ///
    /// # Safety
    /// `p` is null or points to a readable `dqd_model`, not written while the reference lives.
    pub(crate) unsafe fn get<'a>(p: *const DqdModel) -> Result<&'a ModelSlot, i32> {
        let s = checked::<_, ModelSlot>(p)?;
        // SAFETY: `s` is non-null and aligned; the struct is readable (the caller's contract).
        if unsafe { tag_at(core::ptr::addr_of!((*s).tag)) } != MODEL_TAG {
            return Err(DQD_ERR_NOT_INITIALISED);
        }
        // SAFETY: the tag is only set by `write`, which wrote a whole `ModelSlot` there.
        Ok(unsafe { &*s })
    }
}

impl DenoiserSlot {
    /// Builds a denoiser `T` in `out` (a [`DqdDenoiser`] in caller memory), in place: nothing of
    /// its size passes through the stack. `out` is marked unfilled until the denoiser is whole.
    ///
    /// # Safety
    /// `out` is null or points to a writable `dqd_denoiser`, outside every region in `regions`,
    /// that nothing else reads or writes during the call.
    pub(crate) unsafe fn write<T: Variant>(
        out: *mut DqdDenoiser,
        regions: [Region; 4],
        model: Model<'static>,
        bufs: (&'static mut [T::Elem], &'static mut [T::Elem]),
    ) -> Result<(), i32> {
        let p = checked::<_, DenoiserSlot>(out)?;
        // The path is the slot's first field (`repr(C)`).
        let v = p.cast::<Tagged<T>>();
        // SAFETY: `p` is non-null, aligned, and the struct behind it is large enough (asserted
        // above); a `Path` holding a `T` is laid out as a `Tagged<T>` (`repr(u32)`), which fits
        // in it (asserted by `variant!`). Nothing else refers to `*out` (the caller's contract),
        // and a `MaybeUninit` may hold any bytes.
        let slot = unsafe {
            core::ptr::addr_of_mut!((*v).tag).write(0);
            &mut *core::ptr::addr_of_mut!((*v).denoiser).cast::<MaybeUninit<T>>()
        };
        T::init_in(slot, model, bufs.0, bufs.1).map_err(crate::status::code)?;
        // SAFETY: as above. The denoiser is whole; with the regions and then its discriminant
        // (`T::TAG`, that of the variant holding a `T`) the slot is a whole `DenoiserSlot`.
        unsafe {
            core::ptr::addr_of_mut!((*p).regions).write(regions);
            core::ptr::addr_of_mut!((*v).tag).write(T::TAG);
        }
        Ok(())
    }

    /// Marks `out` (if non-null and aligned) as not filled, so a failed init is not used.
    ///
    /// # Safety
    /// As [`DenoiserSlot::write`].
    pub(crate) unsafe fn clear(out: *mut DqdDenoiser) {
        if let Ok(p) = checked::<_, DenoiserSlot>(out) {
            // SAFETY: as in `write`; only the discriminant's bytes are written, with no variant's.
            unsafe { core::ptr::addr_of_mut!((*p).path).cast::<u32>().write(0) };
        }
    }

    /// The slot a successful `dqd_denoiser_init` left at `p`.
    ///
    /// # Safety
    /// `p` is null or points to a `dqd_denoiser` that nothing else reads or writes while the
    /// reference lives.
    pub(crate) unsafe fn get<'a>(p: *mut DqdDenoiser) -> Result<&'a mut DenoiserSlot, i32> {
        let s = checked::<_, DenoiserSlot>(p)?;
        // SAFETY: `s` is non-null and aligned; the struct is readable (the caller's contract).
        if !PATH_TAGS.contains(&unsafe { tag_at(core::ptr::addr_of!((*s).path).cast::<u32>()) }) {
            return Err(DQD_ERR_NOT_INITIALISED);
        }
        // SAFETY: a discriminant is only written by `write`, last, over a whole `DenoiserSlot`.
        Ok(unsafe { &mut *s })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_fit_with_little_slack() {
        let (m, d) = (size_of::<ModelSlot>(), size_of::<DenoiserSlot>());
        std::eprintln!(
            "ModelSlot {m} B of {}, DenoiserSlot {d} B of {}",
            size_of::<DqdModel>(),
            size_of::<DqdDenoiser>()
        );
        assert!(size_of::<DqdModel>() - m < 64 && size_of::<DqdDenoiser>() - d < 128, "shrink the word counts");
    }

    #[test]
    fn regions_overlap_only_when_they_share_a_byte() {
        let r = |start, len| Region { start, len };
        assert!(disjoint(&[r(0, 4), r(4, 4), r(8, 0)]).is_ok());
        assert_eq!(disjoint(&[r(0, 5), r(4, 4)]), Err(DQD_ERR_OVERLAP));
        assert_eq!(disjoint(&[r(10, 1), r(0, 4), r(0, 20)]), Err(DQD_ERR_OVERLAP));
        assert!(disjoint(&[r(usize::MAX - 1, 1), r(0, 4)]).is_ok());
    }
}
