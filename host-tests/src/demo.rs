//! The main job: the committed model and clip through one target's firmware in QEMU, with
//! `out/denoised.wav`, `out/report.md` and `out/report.json` (`cargo xtask demo`, scripts/demo.sh).

use crate::metrics::aligned;
use crate::qemu::Target;
use crate::repo_root;
use crate::report::{self, Measurement};
use anyhow::{Context, Result};
use std::path::Path;
use std::time::Duration;

/// Builds and runs the demo on `t` with `model` and the demo clip; writes the files into `out`
/// and returns the report (markdown).
pub fn run(t: &Target, model: &Path, out: &Path) -> Result<String> {
    let blob = std::fs::read(model).with_context(|| format!("cannot read {}", model.display()))?;
    let rate = crate::clip::blob_rate(&blob)?;
    let (clip, clean) = crate::clip::clip_at(rate);
    eprintln!("building the firmware for {} and running it in QEMU...", t.core);
    let m = report::measure(t, model, &clip, &clean, &out.join("qemu"), Duration::from_secs(120))
        .with_context(|| format!("demo on {} failed", t.name))?;
    // denoised.wav lines up with noisy.wav: without the one-hop latency, as long as the input.
    let n = audio_tools::read_i16(&clip, rate)?.len();
    let denoised = aligned(&m.output, rate);
    audio_tools::write_i16(&out.join("denoised.wav"), rate, denoised.get(..n).unwrap_or(denoised))?;
    let parsed = runtime::Model::parse(&blob).map_err(|e| anyhow::anyhow!("{}: {e}", model.display()))?;
    let root = repo_root();
    let shown = model.strip_prefix(&root).unwrap_or(model);
    let mut md = summary(t, &m, shown, (blob.len(), parsed.macs_per_frame()), (n, rate));
    if let Some(c) = m.est_cycles {
        md.push_str(&format!(
            "\nEstimated Cortex-M4 cycles per frame: {c:.0} ({:.1}% of {} MHz), {:.2} per instruction: a model \
             (the M4 TRM's timings applied to the instruction profile of the frames, host-tests/src/cycles.rs), \
             not a measurement; the instruction counts above are exact.\n",
            crate::metrics::rt_factor(c.round() as u32, m.clock_mhz * 1e6) * 100.0,
            m.clock_mhz,
            c / f64::from(m.instr.unwrap_or_default().1.max(1))
        ));
    }
    md.push_str(&goals(&m));
    // The M4F demo runs the f32 path; its integer path is the one sized for the 25% goal.
    if t.name == "m4" && m.rt().is_some_and(|rt| rt.0 >= 0.25) {
        md.push_str(
            "\nThe same M4 on the integer path (same model, bit-exact with the host): `bash scripts/demo.sh m4-int`.\n",
        );
    }
    audio_tools::file::write_atomic(&out.join("report.md"), md.as_bytes())?;
    let json = serde_json::to_string_pretty(&report::to_json(std::slice::from_ref(&m)))?;
    audio_tools::file::write_atomic(&out.join("report.json"), json.as_bytes())?;
    Ok(md)
}

/// The report's first part: what ran, the quality and cost figures.
fn summary(
    t: &Target,
    m: &Measurement,
    model: &Path,
    (blob_len, macs): (usize, u64),
    (samples, rate): (usize, u32),
) -> String {
    let (instr, rt) = (m.instr.unwrap_or_default(), m.rt().unwrap_or_default());
    let stack = m.stack_hwm.unwrap_or(0);
    let sout = m.si_sdr_out.unwrap_or(f64::NAN);
    let agree = match m.max_diff_lsb {
        Some(0) => "bit-exact".to_string(),
        Some(d) => format!("max {d} LSB ({} of {} samples differ)", m.differing.unwrap_or(0), m.output.len()),
        None => "–".into(),
    };
    format!(
        "# Denoiser demo — {core}\n\n\
         model `{model}` ({blob_kb:.1} KB, {macs} MACs/frame), clip `{clip}/noisy.wav` ({secs:.2} s, {khz} kHz), \
         firmware `firmware/qemu-demo` ({path} path) under QEMU with `-icount shift=0`.\n\n\
         | | |\n|---|---|\n\
         | SI-SDR in (noisy vs clean) | {sin:.2} dB |\n\
         | SI-SDR out (QEMU firmware output) | {sout:.2} dB ({delta:+.2} dB) |\n\
         | SI-SDR out (host reference) | {shost:.2} dB |\n\
         | firmware vs host output | {agree} |\n\
         | instructions per frame (16 ms hop) min / median / max | {i0} / {i1} / {i2} |\n\
         | instructions per second of audio (median) | {ips:.1} M ({pct:.1}% of {clk} MHz) |\n\
         | real-time factor @ {clk} MHz (median / worst frame) | {rt0:.3} / {rt1:.3} |\n\
         | flash: code + blob (+ demo clip) | {code} + {blobb} (+ {clipb}) bytes |\n\
         | RAM: static + stack high-water mark | {sram} + {stack} = {ram} bytes (of {region}) |\n\
         | QEMU wall time | {wall:.2} s |\n\n\
         QEMU counts instructions, not cycles: the real-time factor assumes one instruction per cycle at {clk} MHz. \
         Instruction counts come from SysTick: a calibration loop of {ci} instructions measured {cu} ticks, i.e. 1 tick = {ipu} instructions.\n\n\
         `out/denoised.wav` is the firmware's output with its one-hop ({hop} samples) latency removed.\n",
        core = t.core,
        model = model.display(),
        blob_kb = blob_len as f64 / 1024.0,
        secs = samples as f64 / f64::from(rate),
        clip = crate::clip::clip_dir(rate),
        khz = rate / 1000,
        hop = crate::metrics::latency(rate),
        path = m.path,
        sin = m.si_sdr_in,
        delta = sout - m.si_sdr_in,
        shost = m.si_sdr_host,
        i0 = instr.0,
        i1 = instr.1,
        i2 = instr.2,
        ips = f64::from(instr.1) * 62.5 / 1e6,
        pct = rt.0 * 100.0,
        clk = m.clock_mhz,
        rt0 = rt.0,
        rt1 = rt.1,
        code = m.flash_code,
        blobb = m.flash_blob,
        clipb = m.flash_clip,
        sram = m.static_ram,
        ram = m.static_ram + stack,
        region = m.ram_region,
        wall = m.wall_s,
        ipu = m.instr_per_unit,
        ci = m.calibration.0,
        cu = m.calibration.1,
    )
}

/// The product goals, met or not.
fn goals(m: &Measurement) -> String {
    let ok = |b: bool| if b { "met" } else { "**not met**" };
    let ram = m.static_ram + m.stack_hwm.unwrap_or(0);
    let rt = m.rt().unwrap_or_default();
    format!(
        "\n## Goals\n\n| goal | measured | |\n|---|---|---|\n\
         | blob ≤ 64 KB of flash | {:.1} KB | {} |\n\
         | RAM ≤ 32 KB in total | {:.1} KB (static + stack) | {} |\n\
         | < 25% of an 80 MHz M4 (instructions per second of audio) | {:.1}% | {} |\n\
         | real time (worst frame) at {} MHz | RT {:.3} | {} |\n",
        m.flash_blob as f64 / 1024.0,
        ok(m.flash_blob <= 64 * 1024),
        ram as f64 / 1024.0,
        ok(ram <= 32 * 1024),
        rt.0 * 100.0 * m.clock_mhz / 80.0,
        ok(rt.0 * m.clock_mhz / 80.0 < 0.25),
        m.clock_mhz,
        rt.1,
        ok(rt.1 <= 1.0),
    )
}
