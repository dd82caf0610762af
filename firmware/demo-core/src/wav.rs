//! Minimal no_std reader for the clip in flash: RIFF/WAVE, PCM, 16-bit, mono, 8 kHz only.

use core::fmt;

/// Why a clip was rejected (the firmware reports it instead of playing garbage).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum WavError {
    /// Fewer bytes than a RIFF header, or a chunk runs past the end of the file.
    Truncated { needed: u32, got: u32 },
    /// Not "RIFF....WAVE".
    NotWav,
    /// No "fmt " or no "data" chunk.
    MissingChunk(&'static str),
    /// Anything but PCM, 16-bit, mono at the `expected` rate (Hz).
    Unsupported { format: u16, channels: u16, rate: u32, bits: u16, expected: u32 },
    /// The data chunk holds an odd number of bytes or no sample at all.
    BadData(u32),
    /// A chunk of odd length before the data chunk (its pad byte is read differently by readers).
    OddChunk { at: u32, len: u32 },
}

impl fmt::Display for WavError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WavError::Truncated { needed, got } => write!(f, "audio truncated: need {needed} bytes, got {got}"),
            WavError::NotWav => write!(f, "audio is not a RIFF/WAVE file"),
            WavError::MissingChunk(c) => write!(f, "audio has no '{c}' chunk"),
            WavError::Unsupported { format, channels, rate, bits, expected } => write!(
                f,
                "audio must be PCM 16-bit mono {expected} Hz, got format {format}, {channels} ch, {rate} Hz, {bits} bit"
            ),
            WavError::BadData(n) => write!(f, "audio data chunk of {n} bytes is not a whole number of samples"),
            WavError::OddChunk { at, len } => {
                write!(f, "audio has a chunk of odd length {len} at byte {at}, before its data: not supported")
            }
        }
    }
}

fn le16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes([*b.get(at)?, *b.get(at + 1)?, *b.get(at + 2)?, *b.get(at + 3)?]))
}

fn short(needed: usize, got: usize) -> WavError {
    WavError::Truncated { needed: needed as u32, got: got as u32 }
}

/// The samples of a validated clip, read in place (little-endian i16, no copy).
#[derive(Clone, Copy, Debug)]
pub struct Clip<'a> {
    data: &'a [u8],
}

impl<'a> Clip<'a> {
    /// Validates the RIFF structure and the format; points at the first data chunk. Chunks are
    /// read in order, as hound (the host tools' reader) reads them: "fmt " must come before
    /// "data", the first "data" chunk is the audio and whatever follows it is ignored. A chunk of
    /// odd length before the data is refused: RIFF pads it to an even length, which hound does
    /// not skip, so the two readers would play different samples.
    pub fn parse(b: &'a [u8]) -> Result<Self, WavError> {
        Self::parse_at(b, 8000)
    }

    /// [`parse`](Self::parse) for audio at `rate` Hz (8000 or 16000: the demo's frame size).
    pub fn parse_at(b: &'a [u8], rate: u32) -> Result<Self, WavError> {
        let expected = rate;
        if b.len() < 12 {
            return Err(short(12, b.len()));
        }
        if b.get(0..4) != Some(b"RIFF") || b.get(8..12) != Some(b"WAVE") {
            return Err(WavError::NotWav);
        }
        let (mut at, mut fmt_ok) = (12usize, false);
        loop {
            let id = b.get(at..at + 4).ok_or(if fmt_ok {
                WavError::MissingChunk("data")
            } else {
                WavError::MissingChunk("fmt ")
            })?;
            let len = le32(b, at + 4).ok_or(short(at + 8, b.len()))? as usize;
            let body = at + 8;
            let end = body.checked_add(len).ok_or(WavError::NotWav)?;
            if end > b.len() {
                return Err(short(end, b.len()));
            }
            if id == b"data" {
                if !fmt_ok {
                    return Err(WavError::MissingChunk("fmt "));
                }
                let data = b.get(body..end).ok_or(short(end, b.len()))?;
                if data.is_empty() || data.len() % 2 != 0 {
                    return Err(WavError::BadData(data.len() as u32));
                }
                return Ok(Clip { data });
            }
            if len & 1 == 1 {
                return Err(WavError::OddChunk { at: at as u32, len: len as u32 });
            }
            if id == b"fmt " {
                let g = |o| le16(b, body + o).ok_or(short(body + 16, b.len()));
                let (format, channels, bits) = (g(0)?, g(2)?, g(14)?);
                let rate = le32(b, body + 4).ok_or(short(body + 8, b.len()))?;
                if len < 16 || format != 1 || channels != 1 || bits != 16 || rate != expected {
                    return Err(WavError::Unsupported { format, channels, rate, bits, expected });
                }
                fmt_ok = true;
            }
            at = end;
        }
    }

    pub fn len(&self) -> usize {
        self.data.len() / 2
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn samples(&self) -> impl Iterator<Item = i16> + 'a {
        self.data.chunks_exact(2).map(|c| <[u8; 2]>::try_from(c).map_or(0, i16::from_le_bytes))
    }
}
