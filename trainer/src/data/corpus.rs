//! Loading a corpus at 8 or 16 kHz: which files of the speech and noise directories serve a split
//! (the pinned manifest of the rate for the default directories, the split hash or every file
//! otherwise), their audio brought to the rate, and a summary of what was loaded.

use super::manifest::{self, split_key, Entry, Pinned, Source};
pub use super::summary::SourceSummary;
use super::{g722, list_files, split_of, Split};
use crate::noise::{self, NoiseType};
use anyhow::{bail, Context, Result};
use audio_tools::convert::{decode_mono, Conversion};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
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

/// The noise kinds of the 8 kHz default recipe, in the order the mixer draws them.
pub const ALL_KINDS: [NoiseType; 5] =
    [NoiseType::Recorded, NoiseType::White, NoiseType::Pink, NoiseType::Brown, NoiseType::Hum];

/// Every noise kind, in the order the mixer draws them: music, babble, stationary and
/// non-stationary synthetic noise.
pub const WIDEBAND_KINDS: [NoiseType; 11] = [
    NoiseType::Recorded,
    NoiseType::White,
    NoiseType::Pink,
    NoiseType::Brown,
    NoiseType::Hum,
    NoiseType::Babble,
    NoiseType::Fan,
    NoiseType::Keyboard,
    NoiseType::Dishes,
    NoiseType::Door,
    NoiseType::Traffic,
];

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

/// A file of a listing and the split it serves.
struct Listed {
    rel: String,
    path: PathBuf,
    /// Size and content hash from the manifest, and the manifest.
    pin: Option<(u64, u64, &'static str)>,
    split: Split,
}

struct Listing {
    files: Vec<Listed>,
    pinned: bool,
    unlisted: usize,
}

/// The audio files under `dir` read at `rate`: `.wav` at 8 kHz; at 16 kHz `.g722` too, a `.g722`
/// standing for the `.wav` of the same name.
fn audio_files(dir: &Path, source: Source, rate: u32) -> Result<Vec<(String, PathBuf)>> {
    let flag = format!("--{}", source.name());
    if rate != g722::RATE {
        return list_files(dir, &flag, &["wav"]);
    }
    let mut by_key: BTreeMap<String, (String, PathBuf)> = BTreeMap::new();
    for (rel, path) in list_files(dir, &flag, &["wav", g722::EXT])? {
        let key = split_key(&rel);
        if g722::is_g722(&path) || !by_key.contains_key(&key) {
            by_key.insert(key, (rel, path));
        }
    }
    let mut files: Vec<(String, PathBuf)> = by_key.into_values().collect();
    files.sort();
    Ok(files)
}

/// The files of `dir` at `rate`: the rate's manifest's for a default directory, otherwise every
/// audio file under it with its split.
fn listing(dir: &Path, source: Source, rate: u32) -> Result<Listing> {
    let corpus = Pinned::for_rate(rate)?;
    let found = audio_files(dir, source, rate)?;
    if manifest::is_default(dir, source) {
        return pinned_listing(dir, source, &found, &manifest::pinned(&corpus, source)?, &corpus);
    }
    let both = manifest::has_both_sides(found.iter().map(|(r, _)| r.as_str()));
    let split =
        |r: &str| if source == Source::Speech { split_of(&split_key(r)) } else { manifest::noise_side(r, both) };
    let files = found.into_iter().map(|(rel, path)| Listed { split: split(&rel), rel, path, pin: None }).collect();
    Ok(Listing { files, pinned: false, unlisted: 0 })
}

/// The files `pins` (of `corpus`) lists under `dir` (each must be there with its size), and how
/// many of the `found` files it does not list.
fn pinned_listing(
    dir: &Path,
    source: Source,
    found: &[(String, PathBuf)],
    pins: &[Entry],
    corpus: &Pinned,
) -> Result<Listing> {
    let listed: HashSet<&str> = pins.iter().map(|e| e.path.as_str()).collect();
    let unlisted = found.iter().filter(|(r, _)| !listed.contains(r.as_str())).count();
    let mut files = Vec::with_capacity(pins.len());
    for e in pins {
        let path = dir.join(&e.path);
        match std::fs::metadata(&path) {
            Ok(m) if m.len() == e.bytes => {}
            Ok(m) => bail!(
                "{}: {} bytes, {} lists {} bytes: the pinned default corpus changed (reinstall its package, or give \
                 other directories with --{})",
                path.display(),
                m.len(),
                corpus.path,
                e.bytes,
                source.name()
            ),
            Err(_) => bail!(
                "{}: listed in {} but missing (the default corpus at {} Hz needs the Debian packages {}; or give --{} \
                 DIR)",
                path.display(),
                corpus.path,
                corpus.rate,
                corpus.packages,
                source.name()
            ),
        }
        files.push(Listed { rel: e.path.clone(), path, pin: Some((e.bytes, e.hash, corpus.path)), split: e.split });
    }
    Ok(Listing { files, pinned: true, unlisted })
}

/// One loaded file: samples at the rate, (relative path, content hash), conversion.
type LoadedFile = (Vec<f32>, (String, u64), Option<Conversion>);

fn load_file(f: &Listed, rate: u32) -> Result<LoadedFile> {
    let bytes = std::fs::read(&f.path).with_context(|| format!("cannot read {}", f.path.display()))?;
    let hash = super::fnv1a(&bytes);
    if let Some((size, want, manifest)) = f.pin {
        if bytes.len() as u64 != size || hash != want {
            bail!(
                "{}: content hash {hash:016x}, {manifest} lists {want:016x}: the pinned default corpus changed \
                 (reinstall its package, or give other directories)",
                f.path.display()
            );
        }
    }
    let (x, conv) = if g722::is_g722(&f.path) {
        g722::decode_at(&f.path, &bytes, rate)?
    } else {
        decode_mono(&f.path, bytes, rate)?
    };
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

/// Loads `files` of `source` at `rate` (decoded in parallel, kept in order), leaving out silent
/// ones: their audio, names and summary.
fn load_source(
    source: Source,
    dir: &Path,
    split: &'static str,
    listing: &Listing,
    files: &[&Listed],
    rate: u32,
) -> Result<Loaded> {
    let (mut audio, mut names, mut convs) = (Vec::new(), Vec::new(), Vec::new());
    let mut silent = 0;
    let loaded: Vec<LoadedFile> = files.par_iter().map(|f| load_file(f, rate)).collect::<Result<_>>()?;
    for (x, name, conv) in loaded {
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
        seconds: samples as f64 / f64::from(rate),
        rate,
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
    /// The rate of every sample below (8000 or 16000).
    pub rate: u32,
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
    /// A corpus of samples already in memory at the model's rate: the kinds of [`ALL_KINDS`]
    /// (`Recorded` only with tracks).
    pub fn in_memory(speech: Vec<Vec<f32>>, noise: Vec<Vec<f32>>) -> Corpus {
        let kinds = ALL_KINDS.iter().copied().filter(|&k| k != NoiseType::Recorded || !noise.is_empty()).collect();
        let rate = crate::audio::SAMPLE_RATE;
        Corpus {
            rate,
            speech,
            noise,
            vary_music: false,
            kinds,
            speech_files: vec![],
            noise_files: vec![],
            summary: vec![],
        }
    }

    /// [`Corpus::load_at`] the model's rate.
    pub fn load(sel: &DataSel, split: Split, max_files: Option<usize>) -> Result<Corpus> {
        Corpus::load_at(sel, split, max_files, crate::audio::SAMPLE_RATE)
    }

    /// Loads, at `rate` (8000: the WAV corpus; 16000: the G.722 one, `.g722` files preferred to
    /// `.wav` ones of the same name elsewhere), the speech files of `split` (at most `max_files`,
    /// taken evenly across the sorted list) and, when `Recorded` is among the kinds, the noise
    /// tracks of its side (train and validation: the train side). An empty selection is an error
    /// that says why.
    pub fn load_at(sel: &DataSel, split: Split, max_files: Option<usize>, rate: u32) -> Result<Corpus> {
        if sel.kinds.is_empty() {
            bail!("--noise-kinds names no kind");
        }
        let label = split_label(sel.split, split);
        let sp = listing(&sel.speech, Source::Speech, rate)?;
        let files = thin(chosen(&sp, sel.split, split), max_files);
        if files.is_empty() {
            bail!(
                "no speech file of the {label} split among the {} files under {} (files go to a split by a hash of \
                 their path: give --split all to use every file)",
                sp.files.len(),
                sel.speech.display()
            );
        }
        let (speech, speech_files, s_sum) = load_source(Source::Speech, &sel.speech, label, &sp, &files, rate)?;
        if speech.is_empty() {
            bail!("every speech file of the {label} split under {} is silent", sel.speech.display());
        }
        let (noise, noise_files, n_sum) = if sel.kinds.contains(&NoiseType::Recorded) {
            load_noise(sel, split, label, rate)?
        } else {
            (vec![], vec![], unused_noise(&sel.noise, rate))
        };
        let summary = vec![s_sum, n_sum];
        for s in &summary {
            eprintln!("{s}");
        }
        let kinds = sel.kinds.clone();
        Ok(Corpus { rate, speech, noise, vary_music: false, kinds, speech_files, noise_files, summary })
    }
}

fn load_noise(sel: &DataSel, split: Split, label: &'static str, rate: u32) -> Result<Loaded> {
    let nz = listing(&sel.noise, Source::Noise, rate)?;
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
    load_source(Source::Noise, &sel.noise, label, &nz, &files, rate)
}

fn unused_noise(dir: &Path, rate: u32) -> SourceSummary {
    SourceSummary {
        source: "noise",
        dir: dir.to_path_buf(),
        split: "unused",
        files: 0,
        seconds: 0.0,
        rate,
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
