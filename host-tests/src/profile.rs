//! Runs a firmware image under QEMU with the instruction profiler (`qemu-plugin/insn_profile.c`,
//! compiled here on first use with the system C compiler) and returns its per-segment profile.
//!
//! Segments are what the firmware marks with `qemu_support::profile::mark(k)`: the plugin is
//! given the address of `PROFILE_MARKS`, read from the ELF's symbol table.

use crate::cycles::{self, Insn};
use crate::qemu::{self, Target};
use anyhow::{anyhow, bail, Context, Result};
use object::{Object, ObjectSymbol};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The plugin's source, in this crate.
fn plugin_source() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("qemu-plugin/insn_profile.c")
}

/// Compiles the plugin into `target/qemu-plugin/` unless an up-to-date build is there.
pub fn plugin() -> Result<PathBuf> {
    let src = plugin_source();
    let dir = crate::repo_root().join("target/qemu-plugin");
    let so = dir.join("insn_profile.so");
    let stamp = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if stamp(&so).is_some() && stamp(&so) >= stamp(&src) {
        return Ok(so);
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let tmp = dir.join("insn_profile.so.tmp");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let out = Command::new(&cc)
        .args(["-O2", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC", "-fvisibility=hidden", "-o"])
        .arg(&tmp)
        .arg(&src)
        .output()
        .with_context(|| format!("cannot run the C compiler `{cc}` (set CC) to build the QEMU plugin"))?;
    if !out.status.success() {
        bail!("building {} failed:\n{}", src.display(), String::from_utf8_lossy(&out.stderr));
    }
    std::fs::rename(&tmp, &so).with_context(|| format!("cannot write {}", so.display()))?;
    Ok(so)
}

/// Address of the firmware's `PROFILE_MARKS` array.
pub fn marks_address(elf: &[u8]) -> Result<u64> {
    let file = object::File::parse(elf).context("not an object file")?;
    file.symbols()
        .find(|s| s.name().is_ok_and(|n| n.contains("PROFILE_MARKS")))
        .map(|s| s.address())
        .ok_or_else(|| anyhow!("the firmware has no PROFILE_MARKS symbol (qemu_support::profile)"))
}

/// The QEMU arguments that load the profiler for `elf`, writing into `work`, and the path of the
/// profile it will write.
pub fn qemu_args(elf: &Path, work: &Path) -> Result<(Vec<String>, PathBuf)> {
    let so = plugin()?;
    let marks = marks_address(&std::fs::read(elf).with_context(|| format!("cannot read {}", elf.display()))?)?;
    let out = std::path::absolute(work.join("profile.txt")).context("the working directory")?;
    Ok((vec!["-plugin".into(), format!("{},out={},marks={marks:x}", so.display(), out.display())], out))
}

/// Reads the profile a run wrote.
pub fn read(path: &Path) -> Result<Vec<Insn>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("the profiler wrote no {}", path.display()))?;
    cycles::parse_profile(&text)
}

/// A profiled run: the decoded defmt log and the instruction profile.
pub struct Profiled {
    pub log: Vec<String>,
    pub profile: Vec<Insn>,
}

/// Runs `elf` for `t` under QEMU with the profiler, in `work`.
pub fn run(t: &Target, elf: &Path, work: &Path, timeout: Duration) -> Result<Profiled> {
    let (args, out) = qemu_args(elf, work)?;
    let (log, _, _) = qemu::run_raw_with(t, elf, work, timeout, &args)?;
    Ok(Profiled { log, profile: read(&out)? })
}
