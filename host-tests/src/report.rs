//! Per-target measurements: build, footprint, QEMU run, agreement with the host, and the
//! JSON + markdown tables. QEMU counts instructions, not cycles: every real-time factor here
//! assumes one instruction per clock cycle.

use crate::cycles;
use crate::flash_split::{flash_split_of, FlashSplit};
use crate::metrics::{aligned, diff, min_med_max, pcm_si_sdr, rt_factor};
use crate::qemu::{self, NumPath, Target};
use crate::reference;
use anyhow::{bail, Context, Result};
use audio_tools::read_i16;
use serde_json::json;
use std::path::Path;
use std::time::Duration;

/// f32 path tolerance against the host: the same IEEE operations run on both (no fused
/// multiply-add, same libm and FFT code), so outputs are expected to be identical; up to
/// this many LSBs of 16-bit audio are accepted in case a compiler orders a sum differently.
pub const F32_TOLERANCE_LSB: u32 = 2;

/// The profile segment qemu-demo marks its hops with.
const FRAME_SEGMENT: u32 = 0;

#[derive(Debug, Clone, Default)]
pub struct Measurement {
    pub name: String,
    pub core: String,
    pub path: String,
    pub clock_mhz: f64,
    /// Instructions per hop (min, median, max); `None` for build-only targets.
    pub instr: Option<(u32, u32, u32)>,
    /// Instructions per counter unit (SysTick at 25 MHz: 40; at 16 MHz: 62.5; minstret: 1).
    pub instr_per_unit: f64,
    pub flash_code: u64,
    pub flash_blob: u64,
    pub flash_clip: u64,
    /// `flash_code` by part: kernels, DSP, parsing, rest (`flash_split`).
    pub flash_split: FlashSplit,
    pub static_ram: u64,
    pub stack_hwm: Option<u64>,
    pub ram_region: u64,
    pub max_diff_lsb: Option<u32>,
    pub differing: Option<usize>,
    pub si_sdr_in: f64,
    pub si_sdr_out: Option<f64>,
    pub si_sdr_host: f64,
    pub macs_per_frame: u64,
    /// The firmware's output samples (empty for build-only targets).
    pub output: Vec<i16>,
    /// Calibration loop: (instructions executed, counter units measured).
    pub calibration: (u64, u64),
    /// Wall-clock time of the QEMU run.
    pub wall_s: f64,
    /// Estimated Cortex-M4 cycles per frame: the median instruction count times the frames'
    /// estimated cycles per instruction (`cycles`); M4 targets only.
    pub est_cycles: Option<f64>,
}

impl Measurement {
    pub fn rt(&self) -> Option<(f64, f64)> {
        let clock = self.clock_mhz * 1e6;
        self.instr.map(|(_, med, max)| (rt_factor(med, clock), rt_factor(max, clock)))
    }
}

/// Builds and (where QEMU models the core) runs one target on `model` + `clip`.
pub fn measure(
    t: &Target,
    model: &Path,
    clip: &Path,
    clean: &Path,
    work: &Path,
    timeout: Duration,
) -> Result<Measurement> {
    let blob = std::fs::read(model).with_context(|| format!("cannot read {}", model.display()))?;
    let rate = crate::clip::blob_rate(&blob)?;
    let noisy = read_i16(clip, rate)?;
    let clean = read_i16(clean, rate)?;
    let host = reference::denoise(&blob, &noisy, t.path)?;
    let elf = if t.c_api { crate::capi::build(t, model, clip)? } else { qemu::build(t, model, clip)? };
    let fp = qemu::footprint(&elf)?;
    let flash_clip = std::fs::metadata(clip).with_context(|| format!("cannot read {}", clip.display()))?.len();
    let flash_blob = blob.len() as u64;
    let flash_split = flash_split_of(&elf, flash_blob + flash_clip)?;
    let mut m = Measurement {
        name: t.name.into(),
        core: t.core.into(),
        path: match t.path {
            NumPath::F32 => "f32".into(),
            NumPath::I8 => "int8".into(),
        },
        clock_mhz: t.clock_hz / 1e6,
        flash_code: fp.flash.saturating_sub(flash_blob + flash_clip),
        flash_blob,
        flash_clip,
        flash_split,
        static_ram: fp.static_ram,
        ram_region: t.ram_bytes,
        si_sdr_in: pcm_si_sdr(&clean, &noisy).context("SI-SDR of the input: the clean clip is empty or silent")?,
        si_sdr_host: pcm_si_sdr(&clean, aligned(&host, rate))
            .context("SI-SDR of the host output: the clean clip is empty or silent")?,
        macs_per_frame: runtime::Model::parse(&blob).map(|m| m.macs_per_frame()).unwrap_or(0),
        ..Measurement::default()
    };
    if t.qemu.is_none() {
        return Ok(m);
    }
    let dir = work.join(t.name);
    let (out, cpi) = if t.m4_timing() {
        let (args, profile) = crate::profile::qemu_args(&elf, &dir)?;
        let out = qemu::run_with(t, &elf, &dir, timeout, &args)?;
        let frames = cycles::by_segment(&crate::profile::read(&profile)?).get(&FRAME_SEGMENT).copied();
        (out, frames.filter(|e| e.instructions > 0).map(|e| e.cpi()))
    } else {
        (qemu::run(t, &elf, &dir, timeout)?, None)
    };
    let (instr, units) = qemu::calibration(&out.log).unwrap_or((0, 0));
    if units == 0 {
        bail!("{}: no calibration line in the log:\n{}", t.name, out.log.join("\n"));
    }
    // The counter's scale must be a simple ratio (a multiple of 1/2 instruction per unit).
    let ratio = ((instr as f64 / units as f64) * 2.0).round().max(1.0) / 2.0;
    let err = (instr as f64 - ratio * units as f64).abs() / instr as f64;
    if err > 0.01 {
        bail!("{}: counter scale {instr}/{units} is not a simple ratio (error {err:.4})", t.name);
    }
    m.instr_per_unit = ratio;
    m.calibration = (instr, units);
    let per_frame: Vec<u32> = out.frame_units.iter().map(|&u| (f64::from(u) * ratio).round() as u32).collect();
    m.instr = Some(min_med_max(&per_frame));
    m.est_cycles = cpi.zip(m.instr).map(|(c, (_, med, _))| f64::from(med) * c);
    m.stack_hwm = qemu::log_value(&out.log, "done:", "stack_used");
    let (max, n) = diff(&host, &out.samples);
    m.max_diff_lsb = Some(max);
    m.differing = Some(n);
    m.si_sdr_out = pcm_si_sdr(&clean, aligned(&out.samples, rate));
    m.output = out.samples;
    m.wall_s = out.wall.as_secs_f64();
    Ok(m)
}

/// Measures every target in `targets` on `model` and the demo clip; writes `bench.md` and
/// `bench.json` into `out` and returns the markdown.
pub fn bench(targets: &[Target], model: &Path, out: &Path) -> Result<String> {
    let blob = std::fs::read(model).with_context(|| format!("cannot read {}", model.display()))?;
    let (clip, clean) = crate::clip::clip_for(&blob)?;
    let mut ms = Vec::new();
    for t in targets {
        eprintln!("== {} ({})", t.name, t.core);
        ms.push(measure(t, model, &clip, &clean, &out.join("qemu"), Duration::from_secs(120))?);
    }
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let md = format!("# Firmware benchmark\n\nmodel: `{}`\n\n{}", model.display(), markdown(&ms));
    audio_tools::file::write_atomic(&out.join("bench.md"), md.as_bytes())?;
    audio_tools::file::write_atomic(&out.join("bench.json"), serde_json::to_string_pretty(&to_json(&ms))?.as_bytes())?;
    Ok(md)
}

fn kb(b: u64) -> String {
    format!("{:.1} KB", b as f64 / 1024.0)
}

/// The markdown table (one row per target).
pub fn markdown(ms: &[Measurement]) -> String {
    let mut s = String::from(
        "QEMU counts instructions, not cycles: instructions/frame are exact instruction counts \
         (`-icount shift=0`), and the real-time factor assumes one instruction per cycle at the stated clock \
         (one frame = one 16 ms hop).\n\n\
         Estimated cycles (Cortex-M4 targets) are a model, not a measurement: the median instruction count times \
         the frames' cycles per instruction by the M4 TRM's timings (host-tests/src/cycles.rs).\n\n\
         | target | path | instructions/frame min / median / max | RT factor (median / worst) @ clock | est. cycles/frame (share of clock) | flash code + blob (+ clip) | RAM static + stack (of region) | host agreement | SI-SDR in → out |\n\
         |---|---|---|---|---|---|---|---|---|\n",
    );
    for m in ms {
        let instr = m.instr.map_or("(build only)".into(), |(a, b, c)| format!("{a} / {b} / {c}"));
        let rt = m.rt().map_or("–".into(), |(a, b)| format!("{a:.3} / {b:.3} @ {} MHz", m.clock_mhz));
        let est = m.est_cycles.map_or("–".into(), |c| {
            format!("{c:.0} ({:.1}% @ {} MHz)", rt_factor(c.round() as u32, m.clock_mhz * 1e6) * 100.0, m.clock_mhz)
        });
        let stack = m.stack_hwm.map_or("?".into(), kb);
        let agree = match (m.max_diff_lsb, m.differing) {
            (Some(0), _) => "bit-exact".to_string(),
            (Some(d), Some(n)) => format!("max {d} LSB, {n} samples differ"),
            _ => "–".into(),
        };
        let sdr = m.si_sdr_out.map_or(format!("{:.2} dB → (host {:.2} dB)", m.si_sdr_in, m.si_sdr_host), |o| {
            format!("{:.2} dB → {o:.2} dB", m.si_sdr_in)
        });
        s.push_str(&format!(
            "| {} — {} | {} | {instr} | {rt} | {est} | {} + {} (+ {}) | {} + {stack} (of {}) | {agree} | {sdr} |\n",
            m.name,
            m.core,
            m.path,
            kb(m.flash_code),
            kb(m.flash_blob),
            kb(m.flash_clip),
            kb(m.static_ram),
            kb(m.ram_region),
        ));
    }
    s.push_str(&split_table(ms));
    s
}

/// The flash code of each target by part (`flash_split`), each with its share of the code.
fn split_table(ms: &[Measurement]) -> String {
    let mut s = String::from(
        "\nFlash code split (`host-tests/src/flash_split.rs`): the code bytes above by the ELF symbols they \
         belong to. Kernels: the runtime's `kernels` module; DSP: the front end (STFT, FFTs and their tables, \
         features, masks, the hop pipeline); parsing: the blob's reader and validation; rest: everything else \
         (the model executor, start-up, semihosting and logging, `core`, libm, the application, bytes outside \
         any symbol).\n\n\
         | target | path | kernels | DSP | parsing | rest | code |\n|---|---|---:|---:|---:|---:|---:|\n",
    );
    for m in ms {
        let f = m.flash_split;
        let part = |b: u64| format!("{} ({:.0}%)", kb(b), b as f64 * 100.0 / f.total().max(1) as f64);
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            m.name,
            m.path,
            part(f.kernels),
            part(f.dsp),
            part(f.parsing),
            part(f.rest),
            kb(f.total()),
        ));
    }
    s
}

pub fn to_json(ms: &[Measurement]) -> serde_json::Value {
    let rows: Vec<_> = ms
        .iter()
        .map(|m| {
            json!({
                "target": m.name, "core": m.core, "path": m.path, "clock_mhz": m.clock_mhz,
                "macs_per_frame": m.macs_per_frame,
                "instructions_per_frame": m.instr.map(|(a, b, c)| json!({"min": a, "median": b, "max": c})),
                "instructions_per_counter_unit": m.instr_per_unit,
                "estimated_m4_cycles_per_frame": m.est_cycles,
                "calibration_loop": {"instructions": m.calibration.0, "counter_units": m.calibration.1},
                "rt_factor_median": m.rt().map(|r| r.0), "rt_factor_worst": m.rt().map(|r| r.1),
                "flash_code_bytes": m.flash_code,
                "flash_code_split_bytes": {
                    "kernels": m.flash_split.kernels, "dsp": m.flash_split.dsp,
                    "parsing": m.flash_split.parsing, "rest": m.flash_split.rest,
                },
                "flash_blob_bytes": m.flash_blob, "flash_clip_bytes": m.flash_clip,
                "static_ram_bytes": m.static_ram, "stack_hwm_bytes": m.stack_hwm, "ram_region_bytes": m.ram_region,
                "max_diff_vs_host_lsb": m.max_diff_lsb, "samples_differing_vs_host": m.differing,
                "si_sdr_in_db": m.si_sdr_in, "si_sdr_out_db": m.si_sdr_out, "si_sdr_host_db": m.si_sdr_host,
            })
        })
        .collect();
    json!({"note": "QEMU counts instructions, not cycles; RT factor assumes 1 instruction per cycle", "targets": rows})
}

/// The targets a model's host agreement is checked on: the M4 on the f32 and the integer path,
/// RV32IMAC on the integer path.
pub const AGREEMENT_TARGETS: [&str; 3] = ["m4", "m4-int", "rv32"];

/// Runs `blob` (called `name`) on the demo clip under QEMU on each of `targets` and checks it
/// against the host runtime: bit-exact on the integer paths, within [`F32_TOLERANCE_LSB`] on
/// an f32 path, in RAM (static + stack within the region). Returns one markdown row per target
/// ([`AGREEMENT_HEADER`]); the first failure is an error naming the model and the target.
pub fn host_agreement(name: &str, blob: &Path, targets: &[&str]) -> Result<Vec<String>> {
    let root = crate::repo_root();
    let bytes = std::fs::read(blob).with_context(|| format!("cannot read {}", blob.display()))?;
    let (clip, clean) = crate::clip::clip_for(&bytes)?;
    let work = root.join("target/qemu-tests/reference").join(name);
    let mut rows = Vec::new();
    for &target in targets {
        let t = qemu::target(target)?;
        let m = measure(&t, blob, &clip, &clean, &work, Duration::from_secs(180))
            .with_context(|| format!("{name} on {target}"))?;
        let diff = m.max_diff_lsb.context("no QEMU output")?;
        match t.path {
            NumPath::I8 if diff != 0 => {
                bail!("{name} on {target}: integer path must be bit-exact ({:?} samples differ)", m.differing)
            }
            NumPath::F32 if diff > F32_TOLERANCE_LSB => bail!("{name} on {target}: f32 path {diff} LSB from the host"),
            _ => {}
        }
        let stack = m.stack_hwm.context("no stack high-water mark in the log")?;
        if m.static_ram + stack > m.ram_region {
            bail!("{name} on {target}: RAM {} + {stack} over {}", m.static_ram, m.ram_region);
        }
        let (_, med, _) = m.instr.context("no instruction counts")?;
        let sdr = m.si_sdr_out.with_context(|| format!("{name} on {target}: the output is silent"))?;
        rows.push(format!(
            "| {name} | {target} | {} B | {med} | {} | {} + {stack} B | {:.2} → {sdr:.2} dB | {diff} LSB |",
            m.flash_blob,
            m.est_cycles.map_or("–".into(), |c| format!("{c:.0}")),
            m.static_ram,
            m.si_sdr_in,
        ));
    }
    Ok(rows)
}

/// The header of [`host_agreement`]'s rows.
pub const AGREEMENT_HEADER: &str = "| model | target | blob | instructions/frame | est. M4 cycles/frame | RAM static + stack | SI-SDR clip | vs host |\n|---|---|---:|---:|---:|---|---|---|";
