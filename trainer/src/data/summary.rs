//! What one source contributed to a loaded corpus, as the line each loading command prints.

use super::manifest::{Pinned, MANIFEST_PATH};
use serde::Serialize;
use std::path::PathBuf;

/// What one source contributed to a loaded corpus.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SourceSummary {
    pub source: &'static str,
    pub dir: PathBuf,
    /// `train`, `val`, `test`, `all` (every file), or `unused`.
    pub split: &'static str,
    pub files: usize,
    pub seconds: f64,
    /// The rate the files were brought to.
    pub rate: u32,
    /// Files the listing (the manifest, or the directory) holds, of every split.
    pub listed: usize,
    /// Pinned by the manifest built into the trainer.
    pub pinned: bool,
    /// `.wav` files in a pinned directory that the manifest does not list (not used).
    pub unlisted_ignored: usize,
    /// Silent files left out.
    pub silent_dropped: usize,
    /// Files converted to mono at the model's rate, and the first such conversion.
    pub converted: usize,
    pub first_conversion: Option<String>,
}

impl std::fmt::Display for SourceSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.split == "unused" {
            return write!(f, "{}: not used (--noise-kinds without recorded)", self.source);
        }
        let of = if self.split == "all" { "all".to_string() } else { format!("{} split", self.split) };
        write!(f, "{}: {} files, {:.1} s ({of} of {} listed", self.source, self.files, self.seconds, self.listed)?;
        if self.pinned {
            let manifest = Pinned::for_rate(self.rate).map_or(MANIFEST_PATH, |p| p.path);
            write!(f, ", pinned by {manifest}, {} unlisted ignored", self.unlisted_ignored)?;
        }
        write!(f, ") under {}", self.dir.display())?;
        if self.silent_dropped > 0 {
            write!(f, "; {} silent files left out", self.silent_dropped)?;
        }
        if let Some(c) = &self.first_conversion {
            write!(f, "; {} converted ({c}{})", self.converted, if self.converted > 1 { ", …" } else { "" })?;
        }
        Ok(())
    }
}
