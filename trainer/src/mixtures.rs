//! The held-out test set as files, and the score of any denoiser's output on it. `trainer
//! mixtures` writes `eval`'s test mixtures at a rate (`clean/NAME.wav`, `noisy/NAME.wav`, and
//! `mixtures.csv`: `name,kind,snr_db,rate`) for tools outside the project (scripts/compare/);
//! `trainer score` reads a directory of denoised `NAME.wav` files and measures them with the
//! project's one SI-SDR (`audio_tools::si_sdr`), per file and as `eval`'s report.

use crate::cli::{MixturesArgs, ScoreArgs};
use crate::data::Mixture;
use crate::eval::{self, EvalReport};
use crate::features::Stft;
use crate::noise::NoiseType;
use anyhow::{bail, Context, Result};
use audio_tools::{read_f32, si_sdr, write_f32};
use clap::ValueEnum;
use serde::Serialize;
use std::path::Path;

/// The table of a mixtures directory.
pub const TABLE: &str = "mixtures.csv";
/// Its header line.
pub const HEADER: &str = "name,kind,snr_db,rate";

/// One row of the table.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Row {
    pub name: String,
    pub kind: NoiseType,
    pub snr_db: f32,
    pub rate: u32,
}

/// A noise kind as the command line and the table spell it.
fn kind_name(k: NoiseType) -> String {
    k.to_possible_value().map_or_else(|| format!("{k:?}").to_lowercase(), |v| v.get_name().to_string())
}

/// A mixture's file name: its index, noise kind and SNR.
fn name_of(i: usize, m: &Mixture) -> String {
    format!("{i:03}-{}-{:+}dB", kind_name(m.noise), m.snr_db)
}

/// `mixtures`: writes the test set; returns the rows written.
pub fn write(a: &MixturesArgs) -> Result<Vec<Row>> {
    let stft = Stft::at(a.rate)?;
    let (_, mixes, fingerprint) = a.test.load(stft.rate())?;
    for sub in ["clean", "noisy"] {
        let d = a.out.join(sub);
        std::fs::create_dir_all(&d).with_context(|| format!("cannot create {}", d.display()))?;
    }
    let mut rows = Vec::with_capacity(mixes.len());
    let mut csv = format!("{HEADER}\n");
    for (i, m) in mixes.iter().enumerate() {
        let row = Row { name: name_of(i, m), kind: m.noise, snr_db: m.snr_db, rate: a.rate };
        write_f32(&a.out.join("clean").join(format!("{}.wav", row.name)), a.rate, &m.clean)?;
        write_f32(&a.out.join("noisy").join(format!("{}.wav", row.name)), a.rate, &m.noisy)?;
        csv.push_str(&format!("{},{},{},{}\n", row.name, kind_name(m.noise), row.snr_db, row.rate));
        rows.push(row);
    }
    audio_tools::file::write_atomic(&a.out.join(TABLE), csv.as_bytes())?;
    let fp = format!("{fingerprint}\n");
    audio_tools::file::write_atomic(&a.out.join("fingerprint.txt"), fp.as_bytes())?;
    Ok(rows)
}

/// Reads the table of the mixtures directory `dir`; errors name the file and line.
pub fn read_table(dir: &Path) -> Result<Vec<Row>> {
    let path = dir.join(TABLE);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {} (write it with trainer mixtures)", path.display()))?;
    let mut lines = text.lines().enumerate();
    if lines.next().map(|(_, l)| l.trim()) != Some(HEADER) {
        bail!("{}:1: the header must be `{HEADER}`", path.display());
    }
    let mut rows = Vec::new();
    for (i, line) in lines.filter(|(_, l)| !l.trim().is_empty()) {
        let at = || format!("{}:{}", path.display(), i + 1);
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        let [name, kind, snr, rate] = f.as_slice() else { bail!("{}: 4 fields expected, got {}", at(), f.len()) };
        let kind =
            NoiseType::from_str(kind, true).map_err(|_| anyhow::anyhow!("{}: unknown noise kind {kind:?}", at()))?;
        let snr_db = snr.parse().with_context(|| format!("{}: SNR {snr:?}", at()))?;
        let rate = rate.parse().with_context(|| format!("{}: rate {rate:?}", at()))?;
        rows.push(Row { name: name.to_string(), kind, snr_db, rate });
    }
    if rows.is_empty() {
        bail!("{} lists no mixture", path.display());
    }
    Ok(rows)
}

/// One file's score.
#[derive(Clone, Debug, Serialize)]
pub struct FileScore {
    pub name: String,
    pub kind: NoiseType,
    pub snr_db: f32,
    pub si_sdr_noisy: f64,
    pub si_sdr_enhanced: f64,
    pub si_sdri: f64,
}

/// A WAV file of the set, at `rate`, of `len` samples when given.
fn read_file(path: &Path, rate: u32, len: Option<usize>) -> Result<Vec<f32>> {
    let x = read_f32(path, rate)?;
    if let Some(n) = len.filter(|&n| n != x.len()) {
        bail!("{}: {} samples, the mixture has {n}", path.display(), x.len());
    }
    Ok(x)
}

/// What `score` measured: the set's rate, every file's SI-SDR before and after, and `eval`'s
/// report of them.
#[derive(Clone, Debug, Serialize)]
pub struct Scores {
    pub rate: u32,
    pub files: Vec<FileScore>,
    pub report: EvalReport,
}

/// `score`: every file's SI-SDR before and after, and `eval`'s report of them.
pub fn score(a: &ScoreArgs) -> Result<Scores> {
    let rows = read_table(&a.mixtures)?;
    let (mut mixes, mut outs) = (Vec::with_capacity(rows.len()), Vec::with_capacity(rows.len()));
    for r in &rows {
        let file = format!("{}.wav", r.name);
        let clean = read_file(&a.mixtures.join("clean").join(&file), r.rate, None)?;
        let noisy = read_file(&a.mixtures.join("noisy").join(&file), r.rate, Some(clean.len()))?;
        outs.push(read_file(&a.enhanced.join(&file), r.rate, Some(clean.len()))?);
        mixes.push(Mixture { clean, noisy, snr_db: r.snr_db, noise: r.kind });
    }
    let mut files = Vec::with_capacity(rows.len());
    for ((r, m), y) in rows.iter().zip(&mixes).zip(&outs) {
        let (Some(a0), Some(b0)) = (si_sdr(&m.clean, &m.noisy), si_sdr(&m.clean, y)) else {
            bail!("{}: the clean file is silent", r.name);
        };
        let (name, kind, snr_db) = (r.name.clone(), r.kind, r.snr_db);
        files.push(FileScore { name, kind, snr_db, si_sdr_noisy: a0, si_sdr_enhanced: b0, si_sdri: b0 - a0 });
    }
    let mut next = outs.into_iter();
    let report = eval::evaluate(&mixes, |_| next.next().context("internal error: fewer outputs than mixtures"))?;
    Ok(Scores { rate: rows.first().map_or(0, |r| r.rate), files, report })
}

#[cfg(test)]
#[path = "mixtures_tests.rs"]
mod tests;
