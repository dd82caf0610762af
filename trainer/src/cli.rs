//! Command-line interface of the `trainer` binary.

use crate::checkpoint::Method;
use crate::diffq::{BitsParam, NoiseKind};
use crate::eval::RunPath;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(name = "trainer", version, about = "Train, export and evaluate DiffQ-compressed streaming speech denoisers")]
pub struct Cli {
    #[command(subcommand)]
    pub cmd: Cmd,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DeviceArg {
    Cpu,
    Cuda,
}

#[derive(Args, Debug, Clone)]
pub struct DataArgs {
    /// Clean speech directory (searched recursively for .wav, 8 kHz mono).
    #[arg(long, default_value = crate::data::DEFAULT_SPEECH)]
    pub speech: PathBuf,
    /// Noise directory (macroform-* tracks train, the others test).
    #[arg(long, default_value = crate::data::DEFAULT_NOISE)]
    pub noise: PathBuf,
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Train a model (checkpoint written atomically to OUT/checkpoint.safetensors).
    Train(Box<TrainArgs>),
    /// Turn a checkpoint into a blob for the runtime.
    Export(ExportArgs),
    /// SI-SDR improvement of a blob (run through runtime::Model) on the held-out test set.
    Eval(EvalArgs),
    /// Per-layer table of a blob (exit code 2 for an invalid file).
    Inspect(InspectArgs),
    /// Denoise a WAV file (8 kHz mono) with a blob.
    Denoise(DenoiseArgs),
}

#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Output directory (checkpoint.safetensors, checkpoint.json).
    #[arg(long)]
    pub out: PathBuf,
    /// Preset: `tiny` (seconds, for tests) or `default` (the shipped model).
    #[arg(long, default_value = "default")]
    pub preset: String,
    #[arg(long, value_enum, default_value = "diffq")]
    pub method: Method,
    /// DiffQ penalty on the model size in MiB.
    #[arg(long)]
    pub lambda: Option<f64>,
    /// DiffQ size target for the whole blob, in KiB (1024 bytes); λ is adapted during training.
    #[arg(long, conflicts_with = "target_bits")]
    pub target_kb: Option<f64>,
    /// DiffQ size target in bits per weight, the whole blob included.
    #[arg(long)]
    pub target_bits: Option<f64>,
    /// Step size of the dual ascent on λ (with a target).
    #[arg(long)]
    pub dual_lr: Option<f64>,
    /// Fraction of training over which the size target is lowered from the initial size.
    #[arg(long)]
    pub target_anneal: Option<f64>,
    #[arg(long)]
    pub steps: Option<usize>,
    #[arg(long)]
    pub batch: Option<usize>,
    /// Mixture length in seconds.
    #[arg(long)]
    pub seconds: Option<f32>,
    #[arg(long)]
    pub seed: Option<u64>,
    #[arg(long)]
    pub lr: Option<f64>,
    /// Decay the model's learning rate along a cosine to 1% at the last step (the bit logits
    /// keep theirs, so the size target can still be met); with `--freeze-bits`, from the freeze on.
    #[arg(long)]
    pub lr_cosine: bool,
    /// Distillation weight α in [0, 1): the loss becomes (1 − α)·task + α·MSE to the `--from`
    /// model's output (0 = off).
    #[arg(long)]
    pub distill: Option<f64>,
    /// Round and freeze the bit widths after this fraction of the steps (DiffQ): the last steps
    /// train the weights under noise of exactly the exported quantisation's scale.
    #[arg(long)]
    pub freeze_bits: Option<f64>,
    /// With `--freeze-bits` and a size target: when the bits freeze, move widths up (those
    /// rounded down the most first) until the blob fills the budget, instead of leaving the
    /// bytes the rounding freed for the export to give away untrained.
    #[arg(long)]
    pub fill_budget: bool,
    /// Vary the training music: random speed 0.7–1.4×, spectral tilt, half of the time a second
    /// track mixed in (the test split's music is never varied).
    #[arg(long)]
    pub vary_music: bool,
    /// Keep an exponential moving average of the weights with this decay (e.g. 0.999) and save it
    /// as the final weights; with `--freeze-bits` (DiffQ) it starts when the bits are frozen.
    #[arg(long)]
    pub ema: Option<f64>,
    /// Learning rate of the bit logits' own Adam (DiffQ default 1e-3).
    #[arg(long)]
    pub bits_lr: Option<f64>,
    #[arg(long)]
    pub min_bits: Option<f32>,
    #[arg(long)]
    pub max_bits: Option<f32>,
    #[arg(long)]
    pub init_bits: Option<f32>,
    /// Weights per learnt bit width (multiple of 8; 0 = one per tensor). The runtime's fast
    /// mixed-bit kernels are compiled for 64 (the default); other sizes run ~1.5× slower.
    #[arg(long)]
    pub group_size: Option<usize>,
    /// Row-major groups instead of the row-pair layout (slower mixed-bit kernels on the MCU).
    #[arg(long)]
    pub no_pair_rows: bool,
    /// Weights smaller than this stay f32.
    #[arg(long)]
    pub min_size: Option<usize>,
    #[arg(long)]
    pub extra_bits: Option<f32>,
    #[arg(long, value_enum)]
    pub param: Option<BitsParam>,
    #[arg(long, value_enum)]
    pub noise_kind: Option<NoiseKind>,
    /// Channels of the conv layers.
    #[arg(long)]
    pub width: Option<usize>,
    /// Use at most this many speech files per split.
    #[arg(long)]
    pub max_files: Option<usize>,
    #[arg(long)]
    pub ckpt_every: Option<usize>,
    /// Continue from OUT/checkpoint.safetensors if it exists.
    #[arg(long)]
    pub resume: bool,
    /// Start from (ptq8/ptq4: quantise) this fp32 checkpoint.
    #[arg(long)]
    pub from: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "cpu")]
    pub device: DeviceArg,
    /// CPU threads for candle (`CANDLE_NUM_THREADS` wins if set). One leaves a core to the data
    /// loader; candle's spinning thread pool degrades badly when cores are oversubscribed.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    #[command(flatten)]
    pub data: DataArgs,
    /// Print one JSON object as the last line of stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// Checkpoint directory or file.
    #[arg(long, visible_alias = "checkpoint")]
    pub ckpt: PathBuf,
    /// Blob to write.
    #[arg(long)]
    pub out: PathBuf,
    /// Post-training uniform quantisation at this many bits (from an fp32 checkpoint).
    #[arg(long)]
    pub ptq_bits: Option<u8>,
    /// Size budget in KiB (DiffQ; defaults to the training target).
    #[arg(long)]
    pub target_kb: Option<f64>,
    /// Leave out the integer-path constants.
    #[arg(long)]
    pub no_int: bool,
    /// Training-split calibration mixtures for the integer path.
    #[arg(long, default_value_t = 32)]
    pub calib: usize,
    #[command(flatten)]
    pub data: DataArgs,
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Blob to evaluate (through runtime::Model).
    #[arg(long, required_unless_present = "ckpt")]
    pub model: Option<PathBuf>,
    /// Instead of a blob: the trainer's own candle evaluation of a checkpoint's exported weights.
    #[arg(long, conflicts_with = "model")]
    pub ckpt: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "f32")]
    pub path: RunPath,
    #[command(flatten)]
    pub data: DataArgs,
    /// Test mixtures per SNR (−5, 0, 5, 10 dB).
    #[arg(long, default_value_t = 25)]
    pub per_snr: usize,
    #[arg(long, default_value_t = 4.0)]
    pub seconds: f32,
    #[arg(long, default_value_t = 1234)]
    pub seed: u64,
    #[arg(long)]
    pub max_files: Option<usize>,
    /// Skip the Wiener baseline.
    #[arg(long)]
    pub no_baseline: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct InspectArgs {
    pub blob: PathBuf,
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct DenoiseArgs {
    #[arg(long)]
    pub model: PathBuf,
    #[arg(long, value_enum, default_value = "f32")]
    pub path: RunPath,
    pub input: PathBuf,
    pub output: PathBuf,
}
