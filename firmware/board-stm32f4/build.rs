//! memory.x for the STM32F411, the linker scripts (cortex-m-rt, defmt) and identical code folding.
use std::path::PathBuf;

fn main() -> Result<(), String> {
    let out = PathBuf::from(std::env::var("OUT_DIR").map_err(|e| e.to_string())?);
    std::fs::write(out.join("memory.x"), include_bytes!("memory.x")).map_err(|e| e.to_string())?;
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory.x");
    println!("cargo:rustc-link-arg=-Tlink.x");
    println!("cargo:rustc-link-arg=-Tdefmt.x");
    // Identical functions folded into one (the linker's ICF): the same code, fewer bytes of flash
    // (defmt's strings are symbols outside flash, which ICF leaves alone).
    println!("cargo:rustc-link-arg=--icf=all");
    Ok(())
}
