//! The C example (`capi/examples/m4`) as a QEMU target: `libdqd.a` built for the target's triple
//! (release, fat LTO, one codegen unit, `-C target-cpu=cortex-m4`: the Rust firmware's profile and
//! flags, firmware/Cargo.toml and firmware/.cargo/config.toml), then the example's C sources,
//! the blob and the clip compiled and linked with `arm-none-eabi-gcc` (newlib's `nosys` specs).

use crate::qemu::{NumPath, Target};
use anyhow::{bail, Context, Result};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Compiler flags of the cores the example is built for.
const M4F_FLAGS: [&str; 4] = ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"];

/// Where the staticlib with `feature` is built: one directory per path, so that neither build
/// replaces the other's `libdqd.a`.
fn target_dir(feature: &str) -> PathBuf {
    crate::repo_root().join("target/capi-embedded").join(feature)
}

/// Builds `libdqd.a` for `triple` with the one path `feature` (`f32` or `int`), as a firmware that
/// runs one path would; returns its path.
fn build_staticlib(triple: &str, feature: &str) -> Result<PathBuf> {
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(crate::repo_root())
        .args(["build", "--release", "-p", "diffq-denoise-c", "--target", triple, "--no-default-features"])
        .args(["--features", feature])
        .env("CARGO_TARGET_DIR", target_dir(feature))
        .env("CARGO_PROFILE_RELEASE_LTO", "fat")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1")
        .env("RUSTFLAGS", "-C target-cpu=cortex-m4")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .output()
        .context("cannot run cargo")?;
    if !out.status.success() {
        bail!("libdqd.a for {triple} does not build:\n{}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(target_dir(feature).join(triple).join("release/libdqd.a"))
}

/// Arena and state bytes of `t`'s path for the blob at `model`: the example's static buffers.
fn buffer_bytes(t: &Target, model: &Path) -> Result<(usize, usize)> {
    let blob = std::fs::read(model).with_context(|| format!("cannot read {}", model.display()))?;
    let m = runtime::Model::parse(&blob).map_err(|e| anyhow::anyhow!("{}: {e}", model.display()))?;
    Ok(match t.path {
        NumPath::F32 => (4 * m.f32_arena_len(), 4 * m.f32_state_len()),
        NumPath::I8 => (m.i8_arena_len(), m.i8_state_len()),
    })
}

/// Builds the C example for `t` with `model` and `clip` in flash; returns the ELF's path.
pub fn build(t: &Target, model: &Path, clip: &Path) -> Result<PathBuf> {
    if t.triple != "thumbv7em-none-eabihf" {
        bail!("the C example is built for the Cortex-M4F only, not {} ({})", t.name, t.triple);
    }
    let _lock = crate::qemu::BUILD_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let (path, feature) = match t.path {
        NumPath::F32 => ("DQD_PATH_F32", "f32"),
        NumPath::I8 => ("DQD_PATH_INT", "int"),
    };
    let lib = build_staticlib(t.triple, feature)?;
    let (arena, state) = buffer_bytes(t, model)?;
    let root = crate::repo_root();
    let src = root.join("capi/examples/m4");
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (model, clip, t.name).hash(&mut h);
    let elf_dir = target_dir(feature).join("elf");
    std::fs::create_dir_all(&elf_dir)?;
    let elf = elf_dir.join(format!("c-demo-{}-{:016x}", t.name, h.finish()));
    let out = Command::new("arm-none-eabi-gcc")
        .args(M4F_FLAGS)
        .args(["-O2", "-g", "-std=c11", "-Wall", "-Wextra", "-Werror", "-ffunction-sections", "-fdata-sections"])
        .arg(format!("-I{}", root.join("capi/include").display()))
        .arg(format!("-DDQD_EXAMPLE_PATH={path}"))
        .arg(format!("-DARENA_BYTES={arena}"))
        .arg(format!("-DSTATE_BYTES={state}"))
        .arg(format!("-DBLOB_FILE=\"{}\"", model.display()))
        .arg(format!("-DCLIP_FILE=\"{}\"", clip.display()))
        .args(["main.c", "startup.c", "semihost.c", "assets.S"].map(|f| src.join(f)))
        .arg(&lib)
        .arg("-T")
        .arg(src.join("link.ld"))
        .args(["-nostartfiles", "--specs=nosys.specs", "-Wl,--gc-sections", "-o"])
        .arg(&elf)
        .output()
        .context("cannot run arm-none-eabi-gcc (bash scripts/setup.sh installs gcc-arm-none-eabi)")?;
    if !out.status.success() {
        bail!("the C example for {} does not build:\n{}", t.name, String::from_utf8_lossy(&out.stderr));
    }
    crate::qemu::check_no_runtime_panics(&elf)?;
    Ok(elf)
}
