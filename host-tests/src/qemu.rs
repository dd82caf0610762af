//! Builds the firmware for a target and runs it under QEMU with a timeout, then collects what
//! it wrote over semihosting: samples, per-hop counter values and the defmt log (decoded here).

use crate::footprint::{self, Footprint};
use anyhow::{anyhow, bail, Context, Result};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Which front end and model path a firmware runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumPath {
    F32,
    I8,
}

/// One firmware build and, where QEMU models the core, how to run it.
#[derive(Debug, Clone)]
pub struct Target {
    /// Short name used in reports and file names.
    pub name: &'static str,
    pub core: &'static str,
    pub triple: &'static str,
    pub path: NumPath,
    /// qemu-demo features.
    pub features: &'static str,
    /// Extra RUSTFLAGS (they replace .cargo/config.toml's for this build).
    pub rustflags: Option<&'static str>,
    /// QEMU binary and machine arguments; `None` = build only.
    pub qemu: Option<(&'static str, &'static [&'static str])>,
    /// Stated clock for the real-time factor.
    pub clock_hz: f64,
    /// RAM of the memory map (firmware/memory/*.x).
    pub ram_bytes: u64,
    /// The C example (capi/examples/m4, linked with libdqd.a) instead of qemu-demo.
    pub c_api: bool,
}

const ARM_COMMON: [&str; 8] = ["-display", "none", "-monitor", "none", "-serial", "none", "-nic", "none"];

/// A Cortex-M4F target on QEMU's mps2-an386 (80 MHz stated, 32 KiB RAM).
fn m4(name: &'static str, core: &'static str, path: NumPath, features: &'static str, c_api: bool) -> Target {
    Target {
        name,
        core,
        triple: "thumbv7em-none-eabihf",
        path,
        features,
        rustflags: None,
        qemu: Some(("qemu-system-arm", &["-machine", "mps2-an386", "-cpu", "cortex-m4"])),
        clock_hz: 80e6,
        ram_bytes: 32 * 1024,
        c_api,
    }
}

pub fn targets() -> Vec<Target> {
    vec![
        m4("m4", "Cortex-M4F (QEMU mps2-an386)", NumPath::F32, "", false),
        Target {
            name: "m7",
            core: "Cortex-M7 (QEMU mps2-an500)",
            rustflags: Some("-C target-cpu=cortex-m7"),
            qemu: Some(("qemu-system-arm", &["-machine", "mps2-an500", "-cpu", "cortex-m7"])),
            ..m4("m7", "", NumPath::F32, "", false)
        },
        m4("m4-int", "Cortex-M4F, integer path (QEMU mps2-an386)", NumPath::I8, "fixed", false),
        m4("m4-c", "Cortex-M4F, C API (QEMU mps2-an386)", NumPath::F32, "", true),
        m4("m4-c-int", "Cortex-M4F, C API, integer path (QEMU mps2-an386)", NumPath::I8, "", true),
        Target {
            name: "rv32",
            core: "RV32IMAC (QEMU sifive_e)",
            triple: "riscv32imac-unknown-none-elf",
            path: NumPath::I8,
            features: "",
            rustflags: None,
            qemu: Some(("qemu-system-riscv32", &["-machine", "sifive_e", "-bios", "none"])),
            clock_hz: 32e6,
            ram_bytes: 16 * 1024,
            c_api: false,
        },
        Target {
            name: "m0plus",
            // ARMv6-M code; QEMU models no M0+, its `microbit` (nRF51, Cortex-M0) runs the same ISA.
            core: "Cortex-M0+ build (QEMU microbit, Cortex-M0)",
            triple: "thumbv6m-none-eabi",
            path: NumPath::I8,
            features: "",
            rustflags: None,
            qemu: Some(("qemu-system-arm", &["-machine", "microbit"])),
            clock_hz: 48e6,
            ram_bytes: 16 * 1024,
            c_api: false,
        },
    ]
}

/// The target called `name`; an unknown name is an error listing the valid ones.
impl Target {
    /// Whether the Cortex-M4 timing model (`cycles`) applies: the M4 builds, f32 and integer.
    pub fn m4_timing(&self) -> bool {
        matches!(self.name, "m4" | "m4-int")
    }
}

pub fn target(name: &str) -> Result<Target> {
    targets().into_iter().find(|t| t.name == name).ok_or_else(|| {
        let names: Vec<&str> = targets().iter().map(|t| t.name).collect();
        anyhow!("unknown target {name} (valid: {})", names.join(", "))
    })
}

/// The firmware workspace.
pub fn firmware_dir() -> PathBuf {
    crate::repo_root().join("firmware")
}

/// Builds qemu-demo for `t` with `model` and `clip` in flash; returns the path of a copy of the
/// ELF that no later build overwrites. (`c_api` targets: [`crate::capi::build`].)
pub fn build(t: &Target, model: &Path, clip: &Path) -> Result<PathBuf> {
    build_pkg("qemu-demo", t, model, clip)
}

/// Serialises builds: they share target directories, and each ELF is copied away before the
/// next build may replace it.
pub(crate) static BUILD_LOCK: Mutex<()> = Mutex::new(());

/// Target directory of `t`: `firmware/target`, shared with plain `cargo build` in firmware/
/// (dependencies are compiled once per triple), except for targets with their own RUSTFLAGS,
/// which would otherwise rebuild everything at each switch.
pub fn target_dir(t: &Target) -> PathBuf {
    let base = firmware_dir().join("target");
    if t.rustflags.is_some() {
        base.join(t.name)
    } else {
        base
    }
}

/// Builds firmware package `pkg` (qemu-demo, kbench) for `t`; returns the ELF's stable copy.
pub fn build_pkg(pkg: &str, t: &Target, model: &Path, clip: &Path) -> Result<PathBuf> {
    let _lock = BUILD_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let target_dir = target_dir(t);
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(firmware_dir())
        .args(["build", "--release", "-p", pkg, "--target", t.triple])
        .env("CARGO_TARGET_DIR", &target_dir)
        .env("DQ_MODEL", model)
        .env("DQ_CLIP", clip)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    if pkg == "qemu-demo" {
        // Its defaults (every width's kernel bodies) are for a bare build; the blob says which.
        cmd.arg("--no-default-features");
    }
    let features = match pkg {
        "qemu-demo" => demo_features(t, model)?,
        _ if blob_is_wideband(model) => "wideband".into(),
        _ => String::new(),
    };
    if !features.is_empty() {
        cmd.args(["--features", &features]);
    }
    if let Some(f) = t.rustflags {
        cmd.env("RUSTFLAGS", f);
    }
    let out = cmd.output().context("cannot run cargo")?;
    if !out.status.success() {
        bail!("firmware build for {} failed:\n{}", t.name, String::from_utf8_lossy(&out.stderr));
    }
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (model, clip, t.features, t.rustflags).hash(&mut h);
    let stable = target_dir.join("elf").join(format!("{pkg}-{}-{:016x}", t.name, h.finish()));
    std::fs::create_dir_all(target_dir.join("elf"))?;
    std::fs::copy(target_dir.join(t.triple).join("release").join(pkg), &stable)
        .with_context(|| format!("cannot copy the {pkg} ELF"))?;
    check_no_runtime_panics(&stable)?;
    Ok(stable)
}

/// Fails unless no code of the runtime in `elf` can reach a panic (`scripts/panic-sites.py`:
/// every call of a `core` panic entry, with the inline chain that leads to it; needs python3 and
/// LLVM's objdump and addr2line, which `scripts/setup.sh` installs).
pub fn check_no_runtime_panics(elf: &Path) -> Result<()> {
    let script = crate::repo_root().join("scripts").join("panic-sites.py");
    let out = Command::new("python3")
        .arg(&script)
        .args(["--crate", "diffq_runtime"])
        .arg(elf)
        .output()
        .with_context(|| format!("cannot run python3 {}", script.display()))?;
    if !out.status.success() {
        bail!(
            "{}: runtime code can reach a panic, or the check could not run:\n{}{}",
            elf.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// Whether the blob at `model` has the 16 kHz front end (`runtime::Model::needs`; a blob that
/// does not parse: no).
fn blob_is_wideband(model: &Path) -> bool {
    let blob = std::fs::read(model).unwrap_or_default();
    runtime::Model::parse(&blob).is_ok_and(|m| m.needs(runtime::Feature::Wideband, runtime::Precision::Int))
}

/// qemu-demo's features for `t` and the blob at `model`: the target's, the runtime parts the blob
/// runs fastest with on `t`'s path (`runtime::Model::runs_fastest_with`: `wideband` for a 16 kHz
/// front end, its ops', the fixed-width kernels for its tensors of one width, the unrolled bodies
/// of its groups' widths and of its pair layout as the build stores it for the target),
/// `classify` for a blob whose output is class scores (a blob that does not parse is left to the
/// firmware build to report).
fn demo_features(t: &Target, model: &Path) -> Result<String> {
    let blob = std::fs::read(model).with_context(|| format!("cannot read {}", model.display()))?;
    // The blob as demo-core's build stores it for this target (qemu-demo has both pair layouts'
    // bodies, so its pair layout is the target's).
    let lanes = runtime::writer::lanes_for_target(t.triple);
    let Ok((blob, _)) = runtime::writer::relayout(&blob, lanes) else { return Ok(t.features.to_string()) };
    let Ok(m) = runtime::Model::parse(&blob) else { return Ok(t.features.to_string()) };
    let precision = match t.path {
        NumPath::F32 => runtime::Precision::F32,
        NumPath::I8 => runtime::Precision::Int,
    };
    let mut features: Vec<&str> = vec![t.features];
    features.extend(runtime::Feature::ALL.into_iter().filter(|&f| m.runs_fastest_with(f, precision)).map(|f| f.name()));
    if m.front_end().is_ok_and(|fe| fe.output == runtime::format::Output::Scores) {
        features.push("classify");
    }
    Ok(features.into_iter().filter(|f| !f.is_empty()).collect::<Vec<_>>().join(","))
}

/// Everything a QEMU run produced.
#[derive(Debug, Clone, Default)]
pub struct RunOutput {
    pub samples: Vec<i16>,
    /// Per-hop counter units (SysTick ticks / minstret), before scaling.
    pub frame_units: Vec<u32>,
    pub log: Vec<String>,
    pub console: String,
    pub wall: Duration,
}

/// Runs the demo `elf` under the target's QEMU in `work` (emptied first), killing it after
/// `timeout`, and collects its samples, per-hop counts and log.
pub fn run(t: &Target, elf_path: &Path, work: &Path, timeout: Duration) -> Result<RunOutput> {
    run_with(t, elf_path, work, timeout, &[])
}

/// [`run`] with extra QEMU arguments (e.g. `-plugin`).
pub fn run_with(t: &Target, elf_path: &Path, work: &Path, timeout: Duration, extra: &[String]) -> Result<RunOutput> {
    let (log, console, wall) = run_raw_with(t, elf_path, work, timeout, extra)?;
    let samples = raw_i16(&std::fs::read(work.join("out.raw")).context("firmware wrote no out.raw")?)?;
    let fb = std::fs::read(work.join("frames.bin")).context("firmware wrote no frames.bin")?;
    let frame_units = fb.chunks_exact(4).map(|c| u32::from_le_bytes(c.try_into().unwrap_or([0; 4]))).collect();
    Ok(RunOutput { samples, frame_units, log, console, wall })
}

/// Little-endian i16 samples from the raw byte stream the firmware writes.
fn raw_i16(bytes: &[u8]) -> Result<Vec<i16>> {
    if !bytes.len().is_multiple_of(2) {
        bail!("raw sample stream of {} bytes is not a whole number of 16-bit samples", bytes.len());
    }
    Ok(bytes.chunks_exact(2).map(|c| i16::from_le_bytes(c.try_into().unwrap_or([0; 2]))).collect())
}

/// Runs any firmware image under QEMU with a timeout; returns (decoded log, console, wall time).
/// A non-zero exit (panic, error) is an error carrying the console and the log.
pub fn run_raw(t: &Target, elf_path: &Path, work: &Path, timeout: Duration) -> Result<(Vec<String>, String, Duration)> {
    run_raw_with(t, elf_path, work, timeout, &[])
}

/// [`run_raw`] with extra QEMU arguments (e.g. `-plugin`).
pub fn run_raw_with(
    t: &Target,
    elf_path: &Path,
    work: &Path,
    timeout: Duration,
    extra: &[String],
) -> Result<(Vec<String>, String, Duration)> {
    let (bin, machine) = t.qemu.ok_or_else(|| anyhow!("{} has no QEMU machine", t.name))?;
    if work.exists() {
        std::fs::remove_dir_all(work).with_context(|| format!("cannot clear {}", work.display()))?;
    }
    std::fs::create_dir_all(work)?;
    let start = Instant::now();
    let mut child = Command::new(bin)
        .current_dir(work)
        .args(machine)
        .args(ARM_COMMON)
        .args(["-semihosting-config", "enable=on,target=native", "-icount", "shift=0", "-kernel"])
        .arg(elf_path)
        .args(extra)
        .stdin(Stdio::null())
        // Files, not pipes: a chatty firmware must not block on a full pipe and hit the timeout.
        .stdout(Stdio::from(std::fs::File::create(work.join("console.txt"))?))
        .stderr(Stdio::from(std::fs::File::create(work.join("console.err"))?))
        .spawn()
        .with_context(|| format!("cannot start {bin} (bash scripts/setup.sh installs QEMU)"))?;
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break s;
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            bail!("{} under QEMU did not finish within {timeout:?} (killed)", t.name);
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let wall = start.elapsed();
    let read = |f: &str| String::from_utf8_lossy(&std::fs::read(work.join(f)).unwrap_or_default()).into_owned();
    let console = format!("{}{}", read("console.txt"), read("console.err"));
    // The C example logs plain lines on the console; the Rust firmware, defmt frames.
    let log = if t.c_api {
        Ok(console.lines().map(String::from).collect())
    } else {
        decode_defmt(&std::fs::read(elf_path)?, &std::fs::read(work.join("defmt.bin")).unwrap_or_default())
    };
    // A crash can cut the log mid-frame: report the exit status and console first.
    let log = match log {
        Ok(l) => l,
        Err(e) if !status.success() => vec![format!("(log unreadable: {e})")],
        Err(e) => return Err(e),
    };
    if !status.success() {
        bail!("{} exited with {status} under QEMU\nconsole: {console}\nlog:\n{}", t.name, log.join("\n"));
    }
    Ok((log, console, wall))
}

/// Decodes a defmt byte stream with the ELF's string table.
pub fn decode_defmt(elf: &[u8], bytes: &[u8]) -> Result<Vec<String>> {
    let table = defmt_decoder::Table::parse(elf)?.ok_or_else(|| anyhow!("ELF has no defmt table"))?;
    let mut dec = table.new_stream_decoder();
    dec.received(bytes);
    let mut lines = Vec::new();
    loop {
        match dec.decode() {
            Ok(frame) => {
                lines.push(format!("{} {}", frame.level().map_or("-", |l| l.as_str()), frame.display_message()))
            }
            Err(defmt_decoder::DecodeError::UnexpectedEof) => break,
            Err(e) => bail!("defmt stream is corrupt: {e}"),
        }
    }
    Ok(lines)
}

/// `key=value` (numeric) from the first log line containing `marker`.
pub fn log_value(log: &[String], marker: &str, key: &str) -> Option<u64> {
    let line = log.iter().find(|l| l.contains(marker))?;
    let pat = format!("{key}=");
    let rest = line.split(&pat).nth(1)?;
    rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

/// Counter units per instruction check: (instructions, units) from the calibration line.
pub fn calibration(log: &[String]) -> Option<(u64, u64)> {
    let line = log.iter().find(|l| l.contains("calibration:"))?;
    let nums: Vec<u64> = line.split(|c: char| !c.is_ascii_digit()).filter_map(|s| s.parse().ok()).collect();
    Some((*nums.first()?, *nums.get(1)?))
}

/// Flash/RAM footprint of a built ELF.
pub fn footprint(elf_path: &Path) -> Result<Footprint> {
    let image = std::fs::read(elf_path).with_context(|| format!("cannot read {}", elf_path.display()))?;
    footprint::footprint(&image).with_context(|| format!("{}", elf_path.display()))
}
