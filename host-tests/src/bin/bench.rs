//! Builds every firmware target, runs the QEMU ones, and writes out/bench.json + out/bench.md.
//! Usage: bench [--model PATH] [--out DIR] [TARGET...]
use anyhow::Result;
use host_tests::{qemu, repo_root, report};
use std::path::PathBuf;
use std::time::Duration;

fn main() -> Result<()> {
    let root = repo_root();
    let mut model = host_tests::default_model();
    let mut out = root.join("out");
    let mut names = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--model" => model = PathBuf::from(args.next().unwrap_or_default()),
            "--out" => out = PathBuf::from(args.next().unwrap_or_default()),
            _ => names.push(a),
        }
    }
    let targets = if names.is_empty() {
        qemu::targets()
    } else {
        names.iter().map(|n| qemu::target(n)).collect::<Result<_>>()?
    };
    let (clip, clean) = (root.join("data/clip/noisy.wav"), root.join("data/clip/clean.wav"));
    let mut ms = Vec::new();
    for t in &targets {
        eprintln!("== {} ({})", t.name, t.core);
        let m = report::measure(t, &model, &clip, &clean, &out.join("qemu"), Duration::from_secs(120))?;
        ms.push(m);
    }
    std::fs::create_dir_all(&out)?;
    let md = format!("# Firmware benchmark\n\nmodel: `{}`\n\n{}", model.display(), report::markdown(&ms));
    std::fs::write(out.join("bench.md"), &md)?;
    std::fs::write(out.join("bench.json"), serde_json::to_string_pretty(&report::to_json(&ms))?)?;
    println!("{md}");
    Ok(())
}
