//! Checkpoints: one safetensors file holding the tensors and the JSON metadata (as a u8 tensor),
//! and a readable copy of the metadata with the file's CRC-32 beside it, both written safely and
//! keeping the previous save ([`store`]); loading verifies the checksum.
//!
//! [`Checkpoint`] is the one way in and out: training saves through it (every `ckpt_every`
//! steps and at the end) and resumes from it, a run started `--from` another restores its
//! weights (and builds its distillation teacher) from it, and export and `eval --ckpt` rebuild
//! the trained model ([`Trained`]) from it. Tensors: weights `w{i}`, biases `b{i}`, bit logits
//! `logit{i}` (DiffQ), the optimisers' moments (`adam.*`, `adam_bits.*`) and the weight
//! average (`ema.*`, `ema_raw.*`).

use crate::config::{Method, RunConfig, TrainConfig};
use crate::diffq::DiffqConfig;
use crate::graph::Described;
use crate::model::{Arch, Params};
use crate::qstate::QState;
use anyhow::{Context, Result};
use candle_core::{Device, Tensor};
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

mod store;
pub use store::{previous_of, sidecar_of};

/// File name inside an output directory.
pub const CKPT_FILE: &str = "checkpoint.safetensors";
/// Readable copy of the metadata beside it.
pub const META_FILE: &str = "checkpoint.json";
/// The metadata's format version (new fields come with serde defaults, so it stays 1).
pub const VERSION: u32 = 1;
const META_KEY: &str = "__meta_json__";

/// What can be wrong with a checkpoint.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("no checkpoint at {0}")]
    NotFound(PathBuf),
    #[error("{0} is not a trainer checkpoint (no metadata)")]
    NoMetadata(PathBuf),
    #[error("{} already holds a run ({CKPT_FILE}): continue it with --resume, or replace it with --force", .0.display())]
    RunExists(PathBuf),
    #[error("{0} is a .dqem model blob, not a checkpoint: give it with --model")]
    IsBlob(PathBuf),
    #[error(
        "{}: checksum mismatch (its JSON records CRC-32 {expected:08x}, the file has {found:08x}): the file is damaged \
         or a save was interrupted; {} holds the previous save",
        path.display(),
        previous_of(path).display()
    )]
    Checksum { path: PathBuf, expected: u32, found: u32 },
    #[error("{}: unreadable checkpoint metadata: {error}", path.display())]
    BadSidecar { path: PathBuf, error: String },
    #[error("{path}: checkpoint version {version} is not supported (this trainer reads {VERSION})")]
    Version { path: PathBuf, version: u32 },
    #[error("checkpoint has no tensor `{0}`")]
    MissingTensor(String),
    #[error("checkpoint tensor `{name}` has shape {found:?}, expected {expected:?}")]
    Shape { name: String, found: Vec<usize>, expected: Vec<usize> },
    #[error("its architecture differs from this run's")]
    Architecture,
    #[error("it was trained with another method or configuration ({found} instead of {expected})")]
    Incompatible { found: &'static str, expected: &'static str },
}

/// One logged point of training.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LogEntry {
    pub step: usize,
    /// Training loss of the step (NaN, written as null, when no step ran).
    #[serde(deserialize_with = "f64_or_nan")]
    pub loss: f64,
    pub val_loss: Option<f64>,
    pub lambda: f64,
    pub size_bytes: Option<f64>,
    pub avg_bits: Option<f64>,
}

/// JSON has no NaN: serde_json writes it as null, and null reads back as NaN.
fn f64_or_nan<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
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
    /// The text of the model description trained (`train --model`); none for the built-in
    /// architecture (`arch`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

impl Meta {
    /// The metadata of a run that has not made a step yet.
    pub fn new(run: &RunConfig, qs: &QState) -> Meta {
        Meta {
            version: VERSION,
            method: run.method,
            arch: run.arch.clone(),
            diffq: run.diffq.clone(),
            train: run.train.clone(),
            step: 0,
            lambda: run.train.lambda,
            quantized: qs.layouts.iter().map(Option::is_some).collect(),
            history: Vec::new(),
            step_ms_median: None,
            log_lambda_i: None,
            model: run.model.as_ref().map(|d| d.text.clone()),
        }
    }

    /// Whether `run` can continue the run this metadata describes (its training settings may
    /// differ: more steps, say).
    pub fn check_resumable(&self, run: &RunConfig) -> std::result::Result<(), CheckpointError> {
        if self.method != run.method {
            return Err(CheckpointError::Incompatible { found: self.method.name(), expected: run.method.name() });
        }
        if self.arch != run.arch || self.model != run.model.as_ref().map(|d| d.text.clone()) {
            return Err(CheckpointError::Architecture);
        }
        if self.diffq != run.diffq {
            return Err(CheckpointError::Incompatible { found: "other DiffQ settings", expected: "this run's" });
        }
        Ok(())
    }
}

/// A checkpoint in memory: its metadata and its tensors by name.
pub struct Checkpoint {
    pub meta: Meta,
    tensors: HashMap<String, Tensor>,
}

/// A trained model rebuilt from a checkpoint: its weights and its quantisation state, and its
/// description when it is one.
pub struct Trained {
    pub meta: Meta,
    pub params: Params,
    pub qs: QState,
    pub model: Option<Described>,
}

/// Accepts a directory (containing [`CKPT_FILE`]) or the file itself.
pub fn resolve(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join(CKPT_FILE)
    } else {
        path.to_path_buf()
    }
}

impl Checkpoint {
    /// A checkpoint of `meta` with the model's tensors: weights, biases and bit logits.
    pub fn of_model(meta: Meta, params: &Params, qs: &QState) -> Checkpoint {
        let mut tensors: HashMap<String, Tensor> =
            params.named().into_iter().map(|(n, v)| (n, v.as_tensor().clone())).collect();
        for (i, l) in qs.logits.iter().enumerate() {
            if let Some(l) = l {
                tensors.insert(format!("logit{i}"), l.as_tensor().clone());
            }
        }
        Checkpoint { meta, tensors }
    }

    /// Adds named tensors (optimiser or weight-average state).
    pub fn extend(&mut self, tensors: impl IntoIterator<Item = (String, Tensor)>) {
        self.tensors.extend(tensors);
    }

    /// Every tensor by name (the optimisers and the weight average pick theirs).
    pub fn tensors(&self) -> &HashMap<String, Tensor> {
        &self.tensors
    }

    /// A tensor, or an error naming it.
    pub fn get(&self, name: &str) -> std::result::Result<&Tensor, CheckpointError> {
        self.tensors.get(name).ok_or_else(|| CheckpointError::MissingTensor(name.to_string()))
    }

    /// Reads a checkpoint written by [`Checkpoint::save`] (a directory or the file), tensors on `device`.
    pub fn load(path: &Path, device: &Device) -> Result<Checkpoint> {
        let file = resolve(path);
        if !file.is_file() {
            return Err(CheckpointError::NotFound(file).into());
        }
        let bytes = store::read_verified(&file)?;
        let mut tensors = candle_core::safetensors::load_buffer(&bytes, device)
            .with_context(|| format!("{} is not a safetensors checkpoint", file.display()))?;
        let meta_t = tensors.remove(META_KEY).ok_or_else(|| CheckpointError::NoMetadata(file.clone()))?;
        let bytes = meta_t.to_device(&Device::Cpu)?.to_vec1::<u8>()?;
        let meta: Meta =
            serde_json::from_slice(&bytes).with_context(|| format!("bad metadata in {}", file.display()))?;
        if meta.version != VERSION {
            return Err(CheckpointError::Version { path: file, version: meta.version }.into());
        }
        Ok(Checkpoint { meta, tensors })
    }

    /// Writes the tensors and the metadata to `dir/checkpoint.safetensors` and a readable copy
    /// of the metadata with the file's checksum to `dir/checkpoint.json`, safely (temporary
    /// file, fsync, rename), the previous save kept as `checkpoint.prev.*`.
    pub fn save(&self, dir: &Path) -> Result<()> {
        let json = serde_json::to_string_pretty(&self.meta)?;
        let mut map: HashMap<String, Tensor> = HashMap::new();
        for (k, t) in &self.tensors {
            map.insert(k.clone(), t.to_device(&Device::Cpu)?);
        }
        let bytes = json.into_bytes();
        let n = bytes.len();
        map.insert(META_KEY.to_string(), Tensor::from_vec(bytes, n, &Device::Cpu)?);
        let file = dir.join(CKPT_FILE);
        let bytes = safetensors::serialize(&map, None).with_context(|| format!("cannot encode {}", file.display()))?;
        store::save(&file, &bytes, &self.meta)
    }

    /// Sets `params` (of architecture `arch`) to the checkpoint's weights and biases.
    pub fn restore_params(&self, arch: &Arch, params: &Params) -> Result<()> {
        if &self.meta.arch != arch {
            return Err(CheckpointError::Architecture.into());
        }
        for (name, var) in params.named() {
            let t = self.get(&name)?;
            if t.shape() != var.as_tensor().shape() {
                let (found, expected) = (t.dims().to_vec(), var.as_tensor().dims().to_vec());
                return Err(CheckpointError::Shape { name, found, expected }.into());
            }
            var.set(t)?;
        }
        Ok(())
    }

    /// Sets the bit logits of `qs` (DiffQ) to the checkpoint's.
    pub fn restore_logits(&self, qs: &QState) -> Result<()> {
        for (i, l) in qs.logits.iter().enumerate() {
            if let Some(l) = l {
                l.set(self.get(&format!("logit{i}"))?)?;
            }
        }
        Ok(())
    }

    /// The checkpoint's weights as fresh parameters of architecture `arch` (a teacher).
    pub fn params(&self, arch: &Arch, dev: &Device) -> Result<Params> {
        let params = Params::init(arch, &mut StdRng::seed_from_u64(0), dev)?;
        self.restore_params(arch, &params)?;
        Ok(params)
    }

    /// The trained model: weights and bit logits in the checkpoint's own configuration.
    pub fn into_trained(self, dev: &Device) -> Result<Trained> {
        if let Some(text) = &self.meta.model {
            let d = Described::parse(text, Path::new("checkpoint"))?;
            let params = crate::graph::init_params(&d.desc, &mut StdRng::seed_from_u64(0), dev)?;
            self.restore_params(&self.meta.arch, &params)?;
            let qs = QState::for_desc(self.meta.method, &d.desc, &self.meta.diffq, dev)?;
            self.restore_logits(&qs)?;
            return Ok(Trained { meta: self.meta, params, qs, model: Some(d) });
        }
        self.meta.arch.validate()?;
        let params = self.params(&self.meta.arch, dev)?;
        let qs = QState::new(self.meta.method, &self.meta.arch, &self.meta.diffq, dev)?;
        self.restore_logits(&qs)?;
        Ok(Trained { meta: self.meta, params, qs, model: None })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{preset, Method, RunConfig};

    fn tiny_run(method: Method) -> RunConfig {
        let p = preset("tiny").unwrap();
        RunConfig { method, arch: p.arch, diffq: p.diffq, train: p.train, from: None, model: None }
    }

    fn model(run: &RunConfig, seed: u64) -> (Params, QState) {
        let dev = Device::Cpu;
        let params = Params::init(&run.arch, &mut StdRng::seed_from_u64(seed), &dev).unwrap();
        let qs = QState::new(run.method, &run.arch, &run.diffq, &dev).unwrap();
        (params, qs)
    }

    fn values(t: &Tensor) -> Vec<f32> {
        t.flatten_all().unwrap().to_vec1::<f32>().unwrap()
    }

    #[test]
    fn saves_and_restores_the_model_and_its_history() {
        let dir = std::env::temp_dir().join(format!("trainer-ckpt-{}", std::process::id()));
        let run = tiny_run(Method::Diffq);
        let (params, qs) = model(&run, 1);
        let l0 = qs.logits[0].as_ref().unwrap();
        l0.set(&l0.as_tensor().affine(0.0, 0.5).unwrap()).unwrap(); // not the initial logits
        let mut meta = Meta::new(&run, &qs);
        // a run with no step logs a NaN loss, which JSON writes as null
        meta.history.push(LogEntry {
            step: 0,
            loss: f64::NAN,
            val_loss: Some(0.5),
            lambda: 1.0,
            size_bytes: None,
            avg_bits: None,
        });
        let mut ck = Checkpoint::of_model(meta, &params, &qs);
        ck.extend([("extra.0".to_string(), Tensor::new(&[7f32], &Device::Cpu).unwrap())]);
        ck.save(&dir).unwrap();
        assert!(dir.join(META_FILE).is_file());

        let back = Checkpoint::load(&dir, &Device::Cpu).unwrap();
        assert!(back.meta.history[0].loss.is_nan());
        assert_eq!(back.meta.train, run.train);
        assert_eq!(values(back.get("extra.0").unwrap()), vec![7.0]);
        let t = back.into_trained(&Device::Cpu).unwrap();
        for (a, b) in t.params.named().iter().zip(params.named()) {
            assert_eq!((&a.0, values(a.1.as_tensor())), (&b.0, values(b.1.as_tensor())));
        }
        let (l0, l1) = (t.qs.logits[0].as_ref().unwrap(), qs.logits[0].as_ref().unwrap());
        assert_eq!(values(l0.as_tensor()), values(l1.as_tensor()));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn damaged_files_and_blobs_are_typed_errors_and_the_previous_save_loads() {
        let dir = tempfile::tempdir().unwrap();
        let run = tiny_run(Method::Fp32);
        let (params, qs) = model(&run, 1);
        let mut meta = Meta::new(&run, &qs);
        for step in [1, 2] {
            meta.step = step;
            Checkpoint::of_model(meta.clone(), &params, &qs).save(dir.path()).unwrap();
        }
        // As a save interrupted between its two renames: the new tensors, the old JSON.
        let file = dir.path().join(CKPT_FILE);
        std::fs::copy(dir.path().join("checkpoint.prev.json"), dir.path().join(META_FILE)).unwrap();
        let e = Checkpoint::load(dir.path(), &Device::Cpu).err().unwrap();
        assert!(matches!(e.downcast_ref(), Some(CheckpointError::Checksum { .. })), "{e}");
        assert!(e.to_string().contains("checkpoint.prev.safetensors holds the previous save"), "{e}");
        let prev = Checkpoint::load(&previous_of(&file), &Device::Cpu).unwrap();
        assert_eq!(prev.meta.step, 1);
        let blob = dir.path().join("model.safetensors");
        std::fs::write(&blob, b"DQEM and the rest of a blob").unwrap();
        let e = Checkpoint::load(&blob, &Device::Cpu).err().unwrap();
        assert!(matches!(e.downcast_ref(), Some(CheckpointError::IsBlob(_))), "{e}");
    }

    #[test]
    fn mismatches_are_named() {
        let run = tiny_run(Method::Fp32);
        let (params, qs) = model(&run, 1);
        let ck = Checkpoint::of_model(Meta::new(&run, &qs), &params, &qs);
        let wider = Arch::new(24);
        let other = Params::init(&wider, &mut StdRng::seed_from_u64(0), &Device::Cpu).unwrap();
        let e = ck.restore_params(&wider, &other).unwrap_err();
        assert!(matches!(e.downcast_ref(), Some(CheckpointError::Architecture)), "{e}");
        assert!(ck.meta.check_resumable(&tiny_run(Method::Diffq)).is_err());
        assert!(ck.meta.check_resumable(&run).is_ok());
        let e = ck.get("logit0").unwrap_err();
        assert_eq!(e.to_string(), "checkpoint has no tensor `logit0`");
        let mut short = Checkpoint::of_model(Meta::new(&run, &qs), &params, &qs);
        short.extend([("w0".to_string(), Tensor::new(&[1f32, 2.0], &Device::Cpu).unwrap())]);
        let e = short.restore_params(&run.arch, &params).unwrap_err();
        assert!(e.to_string().contains("`w0` has shape [2]"), "{e}");
        let e = Checkpoint::load(Path::new("/nonexistent/run"), &Device::Cpu).err().unwrap();
        assert!(e.to_string().contains("/nonexistent/run"), "{e}");
    }
}
