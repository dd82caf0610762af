//! Regenerates data/clip/{clean,noisy}.wav and ATTRIBUTION from the Debian packages.
fn main() -> anyhow::Result<()> {
    let dir = std::env::args()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| host_tests::repo_root().join("data/clip"));
    let what = host_tests::clip::make_clip(&dir)?;
    println!("wrote {}: {what}", dir.display());
    Ok(())
}
