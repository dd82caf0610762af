//! The denoiser demo under QEMU: the noisy clip from flash through the model, hop by hop.
//! Writes `out.raw` (i16 LE samples), `frames.bin` (u32 LE counter units per hop) and
//! `defmt.bin` (the log) into QEMU's working directory; exits 0 on success.
#![no_std]
#![no_main]

use qemu_support::platform;
use qemu_support::profile::mark;
use qemu_support::semihosting::{self, fs::File, io::Write as _};

use demo_core::{assets, run, AudioSink, Clip, DemoError, IterSource};
use runtime::dsp::{FrameSize, Hop};
use runtime::pipeline::Denoise;
use runtime::Model;

/// The frame size the demo is built for: 8 kHz, or 16 kHz with the `wideband` feature (the
/// pipeline rejects a blob of the other size).
#[cfg(not(feature = "wideband"))]
type Size = runtime::dsp::Narrowband;
#[cfg(feature = "wideband")]
type Size = runtime::dsp::Wideband;

/// Sends finished hops to the host file `out.raw`.
struct SemihostSink(File);

impl AudioSink for SemihostSink {
    fn write_hop(&mut self, hop: &[i16]) -> Result<(), DemoError> {
        // 128 samples per write: one 8 kHz hop, half a 16 kHz one.
        let mut bytes = [0u8; 256];
        for chunk in hop.chunks(bytes.len() / 2) {
            for (b, s) in bytes.chunks_exact_mut(2).zip(chunk) {
                b.copy_from_slice(&s.to_le_bytes());
            }
            let part = bytes.get(..2 * chunk.len()).ok_or(DemoError::Internal)?;
            self.0.write_all(part).map_err(|_| DemoError::Output)?;
        }
        Ok(())
    }
}

#[cfg(not(any(feature = "fixed", not(target_abi = "eabihf"))))]
mod path {
    use runtime::pipeline::{Denoise, F32Denoiser};
    pub const NAME: &str = "f32";
    pub type Buffers = demo_core::assets::F32Buffers;
    pub fn denoiser<'a>(
        m: runtime::Model<'a>,
        b: &'a mut Buffers,
    ) -> Result<impl Denoise<Size = super::Size> + 'a, runtime::Error> {
        F32Denoiser::<i16, super::Size>::with_size(m, &mut b.arena, &mut b.state)
    }
}

#[cfg(any(feature = "fixed", not(target_abi = "eabihf")))]
mod path {
    use runtime::pipeline::{Denoise, I8Denoiser};
    pub const NAME: &str = "i8";
    pub type Buffers = demo_core::assets::I8Buffers;
    pub fn denoiser<'a>(
        m: runtime::Model<'a>,
        b: &'a mut Buffers,
    ) -> Result<impl Denoise<Size = super::Size> + 'a, runtime::Error> {
        I8Denoiser::<super::Size>::with_size(m, &mut b.arena, &mut b.state)
    }
}

/// Profile segments: the hops (`FRAMES`), and everything else.
const FRAMES: usize = 0;
const OTHER: usize = 1;

/// The denoiser with each hop marked as the profile segment `FRAMES` (two byte stores per hop),
/// so that a run under the instruction profiler can cost the hops alone.
struct Marked<D>(D);

impl<D: Denoise> Denoise for Marked<D> {
    type Size = D::Size;

    fn process(&mut self, input: &Hop<D::Size, i16>, output: &mut Hop<D::Size, i16>) -> Result<(), runtime::Error> {
        mark(FRAMES);
        let r = self.0.process(input, output);
        mark(OTHER);
        r
    }
}

/// Activations and conv state, in .bss, sized from the blob header at build time.
static mut BUFFERS: path::Buffers = path::Buffers::new();

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
    let mut counter = platform::Counter::start();
    let (instr, units) = platform::calibrate(&mut counter, 100_000);
    defmt::info!("calibration: {=u32} instructions = {=u32} counter units", instr, units);
    let model = Model::parse(assets::BLOB)?;
    let clip = Clip::parse_at(assets::CLIP, Size::SAMPLE_RATE)?;
    defmt::info!(
        "path={=str} blob={=usize}B macs/frame={=u64} clip={=usize} samples",
        path::NAME,
        assets::BLOB.len(),
        model.macs_per_frame(),
        clip.len()
    );
    // SAFETY: the only reference to BUFFERS, taken once; main never returns.
    #[allow(unsafe_code)]
    let bufs = unsafe { &mut *core::ptr::addr_of_mut!(BUFFERS) };
    let mut den = Marked(path::denoiser(model, bufs)?);
    let mut sink = SemihostSink(File::create(c"out.raw").map_err(|_| DemoError::Output)?);
    let mut frames = File::create(c"frames.bin").map_err(|_| DemoError::Output)?;
    let stats = run(&mut den, &mut IterSource(clip.samples()), &mut sink, &mut counter, |_, cost| {
        let _ = frames.write_all(&cost.to_le_bytes());
    })?;
    // Closes the output files.
    drop((sink, frames));
    semihosting::println!(
        "qemu-demo ({} path): {} hops, {}..{} counter units per hop ({} instructions = {} units); \
         wrote out.raw, frames.bin, defmt.bin",
        path::NAME,
        stats.frames,
        stats.min,
        stats.max,
        instr,
        units
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
