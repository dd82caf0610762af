//! The front-end record (FORMAT.md, "Front end"): what turns audio into the model's input and
//! its output back into audio. [`FrontEnd::read`] decodes and checks the 16 bytes of a version 5
//! blob on their own and against the header, [`FrontEnd::encode`] writes them, through the same
//! field offsets; versions 1–4 have no record and mean [`FrontEnd::DEFAULT`].

use super::header::{Header, FRONT_END_LEN, HEADER_LEN};
use crate::bytes::{put, slice, u16_at, u8_at};
use crate::error::{Error, Part};

/// Tensor index meaning "no filterbank".
const NO_FILTERBANK: u16 = 0xFFFF;
/// Most features per frame.
pub const MAX_BANDS: u16 = 512;

// Field offsets.
const SAMPLE_RATE_AT: usize = 0;
const FRAME_AT: usize = 2;
const HOP_AT: usize = 4;
const FFT_AT: usize = 6;
const WINDOW_AT: usize = 8;
const FEATURES_AT: usize = 9;
const N_BANDS_AT: usize = 10;
const OUTPUT_AT: usize = 12;
const RESERVED_AT: usize = 13;
const FILTERBANK_AT: usize = 14;

/// The features a front end computes per frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Features {
    /// Log power of bins `0 .. fft/2` (code 0).
    LogPower,
    /// Log-mel: the log of the filterbank's band powers (code 1).
    LogMel,
}

/// What the model's output means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Output {
    /// A gain per bin, `fft/2 + 1` values (code 0).
    BinGains,
    /// A gain per band, spread over the bins by the filterbank (code 1).
    BandGains,
    /// Class scores, no audio out (code 2).
    Scores,
}

/// One decoded front-end record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FrontEnd {
    /// Hz: 8000 or 16000.
    pub sample_rate: u16,
    /// Samples per analysis frame: 256 at 8000 Hz, 512 at 16000 Hz.
    pub frame: u16,
    /// Samples between frames: `frame / 2`.
    pub hop: u16,
    /// FFT length: `frame`.
    pub fft: u16,
    /// The features per frame.
    pub features: Features,
    /// Features per frame.
    pub n_bands: u16,
    /// What the output means.
    pub output: Output,
    /// The filterbank tensor (log-mel features or band gains), else `None`.
    pub filterbank: Option<u16>,
}

impl FrontEnd {
    /// The front end versions 1–4 imply: 8 kHz, 256-sample frames, 128 log-power features, a
    /// gain per bin.
    pub const DEFAULT: FrontEnd = FrontEnd {
        sample_rate: 8000,
        frame: 256,
        hop: 128,
        fft: 256,
        features: Features::LogPower,
        n_bands: 128,
        output: Output::BinGains,
        filterbank: None,
    };

    /// The 16 kHz log-power front end: 512-sample frames, hop 256, 256 log-power features, a
    /// gain per bin (257).
    pub const WIDEBAND: FrontEnd = FrontEnd {
        sample_rate: 16000,
        frame: 512,
        hop: 256,
        fft: 512,
        features: Features::LogPower,
        n_bands: 256,
        output: Output::BinGains,
        filterbank: None,
    };

    /// Reads the record of a version 5 blob and checks it on its own and against the header's
    /// `input_len`, `output_len` and `n_tensors` (the filterbank tensor's shape is the model's
    /// check: [`FrontEnd::filterbank_count`]).
    pub fn read(b: &[u8], h: &Header) -> Result<FrontEnd, Error> {
        let p = Part::FrontEnd;
        let e = slice(b, HEADER_LEN, FRONT_END_LEN, p)?;
        if u8_at(e, RESERVED_AT, p)? != 0 {
            return Err(Error::Reserved(p));
        }
        let features = match u8_at(e, FEATURES_AT, p)? {
            0 => Features::LogPower,
            1 => Features::LogMel,
            _ => return Err(Error::InvalidField(p)),
        };
        let output = match u8_at(e, OUTPUT_AT, p)? {
            0 => Output::BinGains,
            1 => Output::BandGains,
            2 => Output::Scores,
            _ => return Err(Error::InvalidField(p)),
        };
        let fb = u16_at(e, FILTERBANK_AT, p)?;
        let fe = FrontEnd {
            sample_rate: u16_at(e, SAMPLE_RATE_AT, p)?,
            frame: u16_at(e, FRAME_AT, p)?,
            hop: u16_at(e, HOP_AT, p)?,
            fft: u16_at(e, FFT_AT, p)?,
            features,
            n_bands: u16_at(e, N_BANDS_AT, p)?,
            output,
            filterbank: (fb != NO_FILTERBANK).then_some(fb),
        };
        if u8_at(e, WINDOW_AT, p)? != 0 || !fe.fields_ok(h.n_tensors) {
            return Err(Error::InvalidField(p));
        }
        let out_ok = match fe.output {
            Output::BinGains => h.output_len == fe.bins(),
            Output::BandGains => h.output_len == fe.n_bands,
            Output::Scores => true,
        };
        if h.input_len != fe.n_bands || !out_ok {
            return Err(Error::ShapeMismatch(p));
        }
        Ok(fe)
    }

    fn fields_ok(&self, n_tensors: u16) -> bool {
        let frame_ok = matches!((self.sample_rate, self.frame), (8000, 256) | (16000, 512));
        let bands_ok = match self.features {
            Features::LogPower => self.n_bands == self.fft / 2,
            Features::LogMel => (1..=MAX_BANDS).contains(&self.n_bands),
        };
        let fb_ok = match self.filterbank {
            Some(t) => self.needs_filterbank() && t < n_tensors,
            None => !self.needs_filterbank(),
        };
        frame_ok && self.hop == self.frame / 2 && self.fft == self.frame && bands_ok && fb_ok
    }

    /// Whether the record names a filterbank tensor: log-mel features or band gains.
    pub fn needs_filterbank(&self) -> bool {
        self.features == Features::LogMel || self.output == Output::BandGains
    }

    /// Frequency bins of the FFT: `fft/2 + 1`.
    pub fn bins(&self) -> u16 {
        self.fft / 2 + 1
    }

    /// Values of the filterbank tensor: `n_bands × (fft/2 + 1)`.
    pub fn filterbank_count(&self) -> u32 {
        u32::from(self.n_bands) * u32::from(self.bins())
    }

    /// The 16 bytes of this record (window 0, reserved byte zero).
    pub fn encode(&self) -> [u8; FRONT_END_LEN] {
        let mut b = [0u8; FRONT_END_LEN];
        let features = match self.features {
            Features::LogPower => 0u8,
            Features::LogMel => 1,
        };
        let output = match self.output {
            Output::BinGains => 0u8,
            Output::BandGains => 1,
            Output::Scores => 2,
        };
        put(&mut b, SAMPLE_RATE_AT, self.sample_rate.to_le_bytes());
        put(&mut b, FRAME_AT, self.frame.to_le_bytes());
        put(&mut b, HOP_AT, self.hop.to_le_bytes());
        put(&mut b, FFT_AT, self.fft.to_le_bytes());
        put(&mut b, FEATURES_AT, [features]);
        put(&mut b, N_BANDS_AT, self.n_bands.to_le_bytes());
        put(&mut b, OUTPUT_AT, [output]);
        put(&mut b, FILTERBANK_AT, self.filterbank.unwrap_or(NO_FILTERBANK).to_le_bytes());
        b
    }
}
