//! Puts the target's memory map on the linker search path as `memory.x`.
use std::path::PathBuf;

fn main() -> Result<(), String> {
    let target = std::env::var("TARGET").map_err(|e| e.to_string())?;
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").map_err(|e| e.to_string())?);
    let mem = match target.as_str() {
        "thumbv7em-none-eabihf" | "thumbv7em-none-eabi" => "mps2.x",
        "thumbv6m-none-eabi" => "m0plus.x",
        "riscv32imac-unknown-none-elf" | "riscv32imc-unknown-none-elf" => "sifive_e.x",
        t => return Err(format!("qemu-support has no memory map for target {t}")),
    };
    let src = dir.join("../memory").join(mem);
    let out = PathBuf::from(std::env::var("OUT_DIR").map_err(|e| e.to_string())?);
    std::fs::copy(&src, out.join("memory.x")).map_err(|e| format!("{}: {e}", src.display()))?;
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed={}", src.display());
    Ok(())
}
