//! The firmware's side of the API, `no_std` and heap-free: the model blob in flash, the arena and
//! state in RAM sized at build time, one hop of PCM in and out per audio interrupt or DMA block.
//!
//! A firmware crate calls [`run`] from its entry point (`#[cortex_m_rt::entry]` or the like) with
//! its model blob (`include_bytes!`) and its audio driver. This example is built as a library, so
//! it compiles for the host and for bare-metal targets alike, with no linker script:
//!
//! ```sh
//! cargo build -p diffq-runtime --example embedded --target thumbv7em-none-eabihf
//! ```
#![no_std]
#![forbid(unsafe_code)]

use diffq_runtime::dsp::HOP;
use diffq_runtime::pipeline::{Denoise, I8Denoiser};
use diffq_runtime::{Error, Model};

/// Arena bytes the integer path may use: at least the blob header's `i8_arena_len` (bytes
/// 32..48 of the header, `runtime/FORMAT.md`; a build script can read them and generate these
/// constants). The shipped default model needs 258.
pub const I8_ARENA: usize = 512;
/// State bytes the integer path may use: at least the header's `i8_state_len` (the default
/// model needs 1 280).
pub const I8_STATE: usize = 2048;

/// Where the samples come from and go to: a codec driver, a DMA double buffer.
pub trait Audio {
    /// Waits for the next hop of microphone samples and copies it into `hop`; `false` ends the
    /// stream.
    fn record(&mut self, hop: &mut [i16; HOP]) -> bool;
    /// Queues a hop of samples for the speaker.
    fn play(&mut self, hop: &[i16; HOP]);
}

/// Denoises `audio` on the integer path (no floating point: any core) until `record` returns
/// `false`. Every buffer lives in this stack frame; nothing allocates. Returns an error, without
/// processing any audio, if `blob` is not a valid denoiser model or needs larger buffers than
/// [`I8_ARENA`] and [`I8_STATE`].
pub fn run(blob: &[u8], audio: &mut impl Audio) -> Result<(), Error> {
    let model = Model::parse(blob)?; // checks the whole blob, copies nothing
    let mut arena = [0i8; I8_ARENA];
    let mut state = [0i8; I8_STATE];
    let mut denoiser = I8Denoiser::new(model, &mut arena, &mut state)?;
    let (mut input, mut output) = ([0i16; HOP], [0i16; HOP]);
    while audio.record(&mut input) {
        denoiser.process(&input, &mut output)?; // `output`: the hop recorded before `input`
        audio.play(&output);
    }
    Ok(())
}
