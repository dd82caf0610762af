//! Loading a corpus: which files of the speech and noise directories serve a split (the pinned
//! manifest for the default directories, the split hash or every file otherwise), their audio
//! brought to the model's rate, and a summary of what was loaded.

use super::manifest::{self, Entry, Source, MANIFEST_PATH};
use super::{list_wavs, split_of, Split};
use crate::noise::{self, NoiseType};
use anyhow::{bail, Context, Result};
use audio_tools::convert::{decode_mono, Conversion};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Which files of the given directories serve a split.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum SplitMode {
    /// Speech by a hash of the path (80% train, 10% validation, 10% test); noise tracks named
    /// `macroform-*` train and validate, the others test.
    #[default]
    Hash,
    /// Every file, whichever split is asked for (evaluate or train on a whole folder).
    All,
}

/// Every noise kind, in the order the mixer draws them.
pub const ALL_KINDS: [NoiseType; 5] =
    [NoiseType::Recorded, NoiseType::White, NoiseType::Pink, NoiseType::Brown, NoiseType::Hum];

/// Where the data comes from and which of it is used.
#[derive(Clone, Debug, PartialEq)]
pub struct DataSel {
    pub speech: PathBuf,
    pub noise: PathBuf,
    pub split: SplitMode,
    /// Noise kinds mixed in (`Recorded`: the noise directory's tracks).
    pub kinds: Vec<NoiseType>,
}

impl DataSel {
    /// The directories, split by hash, every noise kind.
    pub fn dirs(speech: &Path, noise: &Path) -> DataSel {
        DataSel { speech: speech.into(), noise: noise.into(), split: SplitMode::Hash, kinds: ALL_KINDS.to_vec() }
    }
}

/// What one source contributed to a loaded corpus.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SourceSummary {
    pub source: &'static str,
    pub dir: PathBuf,
    /// `train`, `val`, `test`, `all` (every file), or `unused`.
    pub split: &'static str,
    pub files: usize,
    pub seconds: f64,
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
            write!(f, ", pinned by {MANIFEST_PATH}, {} unlisted ignored", self.unlisted_ignored)?;
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

/// A file of a listing and the split it serves.
struct Listed {
    rel: String,
    path: PathBuf,
    /// Size and content hash from the manifest.
    pin: Option<(u64, u64)>,
    split: Split,
}

struct Listing {
    files: Vec<Listed>,
    pinned: bool,
    unlisted: usize,
}

/// The files of `dir`: the manifest's for a default directory, otherwise every `.wav` under it
/// with its split.
fn listing(dir: &Path, source: Source) -> Result<Listing> {
    let found = list_wavs(dir, &format!("--{}", source.name()))?;
    if manifest::is_default(dir, source) {
        return pinned_listing(dir, source, &found, &manifest::pinned(source)?);
    }
    let both = manifest::has_both_sides(found.iter().map(|(r, _)| r.as_str()));
    let split = |r: &str| if source == Source::Speech { split_of(r) } else { manifest::noise_side(r, both) };
    let files = found.into_iter().map(|(rel, path)| Listed { split: split(&rel), rel, path, pin: None }).collect();
    Ok(Listing { files, pinned: false, unlisted: 0 })
}

/// The files `pins` lists under `dir` (each must be there with its size), and how many of the
/// `found` files it does not list.
fn pinned_listing(dir: &Path, source: Source, found: &[(String, PathBuf)], pins: &[Entry]) -> Result<Listing> {
    let listed: HashSet<&str> = pins.iter().map(|e| e.path.as_str()).collect();
    let unlisted = found.iter().filter(|(r, _)| !listed.contains(r.as_str())).count();
    let mut files = Vec::with_capacity(pins.len());
    for e in pins {
        let path = dir.join(&e.path);
        match std::fs::metadata(&path) {
            Ok(m) if m.len() == e.bytes => {}
            Ok(m) => bail!(
                "{}: {} bytes, {MANIFEST_PATH} lists {} bytes: the pinned default corpus changed (reinstall its \
                 package, or give other directories with --{})",
                path.display(),
                m.len(),
                e.bytes,
                source.name()
            ),
            Err(_) => bail!(
                "{}: listed in {MANIFEST_PATH} but missing (the default corpus needs the Debian packages \
                 asterisk-core-sounds-{{en,es,it}}-wav and asterisk-moh-opsound-wav; or give --{} DIR)",
                path.display(),
                source.name()
            ),
        }
        files.push(Listed { rel: e.path.clone(), path, pin: Some((e.bytes, e.hash)), split: e.split });
    }
    Ok(Listing { files, pinned: true, unlisted })
}

/// One loaded file: samples at the model's rate, (relative path, content hash), conversion.
type LoadedFile = (Vec<f32>, (String, u64), Option<Conversion>);

fn load_file(f: &Listed) -> Result<LoadedFile> {
    let bytes = std::fs::read(&f.path).with_context(|| format!("cannot read {}", f.path.display()))?;
    let hash = super::fnv1a(&bytes);
    if let Some((size, want)) = f.pin {
        if bytes.len() as u64 != size || hash != want {
            bail!(
                "{}: content hash {hash:016x}, {MANIFEST_PATH} lists {want:016x}: the pinned default corpus changed \
                 (reinstall its package, or give other directories)",
                f.path.display()
            );
        }
    }
    let (x, conv) = decode_mono(&f.path, bytes, crate::audio::SAMPLE_RATE)?;
    Ok((x, (f.rel.clone(), hash), conv))
}

/// The files of `listing` that serve `split` (every file with [`SplitMode::All`]).
fn chosen(listing: &Listing, mode: SplitMode, split: Split) -> Vec<&Listed> {
    listing.files.iter().filter(|f| mode == SplitMode::All || f.split == split).collect()
}

/// `files` thinned to at most `max` (taken evenly across the list).
fn thin<T: Copy>(files: Vec<T>, max: Option<usize>) -> Vec<T> {
    match max {
        Some(m) if m > 0 && files.len() > m => {
            let stride = files.len() as f64 / m as f64;
            (0..m).filter_map(|i| files.get((i as f64 * stride) as usize).copied()).collect()
        }
        _ => files,
    }
}

/// A loaded source: its audio, (relative path, content hash) of each file, its summary.
type Loaded = (Vec<Vec<f32>>, Vec<(String, u64)>, SourceSummary);

/// Loads `files` of `source`, leaving out silent ones: their audio, names and summary.
fn load_source(
    source: Source,
    dir: &Path,
    split: &'static str,
    listing: &Listing,
    files: &[&Listed],
) -> Result<Loaded> {
    let (mut audio, mut names, mut convs) = (Vec::new(), Vec::new(), Vec::new());
    let mut silent = 0;
    for f in files {
        let (x, name, conv) = load_file(f)?;
        convs.extend(conv);
        if source == Source::Speech && noise::rms(&x) <= 1e-4 {
            silent += 1;
            continue;
        }
        audio.push(x);
        names.push(name);
    }
    let samples: usize = audio.iter().map(Vec::len).sum();
    let summary = SourceSummary {
        source: source.name(),
        dir: dir.to_path_buf(),
        split,
        files: audio.len(),
        seconds: samples as f64 / f64::from(crate::audio::SAMPLE_RATE),
        listed: listing.files.len(),
        pinned: listing.pinned,
        unlisted_ignored: listing.unlisted,
        silent_dropped: silent,
        converted: convs.len(),
        first_conversion: convs.first().map(ToString::to_string),
    };
    Ok((audio, names, summary))
}

pub(super) fn split_label(mode: SplitMode, split: Split) -> &'static str {
    match (mode, split) {
        (SplitMode::All, _) => "all",
        (_, Split::Train) => "train",
        (_, Split::Val) => "val",
        (_, Split::Test) => "test",
    }
}

/// Speech and noise of one split, in memory.
pub struct Corpus {
    pub speech: Vec<Vec<f32>>,
    pub noise: Vec<Vec<f32>>,
    /// Vary the recorded music (speed, tilt, a second track) when mixing: training only.
    pub vary_music: bool,
    /// Noise kinds mixed in.
    pub kinds: Vec<NoiseType>,
    /// (relative path, content hash) of each speech and each noise file, in the order loaded.
    pub speech_files: Vec<(String, u64)>,
    pub noise_files: Vec<(String, u64)>,
    /// What each source contributed.
    pub summary: Vec<SourceSummary>,
}

impl Corpus {
    /// A corpus of samples already in memory: every noise kind (`Recorded` only with tracks).
    pub fn in_memory(speech: Vec<Vec<f32>>, noise: Vec<Vec<f32>>) -> Corpus {
        let kinds = ALL_KINDS.iter().copied().filter(|&k| k != NoiseType::Recorded || !noise.is_empty()).collect();
        Corpus { speech, noise, vary_music: false, kinds, speech_files: vec![], noise_files: vec![], summary: vec![] }
    }

    /// Loads the speech files of `split` (at most `max_files`, taken evenly across the sorted
    /// list) and, when `Recorded` is among the kinds, the noise tracks of its side (train and
    /// validation: the train side). An empty selection is an error that says why.
    pub fn load(sel: &DataSel, split: Split, max_files: Option<usize>) -> Result<Corpus> {
        if sel.kinds.is_empty() {
            bail!("--noise-kinds names no kind");
        }
        let label = split_label(sel.split, split);
        let sp = listing(&sel.speech, Source::Speech)?;
        let files = thin(chosen(&sp, sel.split, split), max_files);
        if files.is_empty() {
            bail!(
                "no speech file of the {label} split among the {} files under {} (files go to a split by a hash of \
                 their path: give --split all to use every file)",
                sp.files.len(),
                sel.speech.display()
            );
        }
        let (speech, speech_files, s_sum) = load_source(Source::Speech, &sel.speech, label, &sp, &files)?;
        if speech.is_empty() {
            bail!("every speech file of the {label} split under {} is silent", sel.speech.display());
        }
        let (noise, noise_files, n_sum) = if sel.kinds.contains(&NoiseType::Recorded) {
            load_noise(sel, split, label)?
        } else {
            (vec![], vec![], unused_noise(&sel.noise))
        };
        let summary = vec![s_sum, n_sum];
        for s in &summary {
            eprintln!("{s}");
        }
        let kinds = sel.kinds.clone();
        Ok(Corpus { speech, noise, vary_music: false, kinds, speech_files, noise_files, summary })
    }
}

fn load_noise(sel: &DataSel, split: Split, label: &'static str) -> Result<Loaded> {
    let nz = listing(&sel.noise, Source::Noise)?;
    let side = if split == Split::Test { Split::Test } else { Split::Train };
    let files = chosen(&nz, sel.split, side);
    if files.is_empty() {
        bail!(
            "no noise track of the {} side among the {} tracks under {} (tracks named macroform-* train, the others \
             test; without both kinds of name, a hash of the name decides): give --split all to use every track, or \
             --noise-kinds without recorded",
            if side == Split::Test { "test" } else { "training" },
            nz.files.len(),
            sel.noise.display()
        );
    }
    load_source(Source::Noise, &sel.noise, label, &nz, &files)
}

fn unused_noise(dir: &Path) -> SourceSummary {
    SourceSummary {
        source: "noise",
        dir: dir.to_path_buf(),
        split: "unused",
        files: 0,
        seconds: 0.0,
        listed: 0,
        pinned: false,
        unlisted_ignored: 0,
        silent_dropped: 0,
        converted: 0,
        first_conversion: None,
    }
}

#[cfg(test)]
#[path = "corpus_tests.rs"]
mod tests;
