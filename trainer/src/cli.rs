//! Command-line interface of the `trainer` binary.

use crate::config::{limits, ConfigError, Recipe, RunConfig};
use crate::data::{DataSel, SplitMode};
use crate::eval::RunPath;
use crate::noise::NoiseType;
use crate::train::StepImpl;
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
    /// Clean speech directory (searched recursively for .wav, and .g722 at 16 kHz; any rate and
    /// channel count, converted to mono at the model's rate). The default directory is pinned by
    /// data/manifest.tsv (8 kHz) and data/manifest-16k.tsv (16 kHz).
    #[arg(long, default_value = crate::data::DEFAULT_SPEECH)]
    pub speech: PathBuf,
    /// Noise directory (with `--split hash`: macroform-* tracks train, the others test). The
    /// default directory is pinned by data/manifest.tsv.
    #[arg(long, default_value = crate::data::DEFAULT_NOISE)]
    pub noise: PathBuf,
    /// Which files serve each split: `hash` (speech 80/10/10 by a hash of the path, noise by
    /// name) or `all` (every file of both directories, whichever split is asked for).
    #[arg(long, value_enum, default_value = "hash")]
    pub split: SplitMode,
    /// Noise kinds mixed into the speech, comma-separated (`recorded`: the --noise tracks)
    /// [default: a recipe's `noise_kinds`, else recorded,white,pink,brown,hum].
    #[arg(long, value_enum, value_delimiter = ',')]
    pub noise_kinds: Option<Vec<NoiseType>>,
}

impl DataArgs {
    /// The data these flags select, the default noise kinds where none are given.
    pub fn selection(&self) -> DataSel {
        self.selection_or(None)
    }

    /// The data these flags select; noise kinds not given here: `kinds` (a recipe's), else
    /// [`crate::data::ALL_KINDS`].
    pub fn selection_or(&self, kinds: Option<&[NoiseType]>) -> DataSel {
        let kinds = self.noise_kinds.as_deref().or(kinds).unwrap_or(&crate::data::ALL_KINDS);
        DataSel { speech: self.speech.clone(), noise: self.noise.clone(), split: self.split, kinds: kinds.to_vec() }
    }
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Train a model (checkpoint written atomically to OUT/checkpoint.safetensors).
    Train(Box<TrainArgs>),
    /// Turn a checkpoint into a blob for the runtime.
    Export(ExportArgs),
    /// SI-SDR improvement of a blob (run through runtime::Model) on the held-out test set.
    Eval(EvalArgs),
    /// Write the held-out test mixtures (those of `eval`) as WAV files with a table of their
    /// noise kinds and SNRs, for tools outside the project (scripts/compare/).
    Mixtures(MixturesArgs),
    /// SI-SDR of denoised versions of `mixtures`' files (any denoiser's), per file and per
    /// noise kind and SNR.
    Score(ScoreArgs),
    /// Per-layer table of a blob (exit code 2 for an invalid file).
    Inspect(InspectArgs),
    /// Check a model description without training: its errors (file:line:col, exit code 2), or
    /// its layer table, its flash with every group at its widest and its RAM.
    CheckModel(CheckModelArgs),
    /// Rewrite a chain blob (format v1–v4) as the format v5 graph that computes the same
    /// outputs: same tensors and integer constants, activations fused into the layer before.
    Convert(ConvertArgs),
    /// Store a blob's row-pair tensors in the other pair layout (FORMAT.md: lane pairs for the
    /// Cortex-M4/M7's dual multiply-accumulates and RV32, row pairs for other cores): same size,
    /// same outputs bit for bit.
    Relayout(RelayoutArgs),
    /// Denoise a WAV file (any rate and channel count, converted to mono at the blob's rate) with a blob.
    Denoise(DenoiseArgs),
    /// Pictures (PNG and SVG): training curves, bit widths, size against quality, spectrograms.
    Report(ReportArgs),
    /// Time the training step (forward, backward, updates) on a fixed batch, without data
    /// loading or checkpoints.
    BenchStep(Box<BenchStepArgs>),
    /// Write the manifest that pins the default corpus at a rate (data/manifest.tsv at 8 kHz,
    /// data/manifest-16k.tsv at 16 kHz: every file of the en, es and it prompt folders and of the
    /// music-on-hold tracks, with size, hash and split).
    DataManifest(ManifestArgs),
}

#[derive(Args, Debug)]
pub struct ManifestArgs {
    /// The corpus's rate: 8000 (the WAV packages) or 16000 (the G.722 packages).
    #[arg(long, default_value_t = 8000)]
    pub rate: u32,
    /// Where the manifest goes (default: the rate's manifest, which the trainer is built with).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Output directory (checkpoint.safetensors, checkpoint.json).
    #[arg(long)]
    pub out: PathBuf,
    /// Recipe file (TOML): the settings below as keys (`noise_kind = "uniform"`,
    /// `fill_budget = true`); flags given here override it. A relative `from` in the file is
    /// taken from the parent directory of `--out`.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub recipe: Recipe,
    /// Continue from OUT/checkpoint.safetensors if it exists.
    #[arg(long)]
    pub resume: bool,
    /// Start over in an OUT that already holds a run (its checkpoint is replaced at the first
    /// save, and kept as OUT/checkpoint.prev.* until the second).
    #[arg(long, conflicts_with = "resume")]
    pub force: bool,
    /// Device candle trains on.
    #[arg(long, value_enum, default_value = "cpu")]
    pub device: DeviceArg,
    /// CPU threads for candle (`CANDLE_NUM_THREADS` wins if set). One leaves a core to the data
    /// loader; candle's spinning thread pool degrades badly when cores are oversubscribed.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// How a step computes the network and its gradients: `fused` (one CPU op with a
    /// hand-written backward pass; the graph on other devices) or `graph` (candle's autograd,
    /// the float summation order `scripts/reproduce-conv8k.sh` reproduces the shipped model with).
    #[arg(long, value_enum, default_value = "fused")]
    pub step_impl: StepImpl,
    #[command(flatten)]
    pub data: DataArgs,
    /// Print one JSON document on stdout (the progress bar and messages go to stderr).
    #[arg(long)]
    pub json: bool,
}

/// `bench-step`: the recipe's step timed on its first training batch.
#[derive(Args, Debug)]
pub struct BenchStepArgs {
    #[command(flatten)]
    pub recipe: Recipe,
    /// Steps timed (after the warm-up).
    #[arg(long, default_value_t = 60)]
    pub measure: usize,
    /// Steps run before timing.
    #[arg(long, default_value_t = 5)]
    pub warmup: usize,
    /// CPU threads (`CANDLE_NUM_THREADS` wins if set).
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// How a step computes the network and its gradients (as `train --step-impl`).
    #[arg(long, value_enum, default_value = "fused")]
    pub step_impl: StepImpl,
    /// Device candle computes on.
    #[arg(long, value_enum, default_value = "cpu")]
    pub device: DeviceArg,
    /// Also write the batch and the initial weights here (`inputs.safetensors`, `inputs.json`),
    /// for `scripts/step-compare/`.
    #[arg(long, value_name = "DIR")]
    pub dump: Option<PathBuf>,
    #[command(flatten)]
    pub data: DataArgs,
    /// Print one JSON document on stdout.
    #[arg(long)]
    pub json: bool,
}

impl TrainArgs {
    /// The run these arguments describe: the recipe file, if any, with the flags given here
    /// over it.
    pub fn run_config(&self) -> Result<RunConfig, ConfigError> {
        let recipe = match &self.config {
            Some(file) => {
                let out_parent = self.out.parent().unwrap_or(std::path::Path::new("."));
                Recipe::load(file, out_parent)?.overridden_by(self.recipe.clone())
            }
            None => self.recipe.clone(),
        };
        recipe.resolve(&self.data.selection_or(recipe.noise_kinds.as_deref()))
    }
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
    #[arg(long, default_value_t = 32, value_parser = limits::parse_calib)]
    pub calib: usize,
    /// Let the budget fit move bit widths below the checkpoint's `--min-bits` (down to 1).
    #[arg(long)]
    pub allow_below_min_bits: bool,
    #[command(flatten)]
    pub data: DataArgs,
    /// Print one JSON document on stdout (messages go to stderr).
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
    /// Arithmetic path of the runtime (with --model): f32, or the integer path.
    #[arg(long, value_enum, default_value = "f32")]
    pub path: RunPath,
    #[command(flatten)]
    pub test: TestSetArgs,
    #[command(flatten)]
    pub buffers: BufferCap,
    /// Skip the Wiener baseline.
    #[arg(long)]
    pub no_baseline: bool,
    /// Print one JSON document on stdout (the table goes to stderr).
    #[arg(long)]
    pub json: bool,
}

/// The held-out test set (`eval`, `mixtures`): the data, and the mixtures drawn from its test
/// split at the model's rate.
#[derive(Args, Debug, Clone)]
pub struct TestSetArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Test mixtures per SNR (−5, 0, 5, 10 dB).
    #[arg(long, default_value_t = crate::eval::TEST_PER_SNR, value_parser = limits::parse_per_snr)]
    pub per_snr: usize,
    /// Length of each test mixture in seconds.
    #[arg(long, default_value_t = crate::eval::TEST_SECONDS, value_parser = limits::parse_seconds)]
    pub seconds: f32,
    /// Seed of the test mixtures.
    #[arg(long, default_value_t = crate::eval::TEST_SEED)]
    pub seed: u64,
    /// Use at most this many test speech files (0 = all).
    #[arg(long, value_parser = limits::parse_max_files)]
    pub max_files: Option<usize>,
}

impl TestSetArgs {
    /// The test set at `rate`: the corpus (summary on stderr), its mixtures and fingerprint.
    pub fn load(&self, rate: u32) -> anyhow::Result<(crate::data::Corpus, Vec<crate::data::Mixture>, String)> {
        use crate::data::{self, Corpus, Split};
        let corpus = Corpus::load_at(&self.data.selection(), Split::Test, self.max_files, rate)?;
        let per_snr = self.per_snr.max(1);
        let mixes = data::test_set(&corpus, per_snr, self.seconds, self.seed);
        let fingerprint = data::test_set_fingerprint(&corpus, per_snr, self.seconds, self.seed);
        eprintln!("test set {fingerprint}: {} mixtures at {rate} Hz", mixes.len());
        Ok((corpus, mixes, fingerprint))
    }
}

/// `mixtures`: the test set written as files (`crate::mixtures`).
#[derive(Args, Debug)]
pub struct MixturesArgs {
    /// Sample rate: 8000 (the WAV packages) or 16000 (the G.722 packages).
    #[arg(long, default_value_t = 16000)]
    pub rate: u32,
    /// Output directory (clean/, noisy/, mixtures.csv); files in it are replaced.
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub test: TestSetArgs,
}

/// `score`: denoised versions of a mixtures directory measured (`crate::mixtures`).
#[derive(Args, Debug)]
pub struct ScoreArgs {
    /// A directory written by `trainer mixtures`.
    #[arg(long)]
    pub mixtures: PathBuf,
    /// The denoised files: NAME.wav for every NAME of the table, at its rate, as long as the
    /// mixture.
    #[arg(long)]
    pub enhanced: PathBuf,
    /// Print one JSON document on stdout (the table goes to stderr).
    #[arg(long)]
    pub json: bool,
}

/// The host-side cap on the buffers a blob asks for (`--max-buffer-mib`).
#[derive(Args, Debug, Clone, Copy)]
pub struct BufferCap {
    /// Refuse a blob whose arena and state buffers (on the chosen path) exceed this many MiB.
    #[arg(long = "max-buffer-mib", value_name = "MIB", default_value_t = limits::DEFAULT_BUFFER_MIB,
          value_parser = limits::parse_buffer_mib)]
    pub mib: u64,
}

#[derive(Args, Debug)]
pub struct InspectArgs {
    /// Blob to describe.
    pub blob: PathBuf,
    /// Print one JSON document on stdout (the table goes to stderr).
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct CheckModelArgs {
    /// The description (`*.model.toml`, docs/model-description.md).
    pub model: PathBuf,
}

/// The storage order `relayout` writes.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PairLayout {
    /// Lane pairs (format layout 2; groups of a multiple of 64 only, the others stay row pairs).
    Lanes,
    /// Row pairs (format layout 1).
    Rows,
}

#[derive(Args, Debug)]
pub struct RelayoutArgs {
    /// Blob to rewrite (any version).
    pub blob: PathBuf,
    /// Where the rewritten blob goes (never over the input).
    #[arg(long)]
    pub out: PathBuf,
    /// The pair layout to store.
    #[arg(long, value_enum, default_value = "lanes")]
    pub to: PairLayout,
}

#[derive(Args, Debug)]
pub struct ConvertArgs {
    /// Chain blob to rewrite (format v1–v4; one with the integer path must be v4).
    pub blob: PathBuf,
    /// Where the version 5 blob goes (never over the input).
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Args, Debug)]
pub struct DenoiseArgs {
    /// Blob to run.
    #[arg(long)]
    pub model: PathBuf,
    /// Arithmetic path of the runtime: f32, or the integer path.
    #[arg(long, value_enum, default_value = "f32")]
    pub path: RunPath,
    /// WAV file to denoise (any rate and channel count: converted to mono at the blob's rate,
    /// with a note).
    pub input: PathBuf,
    /// Where the denoised WAV goes (never over the input or the model).
    pub output: PathBuf,
    #[command(flatten)]
    pub buffers: BufferCap,
}

/// `report`: what to draw (trainer/src/report/) and where.
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Training run for the curves (`curves.*`): its directory (holding checkpoint.json) or that
    /// JSON file; repeat to overlay runs.
    #[arg(long = "run", value_name = "DIR")]
    pub runs: Vec<PathBuf>,
    /// Blob for the bit-width heat map (`bits-STEM.*`); repeat for several.
    #[arg(long = "model", value_name = "BLOB")]
    pub models: Vec<PathBuf>,
    /// Size-against-quality table for the Pareto plot (`pareto.*`): TOML `[[point]]` tables of
    /// `method`, `label`, `bytes`, `si_sdri`.
    #[arg(long, value_name = "FILE", conflicts_with = "eval")]
    pub points: Option<PathBuf>,
    /// Blobs to evaluate on the test set (as `trainer eval`) for the Pareto plot instead.
    #[arg(long, value_name = "BLOB", num_args = 1..)]
    pub eval: Vec<PathBuf>,
    /// Noisy clip for the spectrograms (`spectrogram.*`), denoised by the first `--model`.
    #[arg(long, value_name = "WAV", requires = "clean")]
    pub clip: Option<PathBuf>,
    /// The clean reference of `--clip`.
    #[arg(long, value_name = "WAV", requires = "clip")]
    pub clean: Option<PathBuf>,
    /// Directory the pictures are written to (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub data: DataArgs,
}
