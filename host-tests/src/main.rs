//! `cargo xtask`: the workspace's task runner (the alias is in .cargo/config.toml). Run
//! `cargo xtask --help`, or `cargo xtask TASK --help`.

use anyhow::Result;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Parser, Subcommand};
use host_tests::qemu::{self, Target};
use host_tests::{clip, default_model, demo, kbench, repo_root, report};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "xtask",
    bin_name = "cargo xtask",
    about = "diffq-embedded tasks: the firmware demo and benchmarks under QEMU, the demo clip"
)]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Denoises the demo clip with TARGET's firmware in QEMU; writes out/denoised.wav, out/report.md, out/report.json.
    Demo {
        #[arg(value_parser = target_arg(), default_value = "m4")]
        target: Target,
        #[command(flatten)]
        model: ModelArg,
    },
    /// Builds and runs every target (or those named) on the demo clip; writes DIR/bench.md, DIR/bench.json.
    Bench {
        #[arg(value_parser = target_arg(), value_name = "TARGET")]
        targets: Vec<Target>,
        #[command(flatten)]
        model: ModelArg,
        /// Output directory [default: out/ in the repository]
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Kernel instructions per MAC and the demo's per-stage cost under QEMU; writes out/kbench-TARGET.md.
    Kbench {
        #[arg(value_parser = target_arg(), default_value = "m4")]
        target: Target,
        #[command(flatten)]
        model: ModelArg,
    },
    /// Regenerates the demo clip (clean.wav, noisy.wav, ATTRIBUTION) from the Debian sound packages.
    MakeClip {
        /// Sample rate: 8000 (the WAV packages) or 16000 (the G.722 packages).
        #[arg(long, default_value = "8000", value_parser = ["8000", "16000"])]
        rate: String,
        /// Output directory [default: data/clip/ (8 kHz) or data/clip-16k/ in the repository]
        #[arg(value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

#[derive(clap::Args)]
struct ModelArg {
    /// Model blob [default: $DQ_MODEL (relative to the repository root), else models/gru16k.dqem]
    #[arg(long, value_name = "PATH")]
    model: Option<PathBuf>,
}

impl ModelArg {
    fn path(self) -> PathBuf {
        self.model.unwrap_or_else(default_model)
    }
}

/// A firmware target by name; `--help` and a wrong name list the valid ones.
fn target_arg() -> impl TypedValueParser<Value = Target> {
    let names: Vec<&'static str> = qemu::targets().iter().map(|t| t.name).collect();
    PossibleValuesParser::new(names).try_map(|name| qemu::target(&name))
}

fn run(task: Task) -> Result<()> {
    let out = repo_root().join("out");
    match task {
        Task::Demo { target, model } => {
            let md = demo::run(&target, &model.path(), &out)?;
            println!("{md}\nwrote out/denoised.wav, out/report.md, out/report.json");
        }
        Task::Bench { targets, model, out: dir } => {
            let targets = if targets.is_empty() { qemu::targets() } else { targets };
            println!("{}", report::bench(&targets, &model.path(), &dir.unwrap_or(out))?);
        }
        Task::Kbench { target, model } => println!("{}", kbench::report(&target, &model.path(), &out)?),
        Task::MakeClip { rate, dir } => {
            let rate: u32 = rate.parse()?;
            let dir = dir.unwrap_or_else(|| repo_root().join(clip::clip_dir(rate)));
            let what = clip::make_clip(&dir, rate)?;
            println!("wrote {}: {what}", dir.display());
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    // Usage errors exit with 2 (clap); task errors print their chain, without a backtrace, and exit with 1.
    match run(Cli::parse().task) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
