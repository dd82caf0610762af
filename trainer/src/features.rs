//! The runtime's own STFT front end applied to whole signals, for what runs on all frames at
//! once (training, the candle forward, the Wiener baseline): spectra, features, magnitudes, and
//! resynthesis with per-frame masks, framed as `runtime::pipeline::process_signal` frames a
//! signal (the one-hop latency removed), at either of the runtime's frame sizes ([`Stft`]). A
//! blob runs through the pipeline itself (`eval::enhance_blob`).

use anyhow::{bail, Result};
use runtime::dsp::{self, Analyzer, Array, Bins, Complex32, FrameSize, Hop, Narrowband, Synthesizer, Wideband};
use runtime::pipeline::hops_of;

/// The STFT of one of the runtime's frame sizes (`runtime::dsp::FrameSize`): 8 kHz with
/// 256-sample frames, or 16 kHz with 512-sample frames.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub enum Stft {
    #[default]
    Narrowband,
    Wideband,
}

impl Stft {
    /// The frame size the runtime uses at `rate` Hz.
    pub fn at(rate: u32) -> Result<Stft> {
        match rate {
            Narrowband::SAMPLE_RATE => Ok(Stft::Narrowband),
            Wideband::SAMPLE_RATE => Ok(Stft::Wideband),
            _ => bail!("{rate} Hz: the runtime's front end runs at 8000 or 16000 Hz"),
        }
    }

    /// Sample rate (Hz).
    pub const fn rate(self) -> u32 {
        match self {
            Stft::Narrowband => Narrowband::SAMPLE_RATE,
            Stft::Wideband => Wideband::SAMPLE_RATE,
        }
    }

    /// Samples between frames (also the pipeline's latency).
    pub const fn hop(self) -> usize {
        match self {
            Stft::Narrowband => Narrowband::HOP,
            Stft::Wideband => Wideband::HOP,
        }
    }

    /// One-sided spectrum bins (what a bin mask covers).
    pub const fn bins(self) -> usize {
        self.hop() + 1
    }

    /// Log-power features per frame (bins `0 .. hop`).
    pub const fn n_features(self) -> usize {
        self.hop()
    }

    /// Samples in `seconds` of audio.
    pub fn samples(self, seconds: f32) -> usize {
        (seconds * self.rate() as f32) as usize
    }

    /// Frames produced for a signal of `len` samples: as many as the pipeline runs hops
    /// (`hops_of`: one per hop, the last one zero padded, plus one over a silent hop, which
    /// completes the last samples' overlap-add).
    pub const fn n_frames(self, len: usize) -> usize {
        hops_of(len, self.hop())
    }
}

/// One spectrum per frame (frame-major, [`Stft::bins`] values each).
#[derive(Clone, Debug, PartialEq)]
pub struct Spectra {
    pub stft: Stft,
    values: Vec<Complex32>,
}

impl Spectra {
    /// Frames.
    pub fn len(&self) -> usize {
        self.values.len() / self.stft.bins()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Each frame's spectrum.
    pub fn frames(&self) -> std::slice::ChunksExact<'_, Complex32> {
        self.values.chunks_exact(self.stft.bins())
    }
}

/// One spectrum per hop, exactly as the firmware's streaming analyser computes them.
pub fn spectra(stft: Stft, signal: &[f32]) -> Spectra {
    let values = match stft {
        Stft::Narrowband => spectra_of::<Narrowband>(signal),
        Stft::Wideband => spectra_of::<Wideband>(signal),
    };
    Spectra { stft, values }
}

fn spectra_of<Z: FrameSize>(signal: &[f32]) -> Vec<Complex32> {
    let mut a = Analyzer::<Z>::default();
    let frames = hops_of(signal.len(), Z::HOP);
    let mut out = Vec::with_capacity(frames * Z::BINS);
    let mut hop = Hop::<Z, f32>::filled(0.0);
    let mut spec = Bins::<Z, Complex32>::filled(Complex32::new(0.0, 0.0));
    for k in 0..frames {
        let chunk = signal.get(k * Z::HOP..).unwrap_or(&[]);
        hop.as_mut().fill(0.0);
        hop.as_mut().iter_mut().zip(chunk).for_each(|(h, x)| *h = *x);
        a.push(&hop, &mut spec);
        out.extend_from_slice(spec.as_ref());
    }
    out
}

/// Model inputs, frame-major `(T, n_features)`.
pub fn features(specs: &Spectra) -> Vec<f32> {
    let mut f = vec![0.0f32; specs.stft.n_features()];
    let mut out = Vec::with_capacity(specs.len() * f.len());
    for s in specs.frames() {
        dsp::features(s, &mut f);
        out.extend_from_slice(&f);
    }
    out
}

/// Band features (`runtime::dsp::band_features`) of filterbank `fb` (`n_bands × bins`,
/// row-major), frame-major `(T, n_bands)`: what the runtime computes from the same filterbank.
pub fn band_features(specs: &Spectra, fb: &[f32]) -> Result<Vec<f32>> {
    let n = fb.len() / specs.stft.bins();
    let bytes: Vec<u8> = fb.iter().flat_map(|v| v.to_le_bytes()).collect();
    let bank = dsp::FilterBank::new(runtime::format::Weights::F32(&bytes), n)
        .map_err(|e| anyhow::anyhow!("filterbank of {} values: {e}", fb.len()))?;
    if bank.bins() != specs.stft.bins() {
        bail!("a filterbank over {} bins for spectra of {} bins", bank.bins(), specs.stft.bins());
    }
    let mut out = Vec::with_capacity(specs.len() * n);
    let mut f = vec![0.0f32; n];
    for s in specs.frames() {
        dsp::band_features(s, &bank, &mut f);
        out.extend_from_slice(&f);
    }
    Ok(out)
}

/// `|X|^0.5` of every bin, frame-major `(T, bins)` (the loss's compressed magnitudes).
pub fn sqrt_magnitudes(specs: &Spectra) -> Vec<f32> {
    let mut m = vec![0.0f32; specs.stft.bins()];
    let mut out = Vec::with_capacity(specs.len() * m.len());
    for s in specs.frames() {
        dsp::magnitudes(s, &mut m);
        out.extend(m.iter().map(|v| v.sqrt()));
    }
    out
}

/// Applies `masks` (frame-major `(T, bins)`) and resynthesises `len` samples aligned with the
/// input (the synthesiser's one-hop latency is removed; [`spectra`]'s extra frame supplies the
/// end).
pub fn synthesize(specs: &Spectra, masks: &[f32], len: usize) -> Result<Vec<f32>> {
    if masks.len() != specs.values.len() {
        bail!("{} mask values for {} frames of {} bins", masks.len(), specs.len(), specs.stft.bins());
    }
    Ok(match specs.stft {
        Stft::Narrowband => synthesize_of::<Narrowband>(&specs.values, masks, len),
        Stft::Wideband => synthesize_of::<Wideband>(&specs.values, masks, len),
    })
}

fn synthesize_of<Z: FrameSize>(specs: &[Complex32], masks: &[f32], len: usize) -> Vec<f32> {
    let mut syn = Synthesizer::<Z>::default();
    let mut out = Vec::with_capacity(specs.len() / Z::BINS * Z::HOP);
    let mut hop = Hop::<Z, f32>::filled(0.0);
    let mut spec = Bins::<Z, Complex32>::filled(Complex32::new(0.0, 0.0));
    for (s, mk) in specs.chunks_exact(Z::BINS).zip(masks.chunks_exact(Z::BINS)) {
        spec.as_mut().copy_from_slice(s);
        dsp::apply_mask(spec.as_mut(), mk);
        syn.push(&spec, &mut hop);
        out.extend_from_slice(hop.as_ref());
    }
    out.into_iter().skip(Z::HOP).take(len).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_masks_reconstruct_the_signal_aligned_at_both_rates() {
        for (stft, frames) in [(Stft::Narrowband, 9), (Stft::Wideband, 5)] {
            let x: Vec<f32> = (0..1000).map(|i| (i as f32 * 0.05).sin() * 0.3 + ((i * 31) % 7) as f32 * 0.01).collect();
            let s = spectra(stft, &x);
            assert_eq!(s.len(), frames);
            assert_eq!(s.len(), stft.n_frames(x.len()));
            let y = synthesize(&s, &vec![1.0; s.len() * stft.bins()], x.len()).unwrap();
            assert_eq!(y.len(), x.len());
            for (i, (a, b)) in x.iter().zip(&y).enumerate() {
                assert!((a - b).abs() < 1e-4, "{stft:?} {i}: {a} vs {b}");
            }
            assert!(synthesize(&s, &[1.0; 3], 10).is_err());
        }
    }

    #[test]
    fn rates_map_to_the_runtimes_frame_sizes() {
        assert_eq!(Stft::at(8000).unwrap(), Stft::Narrowband);
        assert_eq!((Stft::at(16000).unwrap().bins(), Stft::Wideband.n_features()), (257, 256));
        assert_eq!(Stft::Narrowband.bins(), runtime::dsp::BINS);
        assert!(Stft::at(44100).unwrap_err().to_string().contains("44100 Hz"));
    }
}
