//! The subcommands behind the CLI (kept in the library so tests can call them).

use crate::cli::{EvalArgs, ExportArgs, TrainArgs};
use crate::data::{self, Corpus, Split};
use crate::eval::{self, RunPath};
use crate::export::{self, ExportOptions};
use crate::train::{self, TrainRequest};
use anyhow::{Context, Result};
use candle_core::Device;
use serde_json::json;

/// `train`: preset + overrides → checkpoint.
pub fn train(a: TrainArgs, dev: Device) -> Result<train::TrainSummary> {
    let (mut arch, mut dq, mut cfg) = train::preset(&a.preset)?;
    if let Some(w) = a.width {
        arch.width = w;
    }
    macro_rules! set {
        ($($src:ident => $dst:expr),* $(,)?) => { $( if let Some(v) = a.$src { $dst = v; } )* };
    }
    set!(steps => cfg.steps, batch => cfg.batch, seconds => cfg.seconds, seed => cfg.seed, lr => cfg.lr,
         bits_lr => cfg.bits_lr, distill => cfg.distill, lambda => cfg.lambda, dual_lr => cfg.dual_lr, target_anneal => cfg.target_anneal, ckpt_every => cfg.ckpt_every,
         min_bits => dq.min_bits, max_bits => dq.max_bits, init_bits => dq.init_bits, group_size => dq.group_size,
         min_size => dq.min_size, extra_bits => dq.extra_bits, param => dq.param, noise_kind => dq.noise);
    if a.lr_cosine {
        cfg.lr_cosine = true;
    }
    if a.no_pair_rows {
        dq.pair_rows = false;
    }
    if a.max_files.is_some() {
        cfg.max_files = a.max_files;
    }
    cfg.speech = a.data.speech.clone();
    cfg.noise = a.data.noise.clone();
    if let Some(kb) = a.target_kb {
        cfg.target_bytes = Some(kb * 1024.0);
    }
    if let Some(b) = a.target_bits {
        cfg.target_bytes = Some(b * arch.macs() as f64 / 8.0);
    }
    if let Some(t) = cfg.target_bytes {
        if !(t.is_finite() && t > 0.0) {
            anyhow::bail!("the size target must be positive");
        }
        if a.lambda.is_none() {
            cfg.lambda = 1.0;
        }
    }
    if let Some(f) = a.freeze_bits {
        if !(0.0..=1.0).contains(&f) {
            anyhow::bail!("--freeze-bits must be a fraction in [0, 1], got {f}");
        }
        cfg.freeze_bits = Some(f);
    }
    if a.fill_budget {
        if cfg.freeze_bits.is_none() || cfg.target_bytes.is_none() {
            anyhow::bail!("--fill-budget fills the size target when the bits freeze: it needs --freeze-bits and --target-kb or --target-bits");
        }
        cfg.fill_budget = true;
    }
    cfg.vary_music |= a.vary_music;
    if a.ema.is_some() {
        cfg.ema = a.ema; // its range is checked where the average is made (ema.rs)
    }
    if !(0.0..1.0).contains(&cfg.distill) {
        anyhow::bail!("--distill must be in [0, 1), got {}", cfg.distill);
    }
    let json_out = a.json;
    let req = TrainRequest {
        method: a.method,
        arch,
        diffq: dq,
        cfg,
        out: a.out,
        resume: a.resume,
        from: a.from,
        device: dev,
        progress: true,
    };
    let s = train::train(req)?;
    eprintln!(
        "{}: {} steps, loss {:.4}, val loss {:.4}, {:.1} ms/step, blob ≈ {} bytes{}",
        s.method,
        s.steps,
        s.final_loss,
        s.val_loss,
        s.step_ms_median.unwrap_or(f64::NAN),
        s.blob_bytes_estimate,
        s.avg_bits.map_or(String::new(), |b| format!(", {b:.2} bits/weight"))
    );
    if json_out {
        println!("{}", serde_json::to_string(&s)?);
    }
    Ok(s)
}

/// `export`: checkpoint → blob file.
pub fn export(a: ExportArgs) -> Result<export::ExportReport> {
    let opts = ExportOptions {
        ptq_bits: a.ptq_bits,
        target_bytes: a.target_kb.map(|kb| (kb * 1024.0) as usize),
        with_int: !a.no_int,
        calib_mixtures: a.calib,
        calib_seconds: 4.0,
        speech: Some(a.data.speech.clone()),
        noise: Some(a.data.noise.clone()),
    };
    let (blob, report, _) = export::export(&a.ckpt, &opts, &Device::Cpu)?;
    let tmp = a.out.with_extension("tmp");
    std::fs::write(&tmp, &blob).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, &a.out).with_context(|| format!("cannot write {}", a.out.display()))?;
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

/// `eval`: test-set SI-SDR of a blob through the runtime (or of a checkpoint through candle).
pub fn eval(a: EvalArgs) -> Result<serde_json::Value> {
    let corpus = Corpus::load(&a.data.speech, &a.data.noise, Split::Test, a.max_files)?;
    let mixes = data::test_set(&corpus, a.per_snr.max(1), a.seconds, a.seed);
    let (report, bytes, what) = match (&a.model, &a.ckpt) {
        (Some(path), _) => {
            let blob = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            let model = eval::parse_denoiser(&blob)?;
            let r = eval::evaluate(&mixes, |x| eval::enhance_blob(&model, x, a.path))?;
            (r, Some(blob.len()), path.display().to_string())
        }
        (None, Some(ck)) => {
            // The same export as `export`'s defaults (integer constants included: they decide the
            // size fit and, from format v4, the biases), so this measures what would ship.
            let speech = Some(a.data.speech.clone());
            let opts = ExportOptions {
                ptq_bits: None,
                target_bytes: None,
                with_int: true,
                calib_mixtures: 32,
                calib_seconds: 4.0,
                speech,
                noise: Some(a.data.noise.clone()),
            };
            let (_, _, dep) = export::export(ck, &opts, &Device::Cpu)?;
            let r = eval::evaluate(&mixes, |x| eval::enhance_deployable(&dep, x, &Device::Cpu))?;
            (r, None, ck.display().to_string())
        }
        (None, None) => anyhow::bail!("give --model BLOB or --ckpt DIR"),
    };
    let baseline = if a.no_baseline { None } else { Some(eval::evaluate(&mixes, crate::wiener::enhance)?) };
    let path = if a.model.is_some() { a.path } else { RunPath::F32 };
    println!("model {what} ({} path): {} test mixtures", if path == RunPath::F32 { "f32" } else { "int" }, report.n);
    println!("{:>8} {:>10} {:>10} {:>8}", "SNR dB", "noisy", "enhanced", "SI-SDRi");
    for r in &report.per_snr {
        println!("{:>8.1} {:>10.2} {:>10.2} {:>8.2}", r.snr_db, r.noisy_si_sdr, r.enhanced_si_sdr, r.si_sdri);
    }
    println!("{:>8} {:>10.2} {:>10.2} {:>8.2}", "all", report.noisy_si_sdr, report.enhanced_si_sdr, report.si_sdri);
    println!("{:>8} {:>10} {:>10} {:>8} {:>4}", "noise", "noisy", "enhanced", "SI-SDRi", "n");
    for r in &report.per_noise {
        let name = format!("{:?}", r.noise).to_lowercase();
        println!("{:>8} {:>10.2} {:>10.2} {:>8.2} {:>4}", name, r.noisy_si_sdr, r.enhanced_si_sdr, r.si_sdri, r.n);
    }
    if let Some(b) = &baseline {
        println!("Wiener baseline (decision-directed, minimum statistics): SI-SDRi {:.2} dB", b.si_sdri);
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
    });
    if a.json {
        println!("{v}");
    }
    Ok(v)
}
