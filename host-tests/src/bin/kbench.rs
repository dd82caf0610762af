//! Prints (and writes out/kbench.md) the kernel instructions-per-MAC table from firmware/kbench
//! under QEMU, M4 by default; `kbench rv32` for the RISC-V integer path.
use anyhow::Result;
use host_tests::{default_model, kbench, qemu, repo_root};

fn main() -> Result<()> {
    let root = repo_root();
    let name = std::env::args().nth(1).unwrap_or_else(|| "m4".into());
    let t = qemu::target(&name)?;
    let (rows, stages) =
        kbench::run(&t, &default_model(), &root.join("data/clip/noisy.wav"), &root.join("out/qemu/kbench"))?;
    let md = format!(
        "# Kernel benchmarks — {}\n\n{}\n## Demo frame by stage (instructions per frame, model `{}`)\n\n{stages}",
        t.core,
        kbench::table(&rows, t.name == "m4"),
        default_model().display()
    );
    std::fs::create_dir_all(root.join("out"))?;
    std::fs::write(root.join(format!("out/kbench-{name}.md")), &md)?;
    println!("{md}");
    Ok(())
}
