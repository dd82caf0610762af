//! The denoiser demo under QEMU: the noisy clip from flash through the model, hop by hop.
//! Writes `out.raw` (i16 LE samples), `frames.bin` (u32 LE counter units per hop) and
//! `defmt.bin` (the log) into QEMU's working directory; exits 0 on success. With the `classify`
//! feature it runs a classifier blob instead and writes `scores.bin` (each hop's scores) in
//! place of `out.raw`, and logs each hop's class and a checksum of its scores.
#![no_std]
#![no_main]

#[cfg(feature = "classify")]
mod classify;
#[cfg(not(feature = "classify"))]
mod denoise;
mod simd_test;

use qemu_support::platform;
use qemu_support::profile::mark;
use qemu_support::semihosting;

use demo_core::{assets, Clip, DemoError};
use runtime::dsp::FrameSize;
use runtime::Model;

/// The frame size the demo is built for: 8 kHz, or 16 kHz with the `wideband` feature (the
/// pipeline rejects a blob of the other size).
#[cfg(not(feature = "wideband"))]
type Size = runtime::dsp::Narrowband;
#[cfg(feature = "wideband")]
type Size = runtime::dsp::Wideband;

#[cfg(not(any(feature = "fixed", not(target_abi = "eabihf"))))]
mod path {
    pub const NAME: &str = "f32";
    pub type Buffers = demo_core::assets::F32Buffers;
    #[cfg(not(feature = "classify"))]
    pub type Denoiser<'a> = runtime::pipeline::F32Denoiser<'a, i16, super::Size>;
    #[cfg(feature = "classify")]
    pub fn classifier<'a>(
        m: runtime::Model<'a>,
        b: &'a mut Buffers,
    ) -> Result<runtime::pipeline::F32Classifier<'a, i16, super::Size>, runtime::Error> {
        runtime::pipeline::F32Classifier::with_size(m, &mut b.arena, &mut b.state)
    }
}

#[cfg(any(feature = "fixed", not(target_abi = "eabihf")))]
mod path {
    pub const NAME: &str = "i8";
    pub type Buffers = demo_core::assets::I8Buffers;
    #[cfg(not(feature = "classify"))]
    pub type Denoiser<'a> = runtime::pipeline::I8Denoiser<'a, super::Size>;
    #[cfg(feature = "classify")]
    pub fn classifier<'a>(
        m: runtime::Model<'a>,
        b: &'a mut Buffers,
    ) -> Result<runtime::pipeline::I8Classifier<'a, super::Size>, runtime::Error> {
        runtime::pipeline::I8Classifier::with_size(m, &mut b.arena, &mut b.state)
    }
}

/// Profile segments: the hops (`FRAMES`), and everything else.
const FRAMES: usize = 0;
const OTHER: usize = 1;

/// The denoiser (or classifier) with each hop marked as the profile segment `FRAMES` (two byte
/// stores per hop), so that a run under the instruction profiler can cost the hops alone.
struct Marked<D>(D);

impl<D> Marked<D> {
    /// `f` on the inner pipeline, marked as the segment `FRAMES`.
    #[inline(always)]
    fn marked<R>(&mut self, f: impl FnOnce(&mut D) -> R) -> R {
        mark(FRAMES);
        let r = f(&mut self.0);
        mark(OTHER);
        r
    }
}

/// Activations and conv state, in .bss, sized from the blob header at build time.
static mut BUFFERS: path::Buffers = path::Buffers::new();
/// The denoiser itself (its frame buffers are a few KiB), built here in place rather than on
/// the stack, so that the stack holds one hop's processing and no more.
#[cfg(not(feature = "classify"))]
static mut DENOISER: core::mem::MaybeUninit<path::Denoiser<'static>> = core::mem::MaybeUninit::uninit();

#[qemu_support::entry]
fn main() -> ! {
    platform::paint_stack();
    let code = match demo() {
        Ok(()) => 0,
        Err(e) => {
            defmt::error!("demo failed: {}", defmt::Display2Format(&e));
            semihosting::eprintln!("qemu-demo: failed: {e}");
            1
        }
    };
    semihosting::process::exit(code)
}

fn demo() -> Result<(), DemoError> {
    // `if cfg!` rather than `#[cfg]`: the code after it stays reachable for the compiler.
    #[allow(clippy::panic)]
    if cfg!(feature = "panic-test") {
        panic!("panic-test feature: deliberate panic");
    }
    if cfg!(feature = "fault-test") {
        // SAFETY: deliberately reads an address no memory answers, to raise a bus fault (HardFault
        // on Cortex-M, a load access fault on RISC-V) and test the fault handlers.
        #[allow(unsafe_code)]
        let v = unsafe { core::ptr::read_volatile(0xFFFF_FFF0usize as *const u32) };
        defmt::error!("fault-test: the read at 0xfffffff0 returned {=u32} instead of faulting", v);
    }
    if cfg!(feature = "simd-test") {
        simd_test::run_and_exit();
    }
    let mut counter = platform::Counter::start();
    let (instr, units) = platform::calibrate(&mut counter, 100_000);
    defmt::info!("calibration: {=u32} instructions = {=u32} counter units", instr, units);
    let clip = Clip::parse_at(assets::CLIP, Size::SAMPLE_RATE)?;
    // SAFETY: the only reference to BUFFERS, taken once; main never returns.
    #[allow(unsafe_code)]
    let bufs = unsafe { &mut *core::ptr::addr_of_mut!(BUFFERS) };
    #[cfg(not(feature = "classify"))]
    let (stats, wrote) = (denoise::run(Marked(denoiser(&clip, bufs)?), &clip, &mut counter)?, "out.raw");
    #[cfg(feature = "classify")]
    let (stats, wrote) =
        (classify::run(Marked(path::classifier(model(&clip)?, bufs)?), &clip, &mut counter)?, "scores.bin");
    semihosting::println!(
        "qemu-demo ({} path): {} hops, {}..{} counter units per hop ({} instructions = {} units); \
         wrote {}, frames.bin, defmt.bin",
        path::NAME,
        stats.frames,
        stats.min,
        stats.max,
        instr,
        units,
        wrote
    );
    defmt::info!(
        "done: frames={=u32} min={=u32} max={=u32} total={=u64} stack_used={=u32} stack_size={=u32}",
        stats.frames,
        stats.min,
        stats.max,
        stats.total,
        platform::stack_used(),
        platform::stack_size()
    );
    Ok(())
}

/// The model in flash, logged with the path and the clip's length.
fn model(clip: &Clip<'_>) -> Result<Model<'static>, DemoError> {
    let model = Model::parse(assets::BLOB)?;
    defmt::info!(
        "path={=str} blob={=usize}B macs/frame={=u64} clip={=usize} samples",
        path::NAME,
        assets::BLOB.len(),
        model.macs_per_frame(),
        clip.len()
    );
    Ok(model)
}

/// The denoiser, built in place in `DENOISER` on `bufs`. Out of line, so that the model and the
/// construction's temporaries live in this frame, gone before the first hop, and not in the
/// frame that runs the hops.
#[cfg(not(feature = "classify"))]
#[inline(never)]
fn denoiser(
    clip: &Clip<'_>,
    bufs: &'static mut path::Buffers,
) -> Result<&'static mut path::Denoiser<'static>, DemoError> {
    // SAFETY: the only reference to DENOISER, taken once (demo runs once; main never returns).
    #[allow(unsafe_code)]
    let slot = unsafe { &mut *core::ptr::addr_of_mut!(DENOISER) };
    Ok(path::Denoiser::init_in(slot, model(clip)?, &mut bufs.arena, &mut bufs.state)?)
}
