//! Kernel micro-benchmark results (firmware/kbench) as a table of instructions per MAC, next to
//! ARM CMSIS-NN on the same QEMU M4 (REFERENCES.md). QEMU counts instructions, not cycles.

use crate::qemu::{self, Target};
use anyhow::{anyhow, bail, Context, Result};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// One `bench` line: (shape, bits, path) → instructions per MAC.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub shape: String,
    pub bits: String,
    pub path: String,
    pub macs: u64,
    pub instructions: u64,
    /// Prototype rows: whether the output matched `Model::step_i8`.
    pub same: Option<bool>,
}

fn field<'a>(line: &'a str, key: &str, next: Option<&str>) -> Option<&'a str> {
    let start = line.find(&format!("{key}="))? + key.len() + 1;
    let rest = line.get(start..)?;
    let end = match next {
        Some(n) => rest.find(&format!(" {n}="))?,
        None => rest.find(' ').unwrap_or(rest.len()),
    };
    rest.get(..end)
}

/// Parses the `bench ...` lines of a decoded kbench log, scaling counter units by `ratio`.
pub fn parse(log: &[String], ratio: f64) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for l in log.iter().filter(|l| l.contains("bench shape=")) {
        let num =
            |k: &str| field(l, k, None).and_then(|v| v.parse::<u64>().ok()).ok_or_else(|| anyhow!("bad line: {l}"));
        rows.push(Row {
            shape: field(l, "shape", Some("bits")).ok_or_else(|| anyhow!("bad line: {l}"))?.to_string(),
            bits: field(l, "bits", None).unwrap_or("?").to_string(),
            path: field(l, "path", None).unwrap_or("?").to_string(),
            macs: num("macs")?,
            instructions: (num("units")? as f64 * ratio).round() as u64,
            same: field(l, "same", None).map(|v| v == "true"),
        });
    }
    if rows.is_empty() {
        bail!("no benchmark lines in the log");
    }
    Ok(rows)
}

/// CMSIS-NN / plain C references (instructions per MAC, QEMU M4, REFERENCES.md) per shape.
fn reference(shape: &str) -> String {
    match shape {
        "linear 256x256" => "int8 FC 2.07, int4 FC 5.07, C f32 6.04".into(),
        "linear 512x128" => "int8 FC 1.97, int4 FC 4.97".into(),
        s if s.starts_with("conv") => "int8 conv 1.93".into(),
        _ => String::new(),
    }
}

/// Markdown table: one row per shape × bit width, f32 and int8 columns.
/// `arm_m4`: add the CMSIS-NN references (measured on the QEMU M4 only).
pub fn table(rows: &[Row], arm_m4: bool) -> String {
    let mut by: BTreeMap<(String, String), [Option<String>; 3]> = BTreeMap::new();
    let mut order: Vec<(String, String)> = Vec::new();
    for r in rows {
        let key = (r.shape.clone(), r.bits.clone());
        if !by.contains_key(&key) {
            order.push(key.clone());
        }
        let e = by.entry(key).or_default();
        let mut v = format!("{:.2}", r.instructions as f64 / r.macs.max(1) as f64);
        if r.same == Some(false) {
            v.push_str(" (output MISMATCH)");
        }
        let col = match r.path.as_str() {
            "f32" => 0,
            "int8" => 1,
            _ => 2,
        };
        if let Some(slot) = e.get_mut(col) {
            *slot = Some(v);
        }
    }
    let mut s = String::from(
        "Instructions per MAC under QEMU (`-icount shift=0`; QEMU counts instructions, not \
         cycles), one layer through `Model::step_*` (bias, requantisation and call overhead included).\n\n\
         | layer | weight bits | f32 path | int8 path | CMSIS-NN / C, QEMU M4 |\n\
         |---|---|---|---|---|\n",
    );
    let f = |v: &Option<String>| v.clone().unwrap_or_else(|| "–".to_string());
    for key in order {
        let [a, b, _] = by.get(&key).cloned().unwrap_or_default();
        let r = if arm_m4 { reference(&key.0) } else { String::new() };
        s.push_str(&format!("| {} | {} | {} | {} | {r} |\n", key.0, key.1, f(&a), f(&b)));
    }
    s
}

/// The pipeline's stages, as kbench's `stage` lines name them.
const STAGES: [&str; 5] = ["analysis", "features", "model", "mask", "synthesis"];

/// Per-stage cost lines (`stage path=...`) as a small table, instructions per frame.
pub fn stages(log: &[String], ratio: f64) -> String {
    let mut s = String::from(
        "| path | analysis | features | model | mask | synthesis | frame | model instr/MAC |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for l in log.iter().filter(|l| l.contains("stage path=")) {
        let n = |k: &str| field(l, k, None).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        let frames = n("frames").max(1);
        let per = |k: &str| (n(k) as f64 * ratio / frames as f64).round() as u64;
        let cells: Vec<u64> = STAGES.iter().map(|k| per(k)).collect();
        let row: String = cells.iter().map(|c| format!(" {c} |")).collect();
        s.push_str(&format!(
            "| {} |{row} {} | {:.2} |\n",
            field(l, "path", None).unwrap_or("?"),
            cells.iter().sum::<u64>(),
            per("model") as f64 / n("macs").max(1) as f64
        ));
    }
    s
}

/// Builds and runs kbench on `t`; returns (rows, stage table).
pub fn run(t: &Target, model: &Path, clip: &Path, work: &Path) -> Result<(Vec<Row>, String)> {
    let elf = qemu::build_pkg("kbench", t, model, clip)?;
    let (log, _, _) = qemu::run_raw(t, &elf, work, Duration::from_secs(300))?;
    let (instr, units) = qemu::calibration(&log).ok_or_else(|| anyhow!("no calibration line"))?;
    let ratio = ((instr as f64 / units.max(1) as f64) * 2.0).round().max(1.0) / 2.0;
    Ok((parse(&log, ratio)?, stages(&log, ratio)))
}

/// Runs kbench on `t` with `model`; writes `kbench-<target>.md` into `out` and returns it.
pub fn report(t: &Target, model: &Path, out: &Path) -> Result<String> {
    let root = crate::repo_root();
    let (rows, stages) = run(t, model, &root.join("data/clip/noisy.wav"), &out.join("qemu/kbench"))?;
    let md = format!(
        "# Kernel benchmarks — {}\n\n{}\n## Demo frame by stage (instructions per frame, model `{}`)\n\n{stages}",
        t.core,
        table(&rows, t.name == "m4"),
        model.display()
    );
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    std::fs::write(out.join(format!("kbench-{}.md", t.name)), &md)?;
    Ok(md)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bench_lines() {
        let log = vec!["INFO bench shape=linear 256x256 bits=3 path=int8 macs=65536 units=4000".to_string()];
        let r = parse(&log, 40.0).unwrap();
        assert_eq!(r[0].shape, "linear 256x256");
        assert_eq!(r[0].instructions, 160_000);
        assert!(table(&r, true).contains("| linear 256x256 | 3 | – | 2.44 | int8 FC"));
    }

    #[test]
    fn stage_lines_become_per_frame_rows() {
        let log =
            vec!["INFO stage path=int8 frames=10 macs=1000 analysis=100 features=50 model=2000 mask=30 synthesis=70"
                .to_string()];
        let t = stages(&log, 40.0);
        assert!(t.contains("| int8 | 400 | 200 | 8000 | 120 | 280 | 9000 | 8.00 |"), "{t}");
    }
}
