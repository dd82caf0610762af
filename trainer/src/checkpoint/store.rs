//! A checkpoint on disk: the safetensors file, its readable metadata beside it
//! (`checkpoint.json`, with the CRC-32 of the safetensors bytes), and the previous save of both
//! (`checkpoint.prev.*`), all written through `audio_tools::file` (temporary file, fsync, rename).
//! Loading verifies the checksum; a checkpoint whose metadata records none (one written before
//! checksums, or a safetensors file without its JSON) loads with a warning.

use super::CheckpointError;
use anyhow::Context;
use audio_tools::file::stage;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// `checkpoint.json`: the metadata and the CRC-32 (IEEE) of the safetensors file's bytes.
#[derive(Serialize)]
struct Sidecar<'a, M> {
    #[serde(flatten)]
    meta: &'a M,
    safetensors_crc32: u32,
}

/// The checksum a `checkpoint.json` records (none in one written before checksums).
#[derive(Deserialize)]
struct Recorded {
    #[serde(default)]
    safetensors_crc32: Option<u32>,
}

/// The JSON beside a safetensors file: `checkpoint.safetensors` → `checkpoint.json`.
pub fn sidecar_of(file: &Path) -> PathBuf {
    file.with_extension("json")
}

/// The previous save of `file`: `checkpoint.safetensors` → `checkpoint.prev.safetensors`.
pub fn previous_of(file: &Path) -> PathBuf {
    let stem = file.file_stem().map_or_else(|| "checkpoint".into(), |s| s.to_string_lossy().into_owned());
    let ext = file.extension().map_or_else(String::new, |e| format!(".{}", e.to_string_lossy()));
    file.with_file_name(format!("{stem}.prev{ext}"))
}

/// Writes the safetensors bytes to `file` and `meta` with their checksum to its JSON, keeping
/// the previous pair as `*.prev.*`. Both are staged and the previous pair kept before either is
/// replaced, so an interruption leaves at least one of the two pairs matching its checksum.
pub fn save<M: Serialize>(file: &Path, bytes: &[u8], meta: &M) -> anyhow::Result<()> {
    let json = serde_json::to_string_pretty(&Sidecar { meta, safetensors_crc32: crc32fast::hash(bytes) })?;
    let side = sidecar_of(file);
    let (st, js) = (stage(file, bytes)?, stage(&side, json.as_bytes())?);
    st.keep_previous(&previous_of(file))?;
    js.keep_previous(&previous_of(&side))?;
    st.commit()?;
    js.commit()?;
    Ok(())
}

/// Reads `file`, checks that it is no model blob and that it matches the checksum its JSON
/// records (a warning on stderr when none is recorded).
pub fn read_verified(file: &Path) -> anyhow::Result<Vec<u8>> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    if bytes.starts_with(&runtime::format::MAGIC) {
        return Err(CheckpointError::IsBlob(file.to_path_buf()).into());
    }
    match recorded_crc(file)? {
        Some(expected) => {
            let found = crc32fast::hash(&bytes);
            if found != expected {
                return Err(CheckpointError::Checksum { path: file.to_path_buf(), expected, found }.into());
            }
        }
        None => eprintln!(
            "warning: {}: no checksum recorded in {} (written by an older trainer, or the JSON is missing): not verified",
            file.display(),
            sidecar_of(file).display()
        ),
    }
    Ok(bytes)
}

/// The checksum `file`'s JSON records, if it exists and records one.
fn recorded_crc(file: &Path) -> anyhow::Result<Option<u32>> {
    let side = sidecar_of(file);
    let text = match std::fs::read_to_string(&side) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => anyhow::bail!("cannot read {}: {e}", side.display()),
    };
    let s: Recorded = serde_json::from_str(&text)
        .map_err(|e| CheckpointError::BadSidecar { path: side.clone(), error: e.to_string() })?;
    Ok(s.safetensors_crc32)
}
