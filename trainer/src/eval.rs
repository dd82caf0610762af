//! Evaluation: the exported blob run through `runtime::Model` on the host (f32 or integer
//! path), the trainer's own candle forward of the same deployable weights, the Wiener
//! baseline, and SI-SDR improvement over the noisy input.

use crate::data::Mixture;
use crate::export::Deployable;
use crate::features;
use crate::metrics::si_sdr;
use crate::model;
use crate::noise::NoiseType;
use anyhow::{anyhow, bail, Result};
use candle_core::{Device, Tensor};
use runtime::dsp::{BINS, N_FEATURES};
use runtime::{Model, StateF32, StateI8};
use serde::Serialize;

/// Which runtime path runs the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum RunPath {
    F32,
    Int,
}

/// Parses a blob and checks it is a denoiser for this front end.
pub fn parse_denoiser(blob: &[u8]) -> Result<Model<'_>> {
    let m = Model::parse(blob).map_err(|e| anyhow!("invalid model blob: {e}"))?;
    if m.input_len() != N_FEATURES || m.output_len() != BINS {
        bail!(
            "the model maps {} inputs to {} outputs; a denoiser maps {N_FEATURES} features to {BINS} gains",
            m.input_len(),
            m.output_len()
        );
    }
    Ok(m)
}

/// Gains `(T, BINS)` for features `(T, N_FEATURES)` on the f32 path, one streaming step per
/// frame. (The integer path runs end to end on samples: see `enhance_blob_fixed`.)
pub fn blob_masks(model: &Model, feats: &[f32]) -> Result<Vec<f32>> {
    let mut masks = Vec::with_capacity(feats.len() / N_FEATURES * BINS);
    let mut sbuf = vec![0f32; model.f32_state_len()];
    let mut arena = vec![0f32; model.f32_arena_len()];
    let mut st = StateF32::new(&mut sbuf);
    let mut out = [0f32; BINS];
    for frame in feats.chunks_exact(N_FEATURES) {
        model.step_f32(&mut st, &mut arena, frame, &mut out)?;
        masks.extend_from_slice(&out);
    }
    Ok(masks)
}

/// Denoises `noisy` with the blob (streaming, exactly as on the device): the f32 path with the
/// f32 front end, the integer path with the firmware's fixed-point front end on 16-bit samples
/// (`runtime::dsp_fixed`), so `--path int` measures what an FPU-less chip computes.
pub fn enhance_blob(model: &Model, noisy: &[f32], path: RunPath) -> Result<Vec<f32>> {
    if path == RunPath::Int {
        return enhance_blob_fixed(model, noisy);
    }
    let specs = features::spectra(noisy);
    let masks = blob_masks(model, &features::features(&specs))?;
    features::synthesize(&specs, &masks, noisy.len())
}

/// The integer pipeline end to end: i16 hops → FixedFrontEnd → Model::step_i8 → i16 hops.
fn enhance_blob_fixed(model: &Model, noisy: &[f32]) -> Result<Vec<f32>> {
    use runtime::dsp::HOP;
    use runtime::dsp_fixed::FixedFrontEnd;
    if !model.has_int() {
        bail!("this blob has no integer path (fp32 weights, or exported with --no-int)");
    }
    let mut fe = FixedFrontEnd::new(model.input_scale(), model.output_scale());
    let mut sbuf = vec![0i8; model.i8_state_len()];
    let mut arena = vec![0i8; model.i8_arena_len()];
    let mut st = StateI8::new(&mut sbuf);
    let (mut feats, mut mask) = ([0i8; N_FEATURES], [0i8; BINS]);
    let (mut hop_in, mut hop_out) = ([0i16; HOP], [0i16; HOP]);
    // One extra hop flushes the synthesis latency; the first output hop is dropped below.
    let n_hops = noisy.len().div_ceil(HOP) + 1;
    let mut out = Vec::with_capacity(n_hops * HOP);
    for k in 0..n_hops {
        let chunk = noisy.get(k * HOP..).unwrap_or(&[]);
        hop_in.fill(0);
        for (h, x) in hop_in.iter_mut().zip(chunk) {
            *h = (x * 32768.0).round().clamp(-32768.0, 32767.0) as i16;
        }
        fe.analyze(&hop_in);
        fe.features(&mut feats);
        model.step_i8(&mut st, &mut arena, &feats, &mut mask)?;
        fe.apply_mask(&mask);
        fe.synthesize(&mut hop_out);
        out.extend(hop_out.iter().map(|&v| f32::from(v) / 32768.0));
    }
    Ok(out.into_iter().skip(HOP).take(noisy.len()).collect())
}

/// Denoises `noisy` with the trainer's candle forward of the deployable (quantised) weights.
pub fn enhance_deployable(dep: &Deployable, noisy: &[f32], dev: &Device) -> Result<Vec<f32>> {
    let specs = features::spectra(noisy);
    let feats = features::features(&specs);
    let (w, b) = dep.tensors(dev)?;
    let x = Tensor::from_vec(feats, (1, specs.len(), N_FEATURES), dev)?;
    let z = model::forward(&dep.arch, &w, &b, &x, false)?;
    let masks = model::sigmoid(&z)?.flatten_all()?.to_device(&Device::Cpu)?.to_vec1::<f32>()?;
    features::synthesize(&specs, &masks, noisy.len())
}

/// Mean SI-SDR at one test SNR.
#[derive(Clone, Debug, Serialize)]
pub struct SnrRow {
    pub snr_db: f32,
    pub n: usize,
    pub noisy_si_sdr: f64,
    pub enhanced_si_sdr: f64,
    pub si_sdri: f64,
}

/// Mean SI-SDR over the mixtures of one noise kind (all SNRs).
#[derive(Clone, Debug, Serialize)]
pub struct NoiseRow {
    pub noise: NoiseType,
    pub n: usize,
    pub noisy_si_sdr: f64,
    pub enhanced_si_sdr: f64,
    pub si_sdri: f64,
}

/// Means over the test set.
#[derive(Clone, Debug, Serialize)]
pub struct EvalReport {
    pub n: usize,
    pub noisy_si_sdr: f64,
    pub enhanced_si_sdr: f64,
    pub si_sdri: f64,
    pub per_snr: Vec<SnrRow>,
    pub per_noise: Vec<NoiseRow>,
}

/// One scored mixture: its SNR, its noise, SI-SDR of the noisy input and of the output.
type Scored = (f32, NoiseType, f64, f64);

/// Mean noisy and enhanced SI-SDR of the rows `keep` selects.
fn means(rows: &[Scored], keep: impl Fn(&Scored) -> bool) -> (usize, f64, f64) {
    let sub: Vec<&Scored> = rows.iter().filter(|r| keep(r)).collect();
    let n = sub.len().max(1) as f64;
    (sub.len(), sub.iter().map(|r| r.2).sum::<f64>() / n, sub.iter().map(|r| r.3).sum::<f64>() / n)
}

/// Runs `enhance` on every mixture and averages SI-SDR, overall, per SNR and per noise kind
/// (mixtures with silent references are skipped).
pub fn evaluate(mixtures: &[Mixture], mut enhance: impl FnMut(&[f32]) -> Result<Vec<f32>>) -> Result<EvalReport> {
    let mut rows: Vec<Scored> = Vec::new();
    for m in mixtures {
        let y = enhance(&m.noisy)?;
        if let (Some(a), Some(b)) = (si_sdr(&m.noisy, &m.clean), si_sdr(&y, &m.clean)) {
            rows.push((m.snr_db, m.noise, a, b));
        }
    }
    if rows.is_empty() {
        bail!("no usable test mixture");
    }
    let mut snrs: Vec<f32> = rows.iter().map(|r| r.0).collect();
    snrs.sort_by(f32::total_cmp);
    snrs.dedup();
    let per_snr = snrs
        .iter()
        .map(|&s| {
            let (n, a, b) = means(&rows, |r| r.0 == s);
            SnrRow { snr_db: s, n, noisy_si_sdr: a, enhanced_si_sdr: b, si_sdri: b - a }
        })
        .collect();
    let mut kinds: Vec<NoiseType> = rows.iter().map(|r| r.1).collect();
    kinds.sort();
    kinds.dedup();
    let per_noise = kinds
        .iter()
        .map(|&k| {
            let (n, a, b) = means(&rows, |r| r.1 == k);
            NoiseRow { noise: k, n, noisy_si_sdr: a, enhanced_si_sdr: b, si_sdri: b - a }
        })
        .collect();
    let (n, a, b) = means(&rows, |_| true);
    Ok(EvalReport { n, noisy_si_sdr: a, enhanced_si_sdr: b, si_sdri: b - a, per_snr, per_noise })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mix(snr_db: f32, noise: NoiseType, seed: u32) -> Mixture {
        let clean: Vec<f32> = (0..800).map(|i| (i as f32 * 0.05 * (1 + seed % 3) as f32).sin()).collect();
        let noisy =
            clean.iter().enumerate().map(|(i, c)| c + 0.3 * ((i as u32 * 7919 + seed) % 13) as f32 / 13.0).collect();
        Mixture { clean, noisy, snr_db, noise }
    }

    #[test]
    fn report_breaks_the_mean_down_by_snr_and_by_noise_kind() {
        let mixes = vec![
            mix(0.0, NoiseType::Hum, 1),
            mix(5.0, NoiseType::Recorded, 2),
            mix(0.0, NoiseType::Recorded, 3),
            mix(5.0, NoiseType::White, 4),
        ];
        // "Enhancement" that halves the noise: each mixture improves by its own amount.
        let mut i = 0;
        let r = evaluate(&mixes, |x| {
            let c = &mixes[i].clean;
            i += 1;
            Ok(x.iter().zip(c).map(|(n, c)| c + 0.5 * (n - c)).collect())
        })
        .unwrap();
        assert_eq!(r.n, 4);
        let kinds: Vec<(NoiseType, usize)> = r.per_noise.iter().map(|g| (g.noise, g.n)).collect();
        assert_eq!(kinds, vec![(NoiseType::Recorded, 2), (NoiseType::White, 1), (NoiseType::Hum, 1)]);
        assert_eq!(r.per_snr.iter().map(|g| g.n).collect::<Vec<_>>(), vec![2, 2]);
        let weighted = |rows: &[(usize, f64)]| rows.iter().map(|(n, v)| *n as f64 * v).sum::<f64>() / 4.0;
        let by_noise: Vec<(usize, f64)> = r.per_noise.iter().map(|g| (g.n, g.si_sdri)).collect();
        let by_snr: Vec<(usize, f64)> = r.per_snr.iter().map(|g| (g.n, g.si_sdri)).collect();
        assert!((weighted(&by_noise) - r.si_sdri).abs() < 1e-9);
        assert!((weighted(&by_snr) - r.si_sdri).abs() < 1e-9);
        assert!(r.si_sdri > 5.0, "halving the noise gains about 6 dB, got {}", r.si_sdri);
        let single = evaluate(&mixes[3..], |x| Ok(x.to_vec())).unwrap();
        assert!(single.si_sdri.abs() < 1e-9 && single.per_noise.len() == 1);
    }
}
