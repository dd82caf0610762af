//! Checkpoints: one safetensors file holding the tensors and the JSON metadata (as a u8 tensor),
//! written to a temporary file and renamed, so a crash never leaves a torn checkpoint.

use crate::config::{Method, TrainConfig};
use crate::diffq::DiffqConfig;
use crate::model::Arch;
use anyhow::{anyhow, bail, Context, Result};
use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// File name inside an output directory.
pub const CKPT_FILE: &str = "checkpoint.safetensors";
const META_KEY: &str = "__meta_json__";

/// One logged point of training.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LogEntry {
    pub step: usize,
    pub loss: f64,
    pub val_loss: Option<f64>,
    pub lambda: f64,
    pub size_bytes: Option<f64>,
    pub avg_bits: Option<f64>,
}

/// Everything but the tensors.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Meta {
    pub version: u32,
    pub method: Method,
    pub arch: Arch,
    pub diffq: DiffqConfig,
    pub train: TrainConfig,
    pub step: usize,
    pub lambda: f64,
    /// Per weighted layer: is its weight quantised.
    pub quantized: Vec<bool>,
    pub history: Vec<LogEntry>,
    pub step_ms_median: Option<f64>,
    /// Integral state of the λ controller (size target only).
    #[serde(default)]
    pub log_lambda_i: Option<f64>,
}

/// Accepts a directory (containing [`CKPT_FILE`]) or the file itself.
pub fn resolve(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join(CKPT_FILE)
    } else {
        path.to_path_buf()
    }
}

/// Atomically writes `tensors` and `meta` to `dir/checkpoint.safetensors` (and a readable copy
/// of the metadata to `dir/checkpoint.json`).
pub fn save(dir: &Path, meta: &Meta, tensors: &[(String, Tensor)]) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let json = serde_json::to_string_pretty(meta)?;
    let mut map: HashMap<String, Tensor> = HashMap::new();
    for (k, t) in tensors {
        map.insert(k.clone(), t.to_device(&Device::Cpu)?);
    }
    let bytes = json.as_bytes().to_vec();
    let n = bytes.len();
    map.insert(META_KEY.to_string(), Tensor::from_vec(bytes, n, &Device::Cpu)?);
    let path = dir.join(CKPT_FILE);
    let tmp = dir.join(format!("{CKPT_FILE}.tmp"));
    candle_core::safetensors::save(&map, &tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("cannot rename to {}", path.display()))?;
    let jtmp = dir.join("checkpoint.json.tmp");
    std::fs::write(&jtmp, json)?;
    std::fs::rename(&jtmp, dir.join("checkpoint.json"))?;
    Ok(())
}

/// Loads a checkpoint written by [`save`].
pub fn load(path: &Path, device: &Device) -> Result<(Meta, HashMap<String, Tensor>)> {
    let file = resolve(path);
    if !file.is_file() {
        bail!("no checkpoint at {}", file.display());
    }
    let mut map = candle_core::safetensors::load(&file, device)
        .with_context(|| format!("cannot read checkpoint {}", file.display()))?;
    let meta_t =
        map.remove(META_KEY).ok_or_else(|| anyhow!("{} is not a trainer checkpoint (no metadata)", file.display()))?;
    let bytes = meta_t.to_device(&Device::Cpu)?.to_vec1::<u8>()?;
    let meta: Meta = serde_json::from_slice(&bytes).with_context(|| format!("bad metadata in {}", file.display()))?;
    if meta.version != 1 {
        bail!("{}: checkpoint version {} is not supported", file.display(), meta.version);
    }
    Ok((meta, map))
}

/// A tensor of the checkpoint, or a clear error.
pub fn get<'a>(map: &'a HashMap<String, Tensor>, name: &str) -> Result<&'a Tensor> {
    map.get(name).ok_or_else(|| anyhow!("checkpoint has no tensor `{name}`"))
}
