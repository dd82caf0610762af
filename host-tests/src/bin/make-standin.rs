//! Writes the stand-in model (random weights, default shapes) to firmware/assets/standin.dqem:
//! 3 bits everywhere, or with `--mixed` 2–5 bits per group (to time variable-bit kernels before
//! a trained model exists). Usage: make-standin [--mixed] [OUT]
fn main() -> anyhow::Result<()> {
    let root = host_tests::repo_root();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mixed = args.iter().any(|a| a == "--mixed");
    let out = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join("firmware/assets/standin.dqem"));
    let audio = host_tests::audio::read_wav(&root.join("data/clip/noisy.wav"))?;
    let blob = host_tests::standin::standin_blob(0x5eed_d1ff, &audio, mixed)?;
    std::fs::write(&out, &blob)?;
    println!("wrote {} ({} bytes)", out.display(), blob.len());
    Ok(())
}
