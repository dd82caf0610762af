//! G.722 files (ITU-T G.722 at 64 kbit/s, one byte per pair of 16 kHz samples, no header: the
//! `.g722` files of Debian's `asterisk-core-sounds-*-g722` and `asterisk-moh-opsound-g722`),
//! decoded by the `audio-codec` crate's decoder (a translation of SpanDSP's, bit-exact with it).

use std::path::{Path, PathBuf};

/// The rate G.722 decodes to.
pub const RATE: u32 = 16_000;
/// The file extension of raw G.722.
pub const EXT: &str = "g722";

/// A G.722 stream the decoder refused.
#[derive(Debug, thiserror::Error)]
#[error("cannot decode G.722 file {}: {reason}", path.display())]
pub struct G722Error {
    pub path: PathBuf,
    pub reason: String,
}

/// Whether `path` names a raw G.722 file (by its extension).
pub fn is_g722(path: &Path) -> bool {
    path.extension().is_some_and(|x| x.eq_ignore_ascii_case(EXT))
}

/// The 16-bit samples (at [`RATE`]) of the G.722 stream `bytes`; `path` names it in errors.
pub fn decode_i16(path: &Path, bytes: &[u8]) -> Result<Vec<i16>, G722Error> {
    let mut dec = audio_codec::g722::G722Decoder::new();
    let mut pcm = vec![0i16; bytes.len() * 2];
    let n = dec
        .decode_frame_into(bytes, &mut pcm)
        .map_err(|e| G722Error { path: path.to_path_buf(), reason: e.to_string() })?;
    pcm.truncate(n);
    Ok(pcm)
}

/// The samples (in [-1, 1), at [`RATE`]) of the G.722 stream `bytes`.
pub fn decode(path: &Path, bytes: &[u8]) -> Result<Vec<f32>, G722Error> {
    Ok(decode_i16(path, bytes)?.iter().map(|&v| f32::from(v) / 32768.0).collect())
}
