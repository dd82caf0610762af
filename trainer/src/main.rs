//! `trainer` binary: see `trainer --help` and trainer/README.md.

use anyhow::{bail, Context, Result};
use clap::Parser;
use std::process::ExitCode;
use trainer::cli::{Cli, Cmd, DeviceArg};
use trainer::commands;

fn device(d: DeviceArg) -> Result<candle_core::Device> {
    match d {
        DeviceArg::Cpu => Ok(candle_core::Device::Cpu),
        DeviceArg::Cuda => {
            if !candle_core::utils::cuda_is_available() {
                bail!("CUDA is not available (build with `--features cuda` on a machine with a GPU)");
            }
            candle_core::Device::new_cuda(0).context(
                "cannot open CUDA device 0: is an NVIDIA driver (>= 580 for this CUDA 13.0 build) installed and a GPU visible?",
            )
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.cmd {
        Cmd::Train(a) => {
            commands::set_threads(a.threads);
            let dev = device(a.device)?;
            commands::train(*a, dev)?;
        }
        Cmd::BenchStep(a) => {
            commands::set_threads(a.threads);
            let dev = device(a.device)?;
            commands::bench_step(*a, dev)?;
        }
        Cmd::Export(a) => {
            commands::export(a)?;
        }
        Cmd::Eval(a) => {
            commands::eval(a)?;
        }
        Cmd::Inspect(a) => {
            let blob = trainer::eval::read_blob(&a.blob);
            let info = blob.and_then(|b| trainer::inspect::inspect(&b));
            match info {
                Ok(info) => {
                    if a.json {
                        eprint!("{}", trainer::inspect::render(&info));
                        println!("{}", serde_json::to_string(&info)?);
                    } else {
                        print!("{}", trainer::inspect::render(&info));
                    }
                }
                Err(e) => {
                    eprintln!("error: {}: {e:#}", a.blob.display());
                    return Ok(ExitCode::from(2));
                }
            }
        }
        Cmd::DataManifest(a) => {
            let (out, n) = commands::data_manifest(&a)?;
            eprintln!("wrote {} ({n} files; rebuild the trainer to use it)", out.display());
        }
        Cmd::CheckModel(a) => match trainer::describe::load(&a.model) {
            Ok(m) => {
                let fp = trainer::describe::footprint(&m)?;
                print!("{}", trainer::describe::render(&m, &fp));
            }
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(ExitCode::from(2));
            }
        },
        Cmd::Convert(a) => {
            let (from, to) = commands::convert(&a)?;
            eprintln!("wrote {} (format v5, {to} bytes; {} was {from} bytes)", a.out.display(), a.blob.display());
        }
        Cmd::Relayout(a) => {
            let (n, len) = commands::relayout(&a)?;
            eprintln!("wrote {} ({n} tensors rewritten, {len} bytes)", a.out.display());
        }
        Cmd::Mixtures(a) => {
            let rows = trainer::mixtures::write(&a)?;
            eprintln!("wrote {} mixtures at {} Hz to {}", rows.len(), a.rate, a.out.display());
        }
        Cmd::Score(a) => commands::score(&a)?,
        Cmd::Denoise(a) => {
            let n = commands::denoise(&a)?;
            eprintln!("wrote {} ({n} samples)", a.output.display());
        }
        Cmd::Report(a) => {
            for f in trainer::report::report(&a)? {
                println!("{}", f.display());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
