//! Kernel micro-benchmark results (firmware/kbench) as tables of instructions per MAC, next to
//! ARM CMSIS-NN on the same QEMU M4 (REFERENCES.md). QEMU counts instructions, not cycles; every
//! run is profiled (`profile`: the model's layers get their own instruction counts), and on the
//! M4 every figure also gets an **estimated** Cortex-M4 cycle count (`cycles`) beside the exact
//! instruction count.

use crate::cycles::Estimate;
use crate::profile;
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
    /// The profile segment the firmware marked for it.
    pub seg: Option<u32>,
}

/// Estimated cycles per instruction of each profile segment (M4 runs only; empty otherwise).
pub type Cpi = BTreeMap<u32, Estimate>;

fn field<'a>(line: &'a str, key: &str, next: Option<&str>) -> Option<&'a str> {
    let start = line.find(&format!("{key}="))? + key.len() + 1;
    let rest = line.get(start..)?;
    let end = match next {
        Some(n) => rest.find(&format!(" {n}="))?,
        None => rest.find(' ').unwrap_or(rest.len()),
    };
    rest.get(..end)
}

fn num(l: &str, k: &str) -> Option<u64> {
    field(l, k, None).and_then(|v| v.parse::<u64>().ok())
}

/// Parses the `bench ...` lines of a decoded kbench log, scaling counter units by `ratio`.
pub fn parse(log: &[String], ratio: f64) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for l in log.iter().filter(|l| l.contains("bench shape=")) {
        let need = |k: &str| num(l, k).ok_or_else(|| anyhow!("bad line: {l}"));
        rows.push(Row {
            shape: field(l, "shape", Some("bits")).ok_or_else(|| anyhow!("bad line: {l}"))?.to_string(),
            bits: field(l, "bits", None).unwrap_or("?").to_string(),
            path: field(l, "path", None).unwrap_or("?").to_string(),
            macs: need("macs")?,
            instructions: (need("units")? as f64 * ratio).round() as u64,
            seg: num(l, "seg").map(|s| s as u32),
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
        s if s.starts_with("conv 64x64") => "int8 conv 1.93".into(),
        _ => String::new(),
    }
}

/// `instructions` scaled by the segment's estimated cycles per instruction, if profiled.
fn est_cycles(cpi: &Cpi, seg: Option<u32>, instructions: u64) -> Option<f64> {
    cpi.get(&seg?).filter(|e| e.instructions > 0).map(|e| instructions as f64 * e.cpi())
}

/// "6.78" or, with an estimate, "6.78 / 8.12".
fn per_mac(instructions: u64, cycles: Option<f64>, macs: u64) -> String {
    let m = macs.max(1) as f64;
    match cycles {
        Some(c) => format!("{:.2} / {:.2}", instructions as f64 / m, c / m),
        None => format!("{:.2}", instructions as f64 / m),
    }
}

/// Markdown table: one row per shape × bit width, f32 and int8 columns (instructions per MAC,
/// and estimated cycles per MAC where `cpi` has the row's segment). `arm_m4`: add the CMSIS-NN
/// references (measured on the QEMU M4 only).
pub fn table(rows: &[Row], cpi: &Cpi, arm_m4: bool) -> String {
    let mut by: BTreeMap<(String, String), [Option<String>; 2]> = BTreeMap::new();
    let mut order: Vec<(String, String)> = Vec::new();
    for r in rows {
        let key = (r.shape.clone(), r.bits.clone());
        if !by.contains_key(&key) {
            order.push(key.clone());
        }
        let col = usize::from(r.path != "f32");
        if let Some(slot) = by.entry(key).or_default().get_mut(col) {
            *slot = Some(per_mac(r.instructions, est_cycles(cpi, r.seg, r.instructions), r.macs));
        }
    }
    let unit = if cpi.is_empty() { "instructions/MAC" } else { "instructions / est. cycles per MAC" };
    let mut s = format!(
        "Per MAC under QEMU (`-icount shift=0`: exact instruction counts{}), one layer through \
         `Model::step_*` (bias, requantisation and call overhead included).\n\n\
         | layer | weight bits | f32 path, {unit} | int8 path, {unit} | CMSIS-NN / C, QEMU M4, instructions/MAC |\n\
         |---|---|---|---|---|\n",
        if cpi.is_empty() { "" } else { "; cycles are a Cortex-M4 estimate, see host-tests/src/cycles.rs" }
    );
    let f = |v: &Option<String>| v.clone().unwrap_or_else(|| "–".to_string());
    for key in order {
        let [a, b] = by.get(&key).cloned().unwrap_or_default();
        let r = if arm_m4 { reference(&key.0) } else { String::new() };
        s.push_str(&format!("| {} | {} | {} | {} | {r} |\n", key.0, key.1, f(&a), f(&b)));
    }
    s
}

/// The pipeline's stages, as kbench's `stage` lines name them.
const STAGES: [&str; 5] = ["analysis", "features", "model", "mask", "synthesis"];
/// Profile segments kbench gives the model layers of one path (firmware/kbench `MAX_LAYERS`).
const MAX_LAYERS: u32 = 60;

/// Per-stage cost lines (`stage path=...`) as a table per frame: instructions, and on a profiled
/// run estimated cycles.
pub fn stages(log: &[String], ratio: f64, cpi: &Cpi) -> String {
    let mut s = String::from(
        "| path | figure | analysis | features | model | mask | synthesis | frame | model per MAC |\n\
         |---|---|---|---|---|---|---|---|---|\n",
    );
    for l in log.iter().filter(|l| l.contains("stage path=")) {
        let n = |k: &str| num(l, k).unwrap_or(0);
        let (frames, macs) = (n("frames").max(1) as f64, n("macs").max(1) as f64);
        let instr: Vec<f64> = STAGES.iter().map(|k| n(k) as f64 * ratio / frames).collect();
        let path = field(l, "path", None).unwrap_or("?");
        let mut row = |what: &str, v: &[f64]| {
            let cells: String = v.iter().map(|c| format!(" {c:.0} |")).collect();
            let model = v.get(2).copied().unwrap_or(0.0);
            s.push_str(&format!("| {path} | {what} |{cells} {:.0} | {:.2} |\n", v.iter().sum::<f64>(), model / macs));
        };
        row("instructions", &instr);
        if let (Some(first), Some(layer_segs)) = (num(l, "segs"), num(l, "layer_segs")) {
            let est: Option<Vec<f64>> = instr
                .iter()
                .enumerate()
                .map(|(i, &v)| {
                    let mut e = cpi.get(&(first as u32 + i as u32)).copied()?;
                    if STAGES.get(i) == Some(&"model") {
                        // the model stage's own segment holds the executor; its layers have theirs
                        let layers = layer_segs as u32..layer_segs as u32 + MAX_LAYERS;
                        cpi.range(layers).for_each(|(_, l)| e.add(*l));
                    }
                    (e.instructions > 0).then(|| v * e.cpi())
                })
                .collect();
            if let Some(est) = est {
                row("est. cycles", &est);
            }
        }
    }
    s
}

/// Per-layer cost of the model stage from the profile: segments `layer_segs + i`; `counts`: the
/// instructions per segment, `cpi`: the estimates (M4 runs; "–" where a segment has none).
pub fn layers(log: &[String], counts: &BTreeMap<u32, u64>, cpi: &Cpi, model: &runtime::Model) -> String {
    let mut s = String::from(
        "| path | layer | op | MACs | instructions | est. cycles | instructions/MAC | est. cycles/MAC |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for l in log.iter().filter(|l| l.contains("stage path=")) {
        let (Some(first), Some(frames)) = (num(l, "layer_segs"), num(l, "frames")) else { continue };
        let path = field(l, "path", None).unwrap_or("?");
        for i in 0..model.n_nodes() {
            let seg = first as u32 + u32::from(i);
            let (Ok(node), Some(&count)) = (model.node(i), counts.get(&seg)) else { continue };
            let (n, macs) = (count as f64 / frames as f64, model.node_macs(i));
            let c = cpi.get(&seg).map(|e| e.cycles as f64 / frames as f64);
            let pm = |v: f64| if macs > 0 { format!("{:.2}", v / macs as f64) } else { "–".into() };
            let (c_frame, c_mac) = c.map_or(("–".into(), "–".into()), |c| (format!("{c:.0}"), pm(c)));
            s.push_str(&format!(
                "| {path} | {i} | {:?} | {macs} | {n:.0} | {c_frame} | {} | {c_mac} |\n",
                node.op,
                pm(n)
            ));
        }
    }
    s
}

/// A kbench run: its bench rows, log, instruction-counter ratio, the instructions of every
/// profile segment, and their Cortex-M4 estimates (M4 runs only; empty otherwise).
pub struct Run {
    pub rows: Vec<Row>,
    pub log: Vec<String>,
    pub ratio: f64,
    pub counts: BTreeMap<u32, u64>,
    pub cpi: Cpi,
}

/// Builds and runs kbench on `t` under the instruction profiler (cycles estimated on the M4).
pub fn run(t: &Target, model: &Path, clip: &Path, work: &Path) -> Result<Run> {
    if t.c_api {
        bail!("kbench measures the Rust kernels; {} is the C example's target", t.name);
    }
    let elf = qemu::build_pkg("kbench", t, model, clip)?;
    let p = profile::run(t, &elf, work, Duration::from_secs(300))?;
    let mut counts = BTreeMap::<u32, u64>::new();
    for s in p.profile.iter().flat_map(|i| &i.segs) {
        *counts.entry(s.seg).or_default() += s.count;
    }
    let cpi = if t.name == "m4" { crate::cycles::by_segment(&p.profile) } else { Cpi::new() };
    let (instr, units) = qemu::calibration(&p.log).ok_or_else(|| anyhow!("no calibration line"))?;
    let ratio = ((instr as f64 / units.max(1) as f64) * 2.0).round().max(1.0) / 2.0;
    Ok(Run { rows: parse(&p.log, ratio)?, log: p.log, ratio, counts, cpi })
}

/// Runs kbench on `t` with `model`; writes `kbench-<target>.md` into `out` and returns it.
pub fn report(t: &Target, model: &Path, out: &Path) -> Result<String> {
    let blob = std::fs::read(model).with_context(|| format!("cannot read {}", model.display()))?;
    let (clip, _) = crate::clip::clip_for(&blob)?;
    let r = run(t, model, &clip, &out.join("qemu/kbench"))?;
    let mut md = format!(
        "# Kernel benchmarks — {}\n\n{}\n## Demo frame by stage (per frame, model `{}`)\n\n{}",
        t.core,
        table(&r.rows, &r.cpi, t.name == "m4"),
        model.display(),
        stages(&r.log, r.ratio, &r.cpi)
    );
    if !r.counts.is_empty() {
        let m = runtime::Model::parse(&blob).map_err(|e| anyhow!("{}: {e}", model.display()))?;
        let how = if r.cpi.is_empty() { "" } else { ", cycles estimated" };
        md.push_str(&format!(
            "\n## Model layers (per frame; the profile's own instruction counts{how})\n\n{}",
            layers(&r.log, &r.counts, &r.cpi, &m)
        ));
    }
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    audio_tools::file::write_atomic(&out.join(format!("kbench-{}.md", t.name)), md.as_bytes())?;
    Ok(md)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bench_lines() {
        let log = vec!["INFO bench shape=linear 256x256 bits=3 path=int8 macs=65536 units=4000 seg=1".to_string()];
        let r = parse(&log, 40.0).unwrap();
        assert_eq!(r[0].shape, "linear 256x256");
        assert_eq!(r[0].instructions, 160_000);
        assert_eq!(r[0].seg, Some(1));
        assert!(table(&r, &Cpi::new(), true).contains("| linear 256x256 | 3 | – | 2.44 | int8 FC"));
        let cpi = Cpi::from([(1, Estimate { instructions: 100, cycles: 150, interrupts: 0 })]);
        assert!(table(&r, &cpi, true).contains("| – | 2.44 / 3.66 |"), "{}", table(&r, &cpi, true));
    }

    #[test]
    fn stage_lines_become_per_frame_rows() {
        let log = vec![
            "INFO stage path=int8 frames=10 macs=1000 analysis=100 features=50 model=2000 mask=30 synthesis=70 segs=100 layer_segs=120"
                .to_string(),
        ];
        let t = stages(&log, 40.0, &Cpi::new());
        assert!(t.contains("| int8 | instructions | 400 | 200 | 8000 | 120 | 280 | 9000 | 8.00 |"), "{t}");
        let cpi: Cpi = (100..105).map(|s| (s, Estimate { instructions: 10, cycles: 20, interrupts: 0 })).collect();
        let t = stages(&log, 40.0, &cpi);
        assert!(t.contains("| int8 | est. cycles | 800 | 400 | 16000 | 240 | 560 | 18000 | 16.00 |"), "{t}");
    }
}
