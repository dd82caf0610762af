//! G.722 files (`audio_tools::g722`: the `.g722` files of Debian's
//! `asterisk-core-sounds-*-g722` and `asterisk-moh-opsound-g722`) read at a corpus's rate.

use anyhow::Result;
pub use audio_tools::g722::{decode, is_g722, EXT, RATE};
use std::path::Path;

/// The samples of G.722 file `bytes` at `rate` (resampled from [`RATE`] when they differ), and
/// the conversion that took.
pub fn decode_at(path: &Path, bytes: &[u8], rate: u32) -> Result<(Vec<f32>, Option<audio_tools::convert::Conversion>)> {
    let x = decode(path, bytes)?;
    if rate == RATE {
        return Ok((x, None));
    }
    let y = audio_tools::convert::resample(path, &x, RATE, rate)?;
    Ok((y, Some(audio_tools::convert::Conversion { from_rate: RATE, channels: 1, to_rate: rate })))
}

#[cfg(test)]
#[path = "g722_tests.rs"]
mod tests;
