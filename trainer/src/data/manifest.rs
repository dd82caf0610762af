//! The pinned default corpus: `data/manifest.tsv` (built into the binary) lists every file of the
//! default speech and noise directories the trainer uses, with its size, FNV-1a 64 content hash
//! and split, so that what else is installed there (another language's prompts) changes nothing.
//! Written by `trainer data-manifest` from the packages' folders named in [`SPEECH_FOLDERS`].

use super::{list_wavs, split_of, Split, DEFAULT_NOISE, DEFAULT_SPEECH};
use anyhow::{bail, Context, Result};
use std::fmt::Write as _;
use std::path::Path;

/// The manifest the binary was built with.
pub const MANIFEST: &str = include_str!("../../../data/manifest.tsv");
/// Where the manifest lives in the repository.
pub const MANIFEST_PATH: &str = "data/manifest.tsv";
/// The speech folders of the default corpus (Debian `asterisk-core-sounds-{en,es,it}-wav`);
/// other languages under the same root are never part of it.
pub const SPEECH_FOLDERS: [&str; 3] = ["en_US_f_Allison", "es_MX_f_Allison", "it_IT_m_Carlo"];

/// Which directory an entry lies under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Speech,
    Noise,
}

impl Source {
    pub fn name(self) -> &'static str {
        match self {
            Source::Speech => "speech",
            Source::Noise => "noise",
        }
    }
}

/// One pinned file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub source: Source,
    /// Path relative to the source's directory, `/`-separated.
    pub path: String,
    pub bytes: u64,
    pub hash: u64,
    /// Speech: its split; noise: `Train` (mixed into training and validation) or `Test`.
    pub split: Split,
}

fn split_name(s: Split) -> &'static str {
    match s {
        Split::Train => "train",
        Split::Val => "val",
        Split::Test => "test",
    }
}

fn parse_line(line: &str, n: usize) -> Result<Entry> {
    let f: Vec<&str> = line.split('\t').collect();
    let [source, path, bytes, hash, split] = f.as_slice() else {
        bail!("{MANIFEST_PATH} line {n}: expected 5 tab-separated fields, found {}", f.len());
    };
    let source = match *source {
        "speech" => Source::Speech,
        "noise" => Source::Noise,
        s => bail!("{MANIFEST_PATH} line {n}: unknown source {s:?}"),
    };
    let split = match *split {
        "train" => Split::Train,
        "val" => Split::Val,
        "test" => Split::Test,
        s => bail!("{MANIFEST_PATH} line {n}: unknown split {s:?}"),
    };
    let bytes = bytes.parse().with_context(|| format!("{MANIFEST_PATH} line {n}: size {bytes:?}"))?;
    let hash = u64::from_str_radix(hash, 16).with_context(|| format!("{MANIFEST_PATH} line {n}: hash {hash:?}"))?;
    Ok(Entry { source, path: path.to_string(), bytes, hash, split })
}

/// The entries of a manifest's text (`#` lines are comments).
pub fn parse(text: &str) -> Result<Vec<Entry>> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|(i, l)| parse_line(l, i + 1))
        .collect()
}

/// The entries of `source` in the built-in manifest, sorted by path.
pub fn pinned(source: Source) -> Result<Vec<Entry>> {
    let mut v: Vec<Entry> = parse(MANIFEST)?.into_iter().filter(|e| e.source == source).collect();
    v.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(v)
}

/// Whether `dir` is the default directory of `source` (the one the manifest pins).
pub fn is_default(dir: &Path, source: Source) -> bool {
    let default = match source {
        Source::Speech => DEFAULT_SPEECH,
        Source::Noise => DEFAULT_NOISE,
    };
    dir == Path::new(default) || dir.canonicalize().ok() == Path::new(default).canonicalize().ok()
}

/// The noise side of a track: with tracks named `macroform-*` and others present, the
/// `macroform-*` ones train and the others test; otherwise by [`split_of`] (test or not).
pub fn noise_side(rel: &str, has_both: bool) -> Split {
    let train = if has_both { is_macroform(rel) } else { split_of(rel) != Split::Test };
    if train {
        Split::Train
    } else {
        Split::Test
    }
}

pub fn is_macroform(rel: &str) -> bool {
    rel.rsplit('/').next().unwrap_or(rel).starts_with("macroform-")
}

/// Whether the tracks have both `macroform-*` names and others ([`noise_side`]'s rule).
pub fn has_both_sides<'a>(rels: impl Iterator<Item = &'a str> + Clone) -> bool {
    rels.clone().any(is_macroform) && rels.into_iter().any(|r| !is_macroform(r))
}

fn entry(source: Source, rel: &str, path: &Path, split: Split) -> Result<Entry> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(Entry { source, path: rel.to_string(), bytes: bytes.len() as u64, hash: super::fnv1a(&bytes), split })
}

/// The manifest text of the speech folders [`SPEECH_FOLDERS`] under `speech` and every track
/// under `noise`, each with today's split.
pub fn build(speech: &Path, noise: &Path) -> Result<String> {
    let mut entries = Vec::new();
    for folder in SPEECH_FOLDERS {
        for (rel, p) in list_wavs(&speech.join(folder), "--speech")? {
            let rel = format!("{folder}/{rel}");
            entries.push(entry(Source::Speech, &rel, &p, split_of(&rel))?);
        }
    }
    let tracks = list_wavs(noise, "--noise")?;
    let both = has_both_sides(tracks.iter().map(|(r, _)| r.as_str()));
    for (rel, p) in &tracks {
        entries.push(entry(Source::Noise, rel, p, noise_side(rel, both))?);
    }
    let mut out = String::from(
        "# The pinned default corpus (speech: asterisk-core-sounds-{en,es,it}-wav; noise: asterisk-moh-opsound-wav).\n\
         # Written by `trainer data-manifest`; built into the trainer. Noise tracks of the train side also serve validation.\n\
         # source\tpath\tbytes\tfnv1a64\tsplit\n",
    );
    for e in &entries {
        let _ = writeln!(out, "{}\t{}\t{}\t{:016x}\t{}", e.source.name(), e.path, e.bytes, e.hash, split_name(e.split));
    }
    Ok(out)
}

#[cfg(test)]
#[path = "manifest_tests.rs"]
mod tests;
