//! Linker scripts: the runtime crate's `link.x` (memory map from qemu-support) and defmt's.
fn main() {
    if std::env::var("TARGET").is_ok_and(|t| t.starts_with("riscv")) {
        // riscv-rt's link.x expects the memory map (with its REGION_ALIASes) first.
        println!("cargo:rustc-link-arg=-Tmemory.x");
    }
    println!("cargo:rustc-link-arg=-Tlink.x");
    println!("cargo:rustc-link-arg=-Tdefmt.x");
}
