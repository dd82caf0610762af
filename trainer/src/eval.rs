//! Evaluation: the exported blob run through `runtime::pipeline` on the host (f32 or integer
//! path), the trainer's own candle forward of the same deployable weights, and the SI-SDR
//! improvement over the noisy input of any of them (or of the Wiener baseline).

use crate::data::Mixture;
use crate::export::{Deployable, Exported};
use crate::features::{self, Stft};
use crate::model;
use crate::noise::NoiseType;
use anyhow::{anyhow, bail, Context, Result};
use audio_tools::si_sdr;
use candle_core::{Device, Tensor};
use runtime::dsp::{FrameSize, Narrowband, Wideband};
use runtime::dsp_fixed::FixedSize;
use runtime::pipeline::{self, F32Denoiser, I8Denoiser};
use runtime::{pcm, Model};
use serde::Serialize;

/// The held-out test set of `eval` (and of `report --eval`): mixtures per SNR, their length in
/// seconds, and the seed.
pub const TEST_PER_SNR: usize = 25;
pub const TEST_SECONDS: f32 = 4.0;
pub const TEST_SEED: u64 = 1234;

/// Which runtime path runs the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum RunPath {
    F32,
    Int,
}

impl RunPath {
    /// "f32" or "integer".
    pub fn name(self) -> &'static str {
        match self {
            RunPath::F32 => "f32",
            RunPath::Int => "integer",
        }
    }
}

/// Reads a model blob, saying what the file is when it is a training run or a checkpoint instead.
pub fn read_blob(path: &std::path::Path) -> Result<Vec<u8>> {
    let ckpt = "a training run's checkpoint, not a model blob: export it first (trainer export --ckpt RUN \
                --out MODEL.dqem), or give the run to eval with --ckpt";
    if path.is_dir() {
        bail!(
            "{} is a directory: {}",
            path.display(),
            if path.join("checkpoint.safetensors").exists() { ckpt } else { "give a model blob (.dqem)" }
        );
    }
    let blob = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    // safetensors: an 8-byte little-endian header length, then the JSON header
    if blob.get(8) == Some(&b'{') && !blob.starts_with(&runtime::format::MAGIC) {
        bail!("{} is {ckpt}", path.display());
    }
    Ok(blob)
}

/// Parses a blob and checks it is a denoiser the runtime's pipelines run at its rate
/// ([`pipeline::check_denoiser_for`] its frame size).
pub fn parse_denoiser(blob: &[u8]) -> Result<Model<'_>> {
    let m = Model::parse(blob).map_err(|e| anyhow!("invalid model blob: {e}"))?;
    let checked = match blob_stft(&m)? {
        Stft::Narrowband => pipeline::check_denoiser_for::<Narrowband>(&m),
        Stft::Wideband => pipeline::check_denoiser_for::<Wideband>(&m),
    };
    checked.map_err(|e| anyhow!("not a denoiser blob: {e}"))?;
    Ok(m)
}

/// The STFT of a blob's front end (its sample rate).
pub fn blob_stft(model: &Model) -> Result<Stft> {
    let fe = model.front_end().map_err(|e| anyhow!("invalid model blob: {e}"))?;
    Stft::at(u32::from(fe.sample_rate))
}

/// Host RAM in bytes that the runtime's arena and state buffers take to run a blob, on each
/// path: the header's element counts (which `Model::parse` checked against the layers) times
/// the element size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct BufferBytes {
    pub f32_path: u64,
    pub int_path: u64,
}

impl BufferBytes {
    pub fn of(model: &Model) -> BufferBytes {
        let n = |len: usize| len as u64;
        let f32_len = n(model.f32_arena_len()).saturating_add(n(model.f32_state_len()));
        let f32_path = f32_len.saturating_mul(std::mem::size_of::<f32>() as u64);
        let int_path = n(model.i8_arena_len()).saturating_add(n(model.i8_state_len()));
        BufferBytes { f32_path, int_path }
    }

    pub fn on(&self, path: RunPath) -> u64 {
        match path {
            RunPath::F32 => self.f32_path,
            RunPath::Int => self.int_path,
        }
    }
}

/// A blob that asks for more buffer memory than the host allows.
#[derive(Debug, thiserror::Error)]
#[error(
    "the blob asks for {needed} bytes of buffers on the {} path, over the host's cap of {cap_mib} MiB \
     (raise it with --max-buffer-mib)",
    path.name()
)]
pub struct BufferCapError {
    pub needed: u64,
    pub path: RunPath,
    pub cap_mib: u64,
}

/// Checks, before anything is allocated, that running `model` on `path` needs at most
/// `cap_mib` MiB of buffers.
pub fn check_buffers(model: &Model, path: RunPath, cap_mib: u64) -> Result<(), BufferCapError> {
    let needed = BufferBytes::of(model).on(path);
    if needed > cap_mib.saturating_mul(1 << 20) {
        return Err(BufferCapError { needed, path, cap_mib });
    }
    Ok(())
}

/// Denoises `noisy` (at the blob's rate) with the blob through `runtime::pipeline`, streaming
/// exactly as on the device, output aligned with the input: the f32 path on the f32 samples, the
/// integer path on 16-bit PCM (`runtime::pcm`) with the firmware's fixed-point front end, so
/// `--path int` measures what an FPU-less chip computes.
pub fn enhance_blob(model: &Model, noisy: &[f32], path: RunPath) -> Result<Vec<f32>> {
    match (blob_stft(model)?, path) {
        (Stft::Narrowband, RunPath::F32) => enhance_f32::<Narrowband>(model, noisy),
        (Stft::Wideband, RunPath::F32) => enhance_f32::<Wideband>(model, noisy),
        (Stft::Narrowband, RunPath::Int) => enhance_int::<Narrowband>(model, noisy),
        (Stft::Wideband, RunPath::Int) => enhance_int::<Wideband>(model, noisy),
    }
}

fn enhance_f32<Z: FrameSize>(model: &Model, noisy: &[f32]) -> Result<Vec<f32>> {
    let mut out = vec![0f32; noisy.len()];
    let (mut arena, mut state) = (vec![0f32; model.f32_arena_len()], vec![0f32; model.f32_state_len()]);
    let mut den = F32Denoiser::<f32, Z>::with_size(*model, &mut arena, &mut state)?;
    pipeline::process_signal(&mut den, noisy, &mut out)?;
    Ok(out)
}

fn enhance_int<Z: FixedSize>(model: &Model, noisy: &[f32]) -> Result<Vec<f32>> {
    let (mut arena, mut state) = (vec![0i8; model.i8_arena_len()], vec![0i8; model.i8_state_len()]);
    let mut den = I8Denoiser::<Z>::with_size(*model, &mut arena, &mut state)?;
    let input: Vec<i16> = noisy.iter().map(|&x| pcm::f32_to_i16(x)).collect();
    let mut output = vec![0i16; noisy.len()];
    pipeline::process_signal(&mut den, &input, &mut output)?;
    Ok(output.iter().map(|s| pcm::i16_to_f32(*s)).collect())
}

/// Denoises `noisy` with the trainer's candle forward of an exported network.
pub fn enhance_exported(e: &Exported, noisy: &[f32], dev: &Device) -> Result<Vec<f32>> {
    match e {
        Exported::Chain(d) => enhance_deployable(d, noisy, dev),
        Exported::Graph(g) => crate::export::graph_calib::enhance(g, noisy, dev),
    }
}

/// Denoises `noisy` with the trainer's candle forward of the deployable (quantised) weights.
pub fn enhance_deployable(dep: &Deployable, noisy: &[f32], dev: &Device) -> Result<Vec<f32>> {
    let specs = features::spectra(Stft::Narrowband, noisy);
    let feats = features::features(&specs);
    let (w, b) = dep.tensors(dev)?;
    let x = Tensor::from_vec(feats, (1, specs.len(), Stft::Narrowband.n_features()), dev)?;
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
        if let (Some(a), Some(b)) = (si_sdr(&m.clean, &m.noisy), si_sdr(&m.clean, &y)) {
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
