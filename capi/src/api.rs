//! The exported functions. Each checks its pointers (null, alignment, overlap, a struct that no
//! `dqd_*` call filled) before it forms a reference, and returns a status code.

use crate::path::Path;
#[cfg(feature = "f32")]
use crate::path::{F32Narrow, F32Wide};
#[cfg(feature = "int")]
use crate::path::{IntNarrow, IntWide};
use crate::slots::{disjoint, DenoiserSlot, DqdDenoiser, DqdModel, DqdStream, ModelSlot, Region};
use crate::status::{code, name, status, DQD_ERR_BAD_IO_LENGTH, DQD_ERR_BAD_PATH, DQD_ERR_NULL, DQD_ERR_OVERLAP};
use core::ffi::{c_char, c_void};
use core::mem::size_of;
use runtime::dsp::{Array, Hop};
use runtime::pipeline::Denoise;
use runtime::{Feature, Model, Precision};

/// Checks the blob of `len` bytes at `blob` (header, tables, CRC: `runtime/FORMAT.md`) without
/// copying it, and fills `*out`. On error `*out` is marked unfilled.
///
/// # Safety
/// `blob` points to `len` readable bytes that stay unchanged while `*out`, or a denoiser made from
/// it, is used; `out` points to a writable `dqd_model`. Null pointers are reported, not followed.
#[no_mangle]
pub unsafe extern "C" fn dqd_model_parse(blob: *const u8, len: usize, out: *mut DqdModel) -> i32 {
    // SAFETY: the caller's contract, forwarded.
    let r = unsafe { model_parse(blob, len, out) };
    if r.is_err() {
        // SAFETY: the caller's contract for `out`.
        unsafe { ModelSlot::clear(out) };
    }
    status(r)
}

/// # Safety
/// As [`dqd_model_parse`].
unsafe fn model_parse(blob: *const u8, len: usize, out: *mut DqdModel) -> Result<(), i32> {
    if blob.is_null() || out.is_null() {
        return Err(DQD_ERR_NULL);
    }
    let region = Region::of(blob, len);
    disjoint(&[region, Region::of(out, size_of::<DqdModel>())])?;
    // SAFETY: `blob` is non-null and points to `len` bytes that outlive every use of the model
    // (the caller's contract); nothing writes them through this library.
    let bytes: &'static [u8] = unsafe { core::slice::from_raw_parts(blob, len) };
    let model = Model::parse(bytes).map_err(code)?;
    // SAFETY: the caller's contract for `out`.
    unsafe { ModelSlot::write(out, region, model) }
}

/// Writes the sample rate, hop and latency of `model` into `*out`: [`dqd_process`] takes and
/// gives `out->hop` samples per call (128 for an 8 kHz model, 256 for a 16 kHz one).
///
/// # Safety
/// `model` points to a readable `dqd_model`; `out` to a writable `dqd_stream`.
#[no_mangle]
pub unsafe extern "C" fn dqd_model_stream(model: *const DqdModel, out: *mut DqdStream) -> i32 {
    if out.is_null() {
        return DQD_ERR_NULL;
    }
    // SAFETY: the caller's contract for `model`.
    match unsafe { ModelSlot::get(model) }.and_then(|slot| stream(&slot.model)) {
        Ok(s) => {
            // SAFETY: `out` is non-null and writable (the caller's contract); an unaligned write
            // accepts any address.
            unsafe { out.write_unaligned(s) };
            status(Ok(()))
        }
        Err(e) => e,
    }
}

/// The stream of `model`: its front end's rate and hop, one hop of latency.
fn stream(model: &Model<'_>) -> Result<DqdStream, i32> {
    let fe = model.front_end().map_err(code)?;
    let hop = usize::from(fe.hop);
    Ok(DqdStream { sample_rate: u32::from(fe.sample_rate), hop, latency_samples: hop })
}

/// Writes the arena and state bytes that `path` (`DQD_PATH_F32` or `DQD_PATH_INT`) needs for
/// `model` into `*arena_bytes` and `*state_bytes`.
///
/// # Safety
/// `model` points to a readable `dqd_model`; `arena_bytes` and `state_bytes` to writable `size_t`s.
#[no_mangle]
pub unsafe extern "C" fn dqd_sizes(
    model: *const DqdModel,
    path: i32,
    arena_bytes: *mut usize,
    state_bytes: *mut usize,
) -> i32 {
    if arena_bytes.is_null() || state_bytes.is_null() {
        return DQD_ERR_NULL;
    }
    // SAFETY: the caller's contract for `model`.
    let sizes = unsafe { ModelSlot::get(model) }.and_then(|slot| sizes(&slot.model, path));
    match sizes {
        Ok((arena, state)) => {
            // SAFETY: both are non-null and writable (the caller's contract); unaligned writes
            // accept any address.
            unsafe {
                arena_bytes.write_unaligned(arena);
                state_bytes.write_unaligned(state);
            }
            status(Ok(()))
        }
        Err(e) => e,
    }
}

/// (arena, state) bytes of `path` for `model`.
fn sizes(model: &Model<'_>, path: i32) -> Result<(usize, usize), i32> {
    #[cfg(feature = "f32")]
    let f32_bytes = |n: usize| n.saturating_mul(size_of::<f32>());
    match path {
        #[cfg(feature = "f32")]
        crate::DQD_PATH_F32 => Ok((f32_bytes(model.f32_arena_len()), f32_bytes(model.f32_state_len()))),
        #[cfg(feature = "int")]
        crate::DQD_PATH_INT if model.has_int() => Ok((model.i8_arena_len(), model.i8_state_len())),
        #[cfg(feature = "int")]
        crate::DQD_PATH_INT => Err(code(runtime::Error::NoIntegerPath)),
        _ => Err(DQD_ERR_BAD_PATH),
    }
}

/// Builds a denoiser on `path` for `model` in `*out`, with its activations in `arena` and its
/// streaming state in `state` (`arena_bytes`, `state_bytes` at least what [`dqd_sizes`] gives; on
/// the f32 path both 4-byte aligned). Blob, arena, state and `*out` must not overlap. `*model`
/// is copied: only the blob must stay. On error `*out` is marked unfilled.
///
/// # Safety
/// `model` points to a readable `dqd_model`; `arena` and `state` to that many writable bytes and
/// `out` to a writable `dqd_denoiser`, all of which stay in place, and are touched by nothing
/// else, while the denoiser is used.
#[no_mangle]
pub unsafe extern "C" fn dqd_denoiser_init(
    model: *const DqdModel,
    path: i32,
    arena: *mut c_void,
    arena_bytes: usize,
    state: *mut c_void,
    state_bytes: usize,
    out: *mut DqdDenoiser,
) -> i32 {
    let bufs = (Region::of(arena, arena_bytes), Region::of(state, state_bytes));
    // SAFETY: the caller's contract, forwarded.
    let r = unsafe { denoiser_init(model, path, bufs, out) };
    if r.is_err() {
        // SAFETY: the caller's contract for `out`.
        unsafe { DenoiserSlot::clear(out) };
    }
    status(r)
}

/// # Safety
/// As [`dqd_denoiser_init`], `arena` and `state` given as regions.
unsafe fn denoiser_init(
    model: *const DqdModel,
    path: i32,
    bufs: (Region, Region),
    out: *mut DqdDenoiser,
) -> Result<(), i32> {
    let (arena, state) = bufs;
    if arena.is_null() || state.is_null() || out.is_null() {
        return Err(DQD_ERR_NULL);
    }
    // SAFETY: the caller's contract for `model`.
    let slot = unsafe { ModelSlot::get(model) }?;
    let (m, blob) = (slot.model, slot.blob);
    let regions = [blob, arena, state, Region::of(out, size_of::<DqdDenoiser>())];
    disjoint(&regions)?;
    // SAFETY (each `DenoiserSlot::write`): the caller's contract for `out`, which is outside
    // blob, arena and state (checked).
    match path {
        #[cfg(feature = "f32")]
        crate::DQD_PATH_F32 => {
            if !arena.aligned_for::<f32>() || !state.aligned_for::<f32>() {
                return Err(crate::status::DQD_ERR_MISALIGNED);
            }
            // SAFETY: non-null, aligned, writable, disjoint regions that outlive the denoiser and
            // that nothing else touches (the caller's contract); every bit pattern is an `f32`.
            let bufs = unsafe { (arena.as_slice_mut::<f32>(), state.as_slice_mut::<f32>()) };
            if m.needs(Feature::Wideband, Precision::F32) {
                // SAFETY: see above.
                unsafe { DenoiserSlot::write::<F32Wide>(out, regions, m, bufs) }
            } else {
                // SAFETY: see above.
                unsafe { DenoiserSlot::write::<F32Narrow>(out, regions, m, bufs) }
            }
        }
        #[cfg(feature = "int")]
        crate::DQD_PATH_INT => {
            // SAFETY: as above; `i8` has no alignment and every bit pattern is an `i8`.
            let bufs = unsafe { (arena.as_slice_mut::<i8>(), state.as_slice_mut::<i8>()) };
            if m.needs(Feature::Wideband, Precision::Int) {
                // SAFETY: see above.
                unsafe { DenoiserSlot::write::<IntWide>(out, regions, m, bufs) }
            } else {
                // SAFETY: see above.
                unsafe { DenoiserSlot::write::<IntNarrow>(out, regions, m, bufs) }
            }
        }
        _ => Err(DQD_ERR_BAD_PATH),
    }
}

/// Denoises one hop: reads `samples` samples from `input` and writes the hop fed one call
/// earlier to `output` (the first call of a stream gives silence). `samples` must be the model's
/// hop (`dqd_stream.hop` from [`dqd_model_stream`]; `DQD_ERR_BAD_IO_LENGTH` otherwise). `input`
/// may equal `output`; neither may overlap the denoiser, its arena, its state or the blob.
///
/// # Safety
/// `denoiser` points to a `dqd_denoiser` that nothing else uses during the call; `input` to
/// `samples` readable and `output` to `samples` writable `int16_t`s (any alignment).
#[no_mangle]
pub unsafe extern "C" fn dqd_process(
    denoiser: *mut DqdDenoiser,
    input: *const i16,
    output: *mut i16,
    samples: usize,
) -> i32 {
    if input.is_null() || output.is_null() {
        return DQD_ERR_NULL;
    }
    // SAFETY: the caller's contract for `denoiser`.
    let slot = match unsafe { DenoiserSlot::get(denoiser) } {
        Ok(s) => s,
        Err(e) => return e,
    };
    if samples != slot.path.hop() {
        return DQD_ERR_BAD_IO_LENGTH;
    }
    let bytes = samples.saturating_mul(size_of::<i16>());
    let io = [Region::of(input, bytes), Region::of(output, bytes)];
    if io.iter().any(|r| slot.regions.iter().any(|s| r.overlaps(*s))) {
        return DQD_ERR_OVERLAP;
    }
    // SAFETY: `input` and `output` hold the denoiser's hop of samples (the caller's contract,
    // `samples` checked against the hop), outside every buffer the denoiser refers to (checked).
    let r = unsafe {
        match &mut slot.path {
            #[cfg(feature = "f32")]
            Path::F32(d) => run(d, input, output),
            #[cfg(feature = "f32")]
            Path::F32Wide(d) => run(d, input, output),
            #[cfg(feature = "int")]
            Path::Int(d) => run(d, input, output),
            #[cfg(feature = "int")]
            Path::IntWide(d) => run(d, input, output),
        }
    };
    status(r)
}

/// One hop through `d`: the samples copied in from `input`, the output copied out to `output`
/// (after the input is read, so the two may be the same buffer).
///
/// Never inlined: each path's frame buffers take stack only while that path runs (inlined into
/// [`dqd_process`], the four paths' would add up in its frame).
///
/// # Safety
/// `input` points to one hop of `d` (`D::Size::HOP` samples) readable, `output` to one hop
/// writable, both outside every buffer `d` refers to; any alignment.
#[inline(never)]
unsafe fn run<D: Denoise>(d: &mut D, input: *const i16, output: *mut i16) -> Result<(), i32> {
    let (mut x, mut y): (Hop<D::Size, i16>, Hop<D::Size, i16>) = (Array::filled(0), Array::filled(0));
    let bytes = core::mem::size_of_val(x.as_ref());
    // SAFETY: `input` holds `bytes` readable bytes (the caller's contract) and `x` is a local
    // buffer of `bytes`; byte copies accept any alignment.
    unsafe { core::ptr::copy_nonoverlapping(input.cast::<u8>(), x.as_mut().as_mut_ptr().cast::<u8>(), bytes) };
    d.process(&x, &mut y).map_err(code)?;
    // SAFETY: `output` holds `bytes` writable bytes (the caller's contract), `y` as many.
    unsafe { core::ptr::copy_nonoverlapping(y.as_ref().as_ptr().cast::<u8>(), output.cast::<u8>(), bytes) };
    Ok(())
}

/// Forgets the past: the next [`dqd_process`] starts a new stream.
///
/// # Safety
/// `denoiser` points to a `dqd_denoiser` that nothing else uses during the call.
#[no_mangle]
pub unsafe extern "C" fn dqd_reset(denoiser: *mut DqdDenoiser) -> i32 {
    // SAFETY: the caller's contract for `denoiser`.
    match unsafe { DenoiserSlot::get(denoiser) } {
        Ok(slot) => {
            slot.path.reset();
            status(Ok(()))
        }
        Err(e) => e,
    }
}

/// The name of a status code (`"DQD_ERR_CHECKSUM"`), `"DQD_ERR_UNKNOWN"` for any other number:
/// a static, NUL-terminated string.
#[no_mangle]
pub extern "C" fn dqd_error_name(status: i32) -> *const c_char {
    name(status).as_ptr()
}
