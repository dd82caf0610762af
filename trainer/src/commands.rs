//! The subcommands behind the CLI (kept in the library so tests can call them).

use crate::audio;
use crate::checkpoint;
use crate::cli::{
    BenchStepArgs, ConvertArgs, DenoiseArgs, EvalArgs, ExportArgs, ManifestArgs, PairLayout, RelayoutArgs, TrainArgs,
};
use crate::data;
use crate::eval::{self, RunPath};
use crate::export::{self, ExportOptions};
use crate::features::Stft;
use crate::train::{self, TrainRequest};
use anyhow::{bail, Context, Result};
use audio_tools::file::same_file;
use candle_core::Device;
use serde_json::json;
use std::path::{Path, PathBuf};

/// `train`: recipe (file and flags) → checkpoint.
pub fn train(a: TrainArgs, dev: Device) -> Result<train::TrainSummary> {
    let run = a.run_config()?;
    let target = run.train.target_bytes.filter(|_| run.method == crate::config::Method::Diffq);
    let req = TrainRequest {
        run,
        out: a.out,
        resume: a.resume,
        force: a.force,
        device: dev,
        step_impl: a.step_impl,
        threads: threads(a.threads),
        progress: true,
    };
    let s = train::train(req)?;
    eprintln!(
        "{}: {} steps ({} run in {:.1} s, {:.2} steps/s), loss {:.4}, val loss {:.4}, {:.1} ms/step, blob ≈ {} bytes{}",
        s.method,
        s.steps,
        s.steps_run,
        s.seconds,
        s.steps_run as f64 / s.seconds.max(1e-9),
        s.final_loss,
        s.val_loss,
        s.step_ms_median.unwrap_or(f64::NAN),
        s.blob_bytes_estimate,
        s.avg_bits.map_or(String::new(), |b| format!(", {b:.2} bits/weight"))
    );
    if let Some(w) = target.and_then(|t| size_miss_warning(s.blob_bytes_estimate, t)) {
        eprintln!("{w}");
    }
    if a.json {
        println!("{}", serde_json::to_string(&s)?);
    }
    Ok(s)
}

/// The CPU threads of a run: `CANDLE_NUM_THREADS` if set, else `flag`.
pub fn threads(flag: usize) -> usize {
    std::env::var("CANDLE_NUM_THREADS").ok().and_then(|v| v.parse().ok()).filter(|&n| n > 0).unwrap_or(flag).max(1)
}

/// Makes `threads(flag)` candle's thread count and the size of rayon's pool (candle's matrix
/// multiply runs on it), before the first tensor operation starts the pool.
pub fn set_threads(flag: usize) {
    let n = threads(flag).to_string();
    std::env::set_var("CANDLE_NUM_THREADS", &n);
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        std::env::set_var("RAYON_NUM_THREADS", &n);
    }
}

/// `bench-step`: the table line (and with `--json` the JSON document) of a timed step.
pub fn bench_step(a: BenchStepArgs, dev: Device) -> Result<train::BenchSummary> {
    let run = a.recipe.resolve(&a.data.selection())?;
    let s = train::bench_step(&run, a.step_impl, (a.warmup, a.measure), threads(a.threads), a.dump.as_deref(), &dev)?;
    eprintln!(
        "{} {} {:?}, {} thread(s), batch {} × {} frames: {:.2} ms/step (forward {:.2}, backward {:.2}, updates {:.2}; median of {}), loss {:.5} → {:.5}",
        s.preset, s.method, s.step_impl, s.threads, s.batch, s.frames, s.step_ms, s.forward_ms, s.backward_ms, s.update_ms,
        s.steps, s.first_loss, s.last_loss
    );
    if a.json {
        println!("{}", serde_json::to_string(&s)?);
    }
    Ok(s)
}

/// A warning when a run ended more than 3% away from its size target.
pub fn size_miss_warning(bytes: usize, target: f64) -> Option<String> {
    let off = (bytes as f64 - target) / target;
    (off.abs() > 0.03).then(|| {
        format!(
            "warning: the run ended at {bytes} bytes, {:+.1}% from its size target of {target:.0} bytes (export \
             moves bit widths to meet the target and says how many; more steps or a higher --dual-lr get closer)",
            off * 100.0
        )
    })
}

/// `export`: checkpoint → blob file.
pub fn export(a: ExportArgs) -> Result<export::ExportReport> {
    let opts = ExportOptions {
        ptq_bits: a.ptq_bits,
        target_bytes: a.target_kb.map(|kb| (kb * 1024.0) as usize),
        with_int: !a.no_int,
        calib_mixtures: a.calib,
        calib_seconds: 4.0,
        data: Some(a.data.selection()),
        allow_below_min_bits: a.allow_below_min_bits,
    };
    let ckpt = checkpoint::resolve(&a.ckpt);
    refuse_overwrite(&a.out, &[&ckpt, &checkpoint::sidecar_of(&ckpt)])?;
    let (blob, report, _) = export::export_checkpoint(&a.ckpt, &opts, &Device::Cpu)?;
    if let Some(w) = report.warning() {
        eprintln!("{w}");
    }
    audio_tools::file::write_atomic(&a.out, &blob)?;
    eprintln!(
        "wrote {} ({} bytes, {:.2} bits/weight all included{}, integer path: {})",
        a.out.display(),
        report.blob_bytes,
        report.bits_per_weight_total,
        report.avg_bits.map_or(String::new(), |b| format!(", {b:.2} avg packed bits")),
        if report.has_int { "yes" } else { "no" }
    );
    if a.json {
        println!("{}", serde_json::to_string(&report)?);
    }
    Ok(report)
}

/// An output path that names one of `inputs` (the same path, a link to it, another name of it)
/// is an error: a command never writes over what it reads.
pub fn refuse_overwrite(output: &Path, inputs: &[&Path]) -> Result<()> {
    match inputs.iter().find(|i| same_file(output, i)) {
        Some(i) => {
            bail!("refusing to write {}: it is the input {} (give another output path)", output.display(), i.display())
        }
        None => Ok(()),
    }
}

/// `relayout`: a blob with its pair tensors in the other pair layout
/// (`runtime::writer::relayout`). Returns how many tensors changed and the size.
pub fn relayout(a: &RelayoutArgs) -> Result<(usize, usize)> {
    refuse_overwrite(&a.out, &[&a.blob])?;
    let blob = eval::read_blob(&a.blob)?;
    let lanes = a.to == PairLayout::Lanes;
    let (out, n) = runtime::writer::relayout(&blob, lanes).with_context(|| a.blob.display().to_string())?;
    audio_tools::file::write_atomic(&a.out, &out)?;
    Ok((n, out.len()))
}

/// `convert`: a chain blob → the version 5 graph blob of the same model
/// (`runtime::writer::chain_to_graph`). Returns the input's and the output's sizes.
pub fn convert(a: &ConvertArgs) -> Result<(usize, usize)> {
    refuse_overwrite(&a.out, &[&a.blob])?;
    let blob = eval::read_blob(&a.blob)?;
    let graph = runtime::writer::chain_to_graph(&blob).with_context(|| a.blob.display().to_string())?;
    audio_tools::file::write_atomic(&a.out, &graph)?;
    Ok((blob.len(), graph.len()))
}

/// `denoise`: a WAV file through a blob (`runtime::pipeline`) into another WAV file.
pub fn denoise(a: &DenoiseArgs) -> Result<usize> {
    refuse_overwrite(&a.output, &[&a.input, &a.model])?;
    let blob = eval::read_blob(&a.model)?;
    let model = eval::parse_denoiser(&blob).with_context(|| a.model.display().to_string())?;
    eval::check_buffers(&model, a.path, a.buffers.mib).with_context(|| a.model.display().to_string())?;
    let rate = eval::blob_stft(&model)?.rate();
    let (x, conversion) = audio::read_wav_at(&a.input, rate)?;
    if let Some(c) = conversion {
        eprintln!("note: {}: converted {c}", a.input.display());
    }
    let y = eval::enhance_blob(&model, &x, a.path)?;
    audio::write_wav_at(&a.output, rate, &y)?;
    Ok(y.len())
}

/// The export `eval --ckpt` measures: `export`'s defaults (integer constants included: they
/// decide the size fit and, from format v4, the biases), so it measures what would ship.
fn eval_export_options(a: &EvalArgs) -> ExportOptions {
    ExportOptions {
        ptq_bits: None,
        target_bytes: None,
        with_int: true,
        calib_mixtures: 32,
        calib_seconds: 4.0,
        data: Some(a.test.data.selection()),
        allow_below_min_bits: false,
    }
}

/// `eval`: test-set SI-SDR of a blob through the runtime (or of a checkpoint through candle).
pub fn eval(a: EvalArgs) -> Result<serde_json::Value> {
    let (report, bytes, what, (corpus, mixes, fingerprint)) = match (&a.model, &a.ckpt) {
        (Some(path), _) => {
            let blob = eval::read_blob(path)?;
            let model = eval::parse_denoiser(&blob).with_context(|| path.display().to_string())?;
            eval::check_buffers(&model, a.path, a.buffers.mib).with_context(|| path.display().to_string())?;
            let data = a.test.load(eval::blob_stft(&model)?.rate())?;
            let r = eval::evaluate(&data.1, |x| eval::enhance_blob(&model, x, a.path))?;
            (r, Some(blob.len()), path.display().to_string(), data)
        }
        (None, Some(ck)) => {
            let (_, _, dep) = export::export_checkpoint(ck, &eval_export_options(&a), &Device::Cpu)?;
            let data = a.test.load(dep.stft().rate())?;
            let r = eval::evaluate(&data.1, |x| eval::enhance_exported(&dep, x, &Device::Cpu))?;
            (r, None, ck.display().to_string(), data)
        }
        (None, None) => bail!("give --model BLOB or --ckpt DIR"),
    };
    let stft = Stft::at(corpus.rate)?;
    let baseline =
        if a.no_baseline { None } else { Some(eval::evaluate(&mixes, |x| crate::wiener::enhance(x, stft))?) };
    let path = if a.model.is_some() { a.path } else { RunPath::F32 };
    let table = eval_table(&format!("model {what}"), Some(path), &report, baseline.as_ref());
    if a.json {
        eprint!("{table}");
    } else {
        print!("{table}");
    }
    let v = json!({
        "model": what,
        "path": path,
        "blob_bytes": bytes,
        "n": report.n,
        "noisy_si_sdr": report.noisy_si_sdr,
        "enhanced_si_sdr": report.enhanced_si_sdr,
        "si_sdri": report.si_sdri,
        "per_snr": report.per_snr,
        "per_noise": report.per_noise,
        "wiener_si_sdri": baseline.as_ref().map(|b| b.si_sdri),
        "test_set": { "fingerprint": fingerprint, "split": a.test.data.split, "noise_kinds": corpus.kinds, "sources": corpus.summary },
    });
    if a.json {
        println!("{v}");
    }
    Ok(v)
}

/// The human-readable table of an evaluation.
fn eval_table(
    what: &str,
    path: Option<RunPath>,
    report: &eval::EvalReport,
    baseline: Option<&eval::EvalReport>,
) -> String {
    use std::fmt::Write as _;
    let mut t = String::new();
    let p = match path {
        Some(RunPath::F32) => " (f32 path)",
        Some(RunPath::Int) => " (int path)",
        None => "",
    };
    let _ = writeln!(t, "{what}{p}: {} test mixtures", report.n);
    let _ = writeln!(t, "{:>8} {:>10} {:>10} {:>8}", "SNR dB", "noisy", "enhanced", "SI-SDRi");
    for r in &report.per_snr {
        let _ =
            writeln!(t, "{:>8.1} {:>10.2} {:>10.2} {:>8.2}", r.snr_db, r.noisy_si_sdr, r.enhanced_si_sdr, r.si_sdri);
    }
    let _ = writeln!(
        t,
        "{:>8} {:>10.2} {:>10.2} {:>8.2}",
        "all", report.noisy_si_sdr, report.enhanced_si_sdr, report.si_sdri
    );
    let _ = writeln!(t, "{:>8} {:>10} {:>10} {:>8} {:>4}", "noise", "noisy", "enhanced", "SI-SDRi", "n");
    for r in &report.per_noise {
        let name = format!("{:?}", r.noise).to_lowercase();
        let _ = writeln!(
            t,
            "{:>8} {:>10.2} {:>10.2} {:>8.2} {:>4}",
            name, r.noisy_si_sdr, r.enhanced_si_sdr, r.si_sdri, r.n
        );
    }
    if let Some(b) = baseline {
        let _ = writeln!(t, "Wiener baseline (decision-directed, minimum statistics): SI-SDRi {:.2} dB", b.si_sdri);
    }
    t
}

/// `data-manifest`: writes the manifest of the default directories at `a.rate` to `a.out` (by
/// default the rate's manifest); returns where it went and the number of files.
pub fn data_manifest(a: &ManifestArgs) -> Result<(PathBuf, usize)> {
    let corpus = data::manifest::Pinned::for_rate(a.rate)?;
    let text = data::manifest::build(&corpus, Path::new(data::DEFAULT_SPEECH), Path::new(data::DEFAULT_NOISE))?;
    let out = a.out.clone().unwrap_or_else(|| PathBuf::from(corpus.path));
    audio_tools::file::write_atomic(&out, text.as_bytes())?;
    Ok((out, data::manifest::parse(&text)?.len()))
}

/// `score`: the table of `mixtures::score` (stderr with `--json`, which prints the files and the
/// report as one JSON document).
pub fn score(a: &crate::cli::ScoreArgs) -> Result<()> {
    let scores = crate::mixtures::score(a)?;
    let table = eval_table(&a.enhanced.display().to_string(), None, &scores.report, None);
    if a.json {
        eprint!("{table}");
        println!("{}", serde_json::to_string(&scores)?);
    } else {
        print!("{table}");
    }
    Ok(())
}
