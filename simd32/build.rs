//! Sets `simd32_dsp` on targets whose cores have the Armv7E-M DSP instructions (Cortex-M4, M7:
//! `thumbv7em-*`). Stable Rust exposes no Arm architecture features to `cfg`, so the target name
//! decides, as the `cortex-m` crate does.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(simd32_dsp)");
    println!("cargo::rerun-if-changed=build.rs");
    if std::env::var("TARGET").is_ok_and(|t| t.starts_with("thumbv7em")) {
        println!("cargo::rustc-cfg=simd32_dsp");
    }
}
