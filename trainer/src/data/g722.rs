//! G.722 files (ITU-T G.722 at 64 kbit/s, one byte per pair of 16 kHz samples, no header: the
//! `.g722` files of Debian's `asterisk-core-sounds-*-g722` and `asterisk-moh-opsound-g722`),
//! decoded by the `audio-codec` crate's decoder (a translation of SpanDSP's, bit-exact with it).

use anyhow::{Context, Result};
use std::path::Path;

/// The rate G.722 decodes to.
pub const RATE: u32 = 16_000;
/// The file extension of raw G.722.
pub const EXT: &str = "g722";

/// Whether `path` names a raw G.722 file (by its extension).
pub fn is_g722(path: &Path) -> bool {
    path.extension().is_some_and(|x| x.eq_ignore_ascii_case(EXT))
}

/// The samples (in [-1, 1), at [`RATE`]) of the G.722 stream `bytes`; `path` names it in errors.
pub fn decode(path: &Path, bytes: &[u8]) -> Result<Vec<f32>> {
    let mut dec = audio_codec::g722::G722Decoder::new();
    let mut pcm = vec![0i16; bytes.len() * 2];
    let n = dec
        .decode_frame_into(bytes, &mut pcm)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("cannot decode G.722 file {}", path.display()))?;
    Ok(pcm.iter().take(n).map(|&v| f32::from(v) / 32768.0).collect())
}

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
