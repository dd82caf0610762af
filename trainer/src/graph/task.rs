//! A description as a training run holds it ([`Described`]: the checked graph, its text for the
//! checkpoint, its front end's filterbank) and the task loss of a mask model: the compressed
//! magnitude error of the mask spread to the bins as the runtime spreads it (`band_gains`, a
//! matmul by the filterbank, for a band mask).

use crate::describe::{self, Features, ModelDesc, Output};
use crate::features::Stft;
use crate::loader::{FeatureKind, Frontend};
use crate::model::{self, MASK_LOGIT_LIMIT, MASK_SQRT_EPS};
use anyhow::{anyhow, bail, Result};
use candle_core::{Device, Tensor};
use std::path::Path;
use std::sync::Arc;

/// A checked model description and what training and export need of it.
#[derive(Clone, Debug, PartialEq)]
pub struct Described {
    /// The file it was read from (or "checkpoint"), for messages.
    pub name: String,
    /// The description's text, stored in checkpoints so export and eval can rebuild the model.
    pub text: String,
    pub desc: ModelDesc,
}

impl Described {
    /// Reads and checks `path`.
    pub fn load(path: &Path) -> Result<Described> {
        let text = std::fs::read_to_string(path).map_err(|e| anyhow!("cannot read {}: {e}", path.display()))?;
        Self::parse(&text, path)
    }

    /// Checks `text` (read from `file`).
    pub fn parse(text: &str, file: &Path) -> Result<Described> {
        let desc = describe::parse(text, file)?;
        Ok(Described { name: file.display().to_string(), text: text.to_string(), desc })
    }

    /// Whether the trainer can train it: a mask model (a denoiser) at a rate the runtime runs.
    pub fn check_trainable(&self) -> Result<()> {
        let f = &self.desc.frontend;
        Stft::at(f.sample_rate).map_err(|e| anyhow!("{}: {e}", self.name))?;
        if f.output != Output::Mask {
            bail!("{}: training supports output = \"mask\" only (a denoiser)", self.name);
        }
        Ok(())
    }

    /// The STFT of its front end (descriptions are checked to run at 8 or 16 kHz).
    pub fn stft(&self) -> Stft {
        self.desc.frontend.stft()
    }

    /// The filterbank of a band front end (`n_mels × BINS`, row-major), none for log magnitudes.
    pub fn filterbank(&self) -> Option<Vec<f32>> {
        let f = &self.desc.frontend;
        match (f.features, f.n_mels) {
            (Features::Logmel, Some(n)) => Some(runtime::dsp::mel_filterbank(f.sample_rate, n)),
            _ => None,
        }
    }

    /// The STFT and the features the model reads.
    pub fn frontend(&self) -> Frontend {
        let kind = match self.filterbank() {
            Some(fb) => FeatureKind::Bands(Arc::new(fb)),
            None => FeatureKind::Logmag,
        };
        Frontend { stft: self.stft(), kind }
    }

    /// The filterbank as a tensor `(n_mels, bins)` on `dev` (band masks), else none.
    pub fn filterbank_tensor(&self, dev: &Device) -> Result<Option<Tensor>> {
        let Some(fb) = self.filterbank() else { return Ok(None) };
        let bins = self.stft().bins();
        let n = fb.len() / bins;
        Ok(Some(Tensor::from_vec(fb, (n, bins), dev)?))
    }
}

/// Gains per bin `(B, T, bins)` from mask logits `(B, T, n)`: the sigmoid of the logits (bins),
/// spread by the filterbank `fb` `(n, bins)` when the mask is per band.
pub fn bin_gains(logits: &Tensor, fb: Option<&Tensor>) -> Result<Tensor> {
    let g = model::sigmoid(&logits.clamp(-MASK_LOGIT_LIMIT, MASK_LOGIT_LIMIT)?)?;
    let Some(fb) = fb else { return Ok(g) };
    let (b, t, n) = g.dims3()?;
    let bins = fb.dim(1)?;
    Ok(g.reshape((b * t, n))?.matmul(fb)?.reshape((b, t, bins))?)
}

/// The task loss of mask logits `z`: MSE between `(gain·|X|)^0.5` and `|S|^0.5`; for a bin mask
/// exactly [`model::mask_loss`].
pub fn task_loss(z: &Tensor, fb: Option<&Tensor>, sqrt_mix: &Tensor, sqrt_clean: &Tensor) -> Result<Tensor> {
    if fb.is_none() {
        return Ok(model::mask_loss(z, sqrt_mix, sqrt_clean)?);
    }
    let est = ((bin_gains(z, fb)? + MASK_SQRT_EPS)?.sqrt()? * sqrt_mix)?;
    Ok((est - sqrt_clean)?.sqr()?.mean_all()?)
}
