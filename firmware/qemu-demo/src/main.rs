//! The denoiser demo under QEMU: the noisy clip from flash through the model, hop by hop.
//! Writes `out.raw` (i16 LE samples), `frames.bin` (u32 LE counter units per hop) and
//! `defmt.bin` (the log) into QEMU's working directory; exits 0 on success.
#![no_std]
#![no_main]

use qemu_support::{platform, semihost};

use demo_core::{assets, run, AudioSink, Clip, DemoError, IterSource};
use runtime::dsp::HOP;
use runtime::Model;
use semihost::File;

/// Sends finished hops to the host file `out.raw`.
struct SemihostSink(File);

impl AudioSink for SemihostSink {
    fn write_hop(&mut self, hop: &[i16; HOP]) -> Result<(), DemoError> {
        let mut bytes = [0u8; 2 * HOP];
        for (b, s) in bytes.chunks_exact_mut(2).zip(hop) {
            b.copy_from_slice(&s.to_le_bytes());
        }
        if self.0.write(&bytes) {
            Ok(())
        } else {
            Err(DemoError::Output)
        }
    }
}

#[cfg(not(any(feature = "fixed", not(target_abi = "eabihf"))))]
mod path {
    use runtime::pipeline::{Denoise, F32Denoiser};
    pub const NAME: &str = "f32";
    pub type Buffers = demo_core::assets::F32Buffers;
    pub fn denoiser<'a>(m: runtime::Model<'a>, b: &'a mut Buffers) -> Result<impl Denoise + 'a, runtime::Error> {
        F32Denoiser::<i16>::new(m, &mut b.arena, &mut b.state)
    }
}

#[cfg(any(feature = "fixed", not(target_abi = "eabihf")))]
mod path {
    use runtime::pipeline::{Denoise, I8Denoiser};
    pub const NAME: &str = "i8";
    pub type Buffers = demo_core::assets::I8Buffers;
    pub fn denoiser<'a>(m: runtime::Model<'a>, b: &'a mut Buffers) -> Result<impl Denoise + 'a, runtime::Error> {
        I8Denoiser::new(m, &mut b.arena, &mut b.state)
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
            qemu_support::log::console(format_args!("qemu-demo: failed: {e}\n"));
            1
        }
    };
    semihost::exit(code)
}

fn demo() -> Result<(), DemoError> {
    #[cfg(feature = "panic-test")]
    #[allow(clippy::panic)]
    {
        panic!("panic-test feature: deliberate panic");
    }
    let mut counter = platform::Counter::start();
    let (instr, units) = platform::calibrate(&mut counter, 100_000);
    defmt::info!("calibration: {=u32} instructions = {=u32} counter units", instr, units);
    let model = Model::parse(assets::BLOB)?;
    let clip = Clip::parse(assets::CLIP)?;
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
    let mut den = path::denoiser(model, bufs)?;
    let mut sink = SemihostSink(File::create(b"out.raw\0").ok_or(DemoError::Output)?);
    let mut frames = File::create(b"frames.bin\0").ok_or(DemoError::Output)?;
    let stats = run(&mut den, &mut IterSource(clip.samples()), &mut sink, &mut counter, |_, cost| {
        frames.write(&cost.to_le_bytes());
    })?;
    sink.0.close();
    frames.close();
    qemu_support::log::console(format_args!(
        "qemu-demo ({} path): {} hops, {}..{} counter units per hop ({} instructions = {} units); \
         wrote out.raw, frames.bin, defmt.bin\n",
        path::NAME,
        stats.frames,
        stats.min,
        stats.max,
        instr,
        units
    ));
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
