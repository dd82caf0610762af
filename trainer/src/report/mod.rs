//! `report`: pictures of training runs and models (PNG and SVG, drawn with plotters): training
//! curves, the bit allocation of a blob, size against quality, spectrograms of a clip.

mod bits;
mod curves;
mod figure;
mod pareto;
mod spectro;

pub use bits::BitMap;
pub use curves::{Curves, Run};
pub use pareto::{Pareto, Point};
pub use spectro::{Spectrogram, Spectrograms};

use crate::cli::ReportArgs;
use anyhow::{bail, Result};
use std::path::{Path, PathBuf};

/// An input `report` cannot use.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("run {}: {why}", path.display())]
    Run { path: PathBuf, why: String },
    #[error("{}: not a model blob: {why}", path.display())]
    Blob { path: PathBuf, why: String },
    #[error("points file {}: {why}", path.display())]
    Points { path: PathBuf, why: String },
}

/// Draws every picture the arguments ask for and returns the files written.
pub fn report(a: &ReportArgs) -> Result<Vec<PathBuf>> {
    if a.runs.is_empty() && a.models.is_empty() && a.points.is_none() && a.eval.is_empty() && a.clip.is_none() {
        bail!("nothing to draw: give --run, --model, --points, --eval or --clip/--clean");
    }
    // Read every input before the first picture is written.
    let runs = a.runs.iter().map(|p| Run::load(p)).collect::<Result<Vec<_>>>()?;
    let maps = a.models.iter().map(|p| BitMap::load(p)).collect::<Result<Vec<_>>>()?;
    let spectra = match (&a.clip, &a.clean) {
        (Some(noisy), Some(clean)) => {
            let Some(model) = a.models.first() else { bail!("--clip needs a --model to denoise it with") };
            Some(Spectrograms::load(noisy, clean, model)?)
        }
        _ => None,
    };
    let pareto = match &a.points {
        Some(file) => Some(Pareto::from_file(file)?),
        None if !a.eval.is_empty() => Some(Pareto::evaluate(&a.eval, &a.data)?),
        None => None,
    };
    std::fs::create_dir_all(&a.out).map_err(|e| anyhow::anyhow!("cannot create {}: {e}", a.out.display()))?;
    let mut written = Vec::new();
    let out: &Path = &a.out;
    if !runs.is_empty() {
        written.extend(figure::save(&Curves { runs }, out, "curves")?);
    }
    for m in &maps {
        written.extend(figure::save(m, out, &format!("bits-{}", m.name))?);
    }
    if let Some(p) = &pareto {
        written.extend(figure::save(p, out, "pareto")?);
    }
    if let Some(s) = &spectra {
        written.extend(figure::save(s, out, "spectrogram")?);
    }
    Ok(written)
}
