//! The demo's board-independent core, also compiled for the host by `host-tests` so that the
//! reference and the chip run the very same code. The denoiser itself is `runtime::pipeline`
//! (`F32Denoiser`, `I8Denoiser`); this crate feeds it.
//!
//! * [`stream`]: audio source/sink/counter traits and the stream loop around a
//!   [`runtime::pipeline::Denoise`], per-hop cost statistics;
//! * [`classify`]: the same loop around a [`runtime::pipeline::Classify`], each hop's class and
//!   a checksum of its scores;
//! * [`i2s`]: a board's I2S microphone and amplifier formats and the DMA-interrupt hand-over to
//!   the stream loop (register-free, host-tested);
//! * [`wav`]: the `no_std` WAV reader of the clip;
//! * [`assets`]: the model blob and the noisy clip in flash, and arena sizes and the frame size
//!   (sample rate, hop) from the blob header.
#![no_std]

pub mod classify;
pub mod i2s;
pub mod stream;
pub mod wav;

pub use classify::{run_classifier, score_bytes, scores_checksum, ClassifiedHop, ScoreBits};
pub use stream::{
    hop_budget_cycles, quotient_u32, read_hop, run, AudioSink, AudioSource, Counter, CycleWindow, IterSource,
    NoCounter, QueueSink, QueueSource, RunStats,
};
pub use wav::{Clip, WavError};

use core::fmt;

/// Everything that can stop the demo, each with a message that says what to fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum DemoError {
    Model(runtime::Error),
    Wav(WavError),
    /// Writing the output failed (host I/O, semihosting).
    Output,
    /// A bug: an invariant of the loop did not hold.
    Internal,
}

impl From<runtime::Error> for DemoError {
    fn from(e: runtime::Error) -> Self {
        DemoError::Model(e)
    }
}

impl From<WavError> for DemoError {
    fn from(e: WavError) -> Self {
        DemoError::Wav(e)
    }
}

impl fmt::Display for DemoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DemoError::Model(e) => write!(f, "model: {e}"),
            DemoError::Wav(e) => write!(f, "{e}"),
            DemoError::Output => write!(f, "cannot write the output"),
            DemoError::Internal => write!(f, "internal error in the frame loop"),
        }
    }
}

/// Bytes on a 4-byte boundary (`&WordAligned(*include_bytes!(…)).0` for a blob in flash).
#[repr(C, align(4))]
pub struct WordAligned<B: ?Sized>(pub B);

/// What the firmware carries in flash and the RAM it reserves, sized at build time.
#[cfg(feature = "assets")]
pub mod assets {
    use super::WordAligned;

    include!(concat!(env!("OUT_DIR"), "/sizes.rs"));

    /// The blob's sample rate (Hz): 8000 or 16000.
    pub const SAMPLE_RATE: u32 = <Size as runtime::dsp::FrameSize>::SAMPLE_RATE;
    /// Samples per hop of the blob's front end: 128 at 8 kHz, 256 at 16 kHz (16 ms either way).
    pub const HOP: usize = <Size as runtime::dsp::FrameSize>::HOP;

    /// The model blob (FORMAT.md), read in place, on a 4-byte boundary: the writer puts
    /// lane-pair levels on 4-byte offsets, which cores without unaligned loads (RV32) then read a
    /// word at a time.
    pub static BLOB: &[u8] = &WordAligned(*include_bytes!(env!("DQ_BLOB_FILE"))).0;
    /// The noisy clip, a WAV file.
    pub static CLIP: &[u8] = include_bytes!(env!("DQ_CLIP_FILE"));

    /// Activations and streaming state of the f32 path, exactly as large as the blob needs.
    pub struct F32Buffers {
        pub arena: [f32; F32_ARENA],
        pub state: [f32; F32_STATE],
    }

    impl F32Buffers {
        pub const fn new() -> Self {
            F32Buffers { arena: [0.0; F32_ARENA], state: [0.0; F32_STATE] }
        }
    }

    impl Default for F32Buffers {
        fn default() -> Self {
            Self::new()
        }
    }

    /// Activations and streaming state of the integer path.
    pub struct I8Buffers {
        pub arena: [i8; I8_ARENA],
        pub state: [i8; I8_STATE],
    }

    impl I8Buffers {
        pub const fn new() -> Self {
            I8Buffers { arena: [0; I8_ARENA], state: [0; I8_STATE] }
        }
    }

    impl Default for I8Buffers {
        fn default() -> Self {
            Self::new()
        }
    }
}
