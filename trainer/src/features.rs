//! The runtime's own STFT front end applied to whole signals, for what runs on all frames at
//! once (training, the candle forward, the Wiener baseline): spectra, features, magnitudes, and
//! resynthesis with per-frame masks, framed as `runtime::pipeline::process_signal` frames a
//! signal (the one-hop latency removed). A blob runs through the pipeline itself
//! (`eval::enhance_blob`).

use anyhow::{bail, Result};
use runtime::dsp::{self, Analyzer, Complex32, Synthesizer, BINS, HOP, N_FEATURES};
use runtime::pipeline::{signal_hops, LATENCY};

pub type Spectrum = [Complex32; BINS];

/// Frames produced for a signal of `len` samples: as many as the pipeline runs hops
/// ([`signal_hops`]: one per hop, the last one zero padded, plus one over a silent hop, which
/// completes the last samples' overlap-add).
pub fn n_frames(len: usize) -> usize {
    signal_hops(len)
}

/// One spectrum per hop, exactly as the firmware's streaming analyser computes them.
pub fn spectra(signal: &[f32]) -> Vec<Spectrum> {
    let mut a = Analyzer::new();
    let mut out = Vec::with_capacity(n_frames(signal.len()));
    for k in 0..n_frames(signal.len()) {
        let chunk = signal.get(k * HOP..).unwrap_or(&[]);
        let mut hop = [0.0f32; HOP];
        hop.iter_mut().zip(chunk).for_each(|(h, x)| *h = *x);
        let mut spec = [Complex32::new(0.0, 0.0); BINS];
        a.push(&hop, &mut spec);
        out.push(spec);
    }
    out
}

/// Model inputs, frame-major `(T, N_FEATURES)`.
pub fn features(specs: &[Spectrum]) -> Vec<f32> {
    let mut out = Vec::with_capacity(specs.len() * N_FEATURES);
    let mut f = [0.0f32; N_FEATURES];
    for s in specs {
        dsp::features(s, &mut f);
        out.extend_from_slice(&f);
    }
    out
}

/// Band features (`runtime::dsp::band_features`) of filterbank `fb` (`n_bands × BINS`,
/// row-major), frame-major `(T, n_bands)`: what the runtime computes from the same filterbank.
pub fn band_features(specs: &[Spectrum], fb: &[f32]) -> Result<Vec<f32>> {
    let n = fb.len() / BINS;
    let bytes: Vec<u8> = fb.iter().flat_map(|v| v.to_le_bytes()).collect();
    let bank = dsp::FilterBank::new(runtime::format::Weights::F32(&bytes), n)
        .map_err(|e| anyhow::anyhow!("filterbank of {} values: {e}", fb.len()))?;
    let mut out = Vec::with_capacity(specs.len() * n);
    let mut f = vec![0.0f32; n];
    for s in specs {
        dsp::band_features(s, &bank, &mut f);
        out.extend_from_slice(&f);
    }
    Ok(out)
}

/// `|X|^0.5` of every bin, frame-major `(T, BINS)` (the loss's compressed magnitudes).
pub fn sqrt_magnitudes(specs: &[Spectrum]) -> Vec<f32> {
    let mut out = Vec::with_capacity(specs.len() * BINS);
    let mut m = [0.0f32; BINS];
    for s in specs {
        dsp::magnitudes(s, &mut m);
        out.extend(m.iter().map(|v| v.sqrt()));
    }
    out
}

/// Applies `masks` (frame-major `(T, BINS)`) and resynthesises `len` samples aligned with the
/// input (the synthesiser's one-hop latency is removed; [`spectra`]'s extra frame supplies the
/// end).
pub fn synthesize(specs: &[Spectrum], masks: &[f32], len: usize) -> Result<Vec<f32>> {
    if masks.len() != specs.len() * BINS {
        bail!("{} mask values for {} frames", masks.len(), specs.len());
    }
    let mut syn = Synthesizer::new();
    let mut out = Vec::with_capacity((specs.len() + 1) * HOP);
    let mut hop = [0.0f32; HOP];
    let mut m = [0.0f32; BINS];
    for (s, mk) in specs.iter().zip(masks.chunks_exact(BINS)) {
        let mut spec = *s;
        m.copy_from_slice(mk);
        dsp::apply_mask(&mut spec, &m);
        syn.push(&spec, &mut hop);
        out.extend_from_slice(&hop);
    }
    Ok(out.into_iter().skip(LATENCY).take(len).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_masks_reconstruct_the_signal_aligned() {
        let x: Vec<f32> = (0..1000).map(|i| (i as f32 * 0.05).sin() * 0.3 + ((i * 31) % 7) as f32 * 0.01).collect();
        let s = spectra(&x);
        assert_eq!(s.len(), 9);
        let y = synthesize(&s, &vec![1.0; s.len() * BINS], x.len()).unwrap();
        assert_eq!(y.len(), x.len());
        for (i, (a, b)) in x.iter().zip(&y).enumerate() {
            assert!((a - b).abs() < 1e-4, "{i}: {a} vs {b}");
        }
        assert!(synthesize(&s, &[1.0; 3], 10).is_err());
    }
}
