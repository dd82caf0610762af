//! The pinned default corpora: `data/manifest.tsv` (8 kHz WAV) and `data/manifest-16k.tsv`
//! (16 kHz G.722), built into the binary, list every file of the default speech and noise
//! directories the trainer uses at that rate, with its size, FNV-1a 64 content hash and split, so
//! that what else is installed there (another language's prompts, the other rate's files) changes
//! nothing. Written by `trainer data-manifest` from the packages' folders named in
//! [`SPEECH_FOLDERS`].

use super::{list_files, split_of, Split, DEFAULT_NOISE, DEFAULT_SPEECH};
use anyhow::{bail, Context, Result};
use std::fmt::Write as _;
use std::path::Path;

/// Where the 8 kHz manifest lives in the repository.
pub const MANIFEST_PATH: &str = "data/manifest.tsv";
/// The speech folders of the default corpus (Debian `asterisk-core-sounds-{en,es,it}-{wav,g722}`);
/// other languages under the same root are never part of it.
pub const SPEECH_FOLDERS: [&str; 3] = ["en_US_f_Allison", "es_MX_f_Allison", "it_IT_m_Carlo"];

/// One pinned default corpus: the same prompts and tracks in one encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pinned {
    /// Where its manifest lives in the repository.
    pub path: &'static str,
    /// The manifest the binary was built with.
    pub text: &'static str,
    /// The extension of its files.
    pub ext: &'static str,
    /// The rate its files hold.
    pub rate: u32,
    /// The Debian packages that install it.
    pub packages: &'static str,
}

/// The 8 kHz corpus: 16-bit WAV.
pub const NARROWBAND: Pinned = Pinned {
    path: MANIFEST_PATH,
    text: include_str!("../../../data/manifest.tsv"),
    ext: "wav",
    rate: 8000,
    packages: "asterisk-core-sounds-{en,es,it}-wav and asterisk-moh-opsound-wav",
};

/// The 16 kHz corpus: G.722 at 64 kbit/s (the same recordings as [`NARROWBAND`]).
pub const WIDEBAND: Pinned = Pinned {
    path: "data/manifest-16k.tsv",
    text: include_str!("../../../data/manifest-16k.tsv"),
    ext: super::g722::EXT,
    rate: super::g722::RATE,
    packages: "asterisk-core-sounds-{en,es,it}-g722 and asterisk-moh-opsound-g722",
};

impl Pinned {
    /// The pinned corpus of a sample rate (8000 or 16000).
    pub fn for_rate(rate: u32) -> Result<Pinned> {
        match rate {
            8000 => Ok(NARROWBAND),
            16_000 => Ok(WIDEBAND),
            r => bail!("no pinned corpus at {r} Hz (8000: {}; 16000: {})", NARROWBAND.path, WIDEBAND.path),
        }
    }
}

/// The path a file's split is drawn from: a G.722 file takes the split of the WAV of the same
/// prompt (`a/b.g722` → `a/b.wav`), so both rates split the prompts alike.
pub fn split_key(rel: &str) -> String {
    match rel.rsplit_once('.') {
        Some((stem, ext)) if ext.eq_ignore_ascii_case(super::g722::EXT) => format!("{stem}.wav"),
        _ => rel.to_string(),
    }
}

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
        bail!("manifest line {n}: expected 5 tab-separated fields, found {}", f.len());
    };
    let source = match *source {
        "speech" => Source::Speech,
        "noise" => Source::Noise,
        s => bail!("manifest line {n}: unknown source {s:?}"),
    };
    let split = match *split {
        "train" => Split::Train,
        "val" => Split::Val,
        "test" => Split::Test,
        s => bail!("manifest line {n}: unknown split {s:?}"),
    };
    let bytes = bytes.parse().with_context(|| format!("manifest line {n}: size {bytes:?}"))?;
    let hash = u64::from_str_radix(hash, 16).with_context(|| format!("manifest line {n}: hash {hash:?}"))?;
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

/// The entries of `source` in the built-in manifest of `corpus`, sorted by path.
pub fn pinned(corpus: &Pinned, source: Source) -> Result<Vec<Entry>> {
    let all = parse(corpus.text).with_context(|| format!("the built-in {}", corpus.path))?;
    let mut v: Vec<Entry> = all.into_iter().filter(|e| e.source == source).collect();
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
/// `macroform-*` ones train and the others test; otherwise by [`split_of`] of its [`split_key`]
/// (test or not).
pub fn noise_side(rel: &str, has_both: bool) -> Split {
    let train = if has_both { is_macroform(rel) } else { split_of(&split_key(rel)) != Split::Test };
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

/// The manifest text of `corpus`: its files in the speech folders [`SPEECH_FOLDERS`] under
/// `speech` and every track under `noise`, each with today's split.
pub fn build(corpus: &Pinned, speech: &Path, noise: &Path) -> Result<String> {
    let mut entries = Vec::new();
    for folder in SPEECH_FOLDERS {
        for (rel, p) in list_files(&speech.join(folder), "--speech", &[corpus.ext])? {
            let rel = format!("{folder}/{rel}");
            entries.push(entry(Source::Speech, &rel, &p, split_of(&split_key(&rel)))?);
        }
    }
    let tracks = list_files(noise, "--noise", &[corpus.ext])?;
    let both = has_both_sides(tracks.iter().map(|(r, _)| r.as_str()));
    for (rel, p) in &tracks {
        entries.push(entry(Source::Noise, rel, p, noise_side(rel, both))?);
    }
    let mut out = format!(
        "# The pinned default corpus at {} Hz (Debian {}).\n\
         # Written by `trainer data-manifest --rate {}`; built into the trainer. Noise tracks of the train side also \
         serve validation.\n",
        corpus.rate, corpus.packages, corpus.rate
    );
    out.push_str(ATTRIBUTION);
    out.push_str("# source\tpath\tbytes\tfnv1a64\tsplit\n");
    for e in &entries {
        let _ = writeln!(out, "{}\t{}\t{}\t{:016x}\t{}", e.source.name(), e.path, e.bytes, e.hash, split_name(e.split));
    }
    Ok(out)
}

/// The sources and licences of the files a manifest lists (the Debian packages' copyright files).
const ATTRIBUTION: &str = "\
# Prompts: en_US_f_Allison, es_MX_f_Allison: Allison Smith, (C) 2003-2010, CC-BY-SA-3.0; it_IT_m_Carlo:\n\
#   Carlo Flora, (C) 2012, translated by Silvia Petrin, CC-BY-3.0 (Asterisk core sounds, Digium, Inc.).\n\
# Music on hold (opsound), CC-BY-SA-3.0: macroform-*: Paul Shuler (Macroform), (C) 2009;\n\
#   manolo_camp-morning_coffee: Manolo Camp, (C) 2009; reno_project-system: Reno Project, (C) 2008.\n";

#[cfg(test)]
#[path = "manifest_tests.rs"]
mod tests;
