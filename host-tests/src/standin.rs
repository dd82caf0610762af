//! A stand-in model with the default denoiser's shapes and random 3-bit weights, so the firmware
//! builds and runs before the trainer has produced `models/default.dqem`. It does not denoise.
//!
//! 128 features → conv1d k3 64 → relu → conv1d k3 d2 64 → relu → conv1d k3 d4 64 → relu →
//! linear 129 → sigmoid; packed weights, group 16, 3 bits; integer path calibrated on audio.

use anyhow::{anyhow, Result};
use runtime::dsp::{features, Analyzer, Complex32, BINS, HOP, N_FEATURES};
use runtime::writer::{BlobWriter, IntCalibration};
use runtime::{Model, StateF32};

const GROUP: usize = 16;
const BITS: u8 = 3;

/// xorshift64*: tiny, deterministic, good enough for random weights.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn uniform(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }
}

/// (in, out, kernel, dilation) of the weighted layers; `None` = linear.
const LAYERS: [(usize, usize, usize, Option<usize>); 4] =
    [(128, 64, 3, Some(1)), (64, 64, 3, Some(2)), (64, 64, 3, Some(4)), (64, 129, 1, None)];

struct Weights {
    levels: Vec<Vec<u16>>,
    group_bits: Vec<Vec<u8>>,
    ranges: Vec<f32>,
    biases: Vec<Vec<f32>>,
}

/// `mixed`: per-group widths of 2–5 bits (20/40/30/10%, mean 3.3), the shape of a DiffQ result.
fn random_weights(seed: u64, mixed: bool) -> Weights {
    let mut rng = Rng(seed | 1);
    let mut w = Weights { levels: Vec::new(), group_bits: Vec::new(), ranges: Vec::new(), biases: Vec::new() };
    for (i, o, k, _) in LAYERS {
        let n = i * o * k;
        let bits: Vec<u8> = (0..n / GROUP)
            .map(|_| match (mixed, rng.next() % 10) {
                (false, _) => BITS,
                (true, 0..=1) => 2,
                (true, 2..=5) => 3,
                (true, 6..=8) => 4,
                _ => 5,
            })
            .collect();
        let levels = bits
            .iter()
            .flat_map(|&b| (0..GROUP).map(|_| (rng.next() >> (64 - u32::from(b))) as u16).collect::<Vec<_>>())
            .collect();
        w.levels.push(levels);
        w.group_bits.push(bits);
        w.ranges.push((6.0 / (i * k) as f32).sqrt()); // He-uniform bound
        w.biases.push((0..o).map(|_| 0.1 * (rng.uniform() - 0.5)).collect());
    }
    w
}

/// The first `n_layers` layers (of 8) as a blob; with `calib`, including integer constants.
fn build(w: &Weights, n_layers: usize, calib: Option<&IntCalibration>) -> Result<Vec<u8>> {
    let e = |e: runtime::writer::WriteError| anyhow!("{e}");
    let mut bw = BlobWriter::new(N_FEATURES);
    let mut added = 0;
    for (li, (i, o, k, dil)) in LAYERS.iter().enumerate() {
        if added >= n_layers {
            break;
        }
        let levels = w.levels.get(li).ok_or_else(|| anyhow!("layer {li}"))?;
        let a = w.ranges.get(li).copied().unwrap_or(0.1);
        let bits = w.group_bits.get(li).ok_or_else(|| anyhow!("bits {li}"))?;
        let wt = bw.packed_tensor(levels, bits, GROUP, -a, a).map_err(e)?;
        let bt = bw.f32_tensor(w.biases.get(li).ok_or_else(|| anyhow!("bias {li}"))?).map_err(e)?;
        match dil {
            Some(d) => bw.conv1d(wt, Some(bt), *i, *o, *k, *d).map_err(e)?,
            None => bw.linear(wt, Some(bt), *i, *o).map_err(e)?,
        }
        added += 1;
        if added < n_layers {
            if dil.is_some() { bw.relu() } else { bw.sigmoid() }.map_err(e)?;
            added += 1;
        }
    }
    match calib {
        Some(c) => bw.finish_with_int(c).map_err(e),
        None => bw.finish().map_err(e),
    }
}

/// Log-power features of every hop of `audio` (the f32 front end).
pub fn clip_features(audio: &[i16]) -> Vec<[f32; N_FEATURES]> {
    let mut an = Analyzer::new();
    let mut spec = [Complex32::new(0.0, 0.0); BINS];
    let mut out = Vec::new();
    for hop in audio.chunks_exact(HOP) {
        let mut x = [0.0f32; HOP];
        for (x, s) in x.iter_mut().zip(hop) {
            *x = f32::from(*s) / 32768.0;
        }
        an.push(&x, &mut spec);
        let mut f = [0.0f32; N_FEATURES];
        features(&spec, &mut f);
        out.push(f);
    }
    out
}

/// max |output| of a (prefix) model over the frames.
fn max_abs(blob: &[u8], frames: &[[f32; N_FEATURES]]) -> Result<f32> {
    let m = Model::parse(blob).map_err(|e| anyhow!("{e}"))?;
    let mut state = vec![0.0f32; m.f32_state_len()];
    let mut st = StateF32::new(&mut state);
    let mut arena = vec![0.0f32; m.f32_arena_len()];
    let mut y = vec![0.0f32; m.output_len()];
    let mut peak = 0.0f32;
    for f in frames {
        m.step_f32(&mut st, &mut arena, f, &mut y).map_err(|e| anyhow!("{e}"))?;
        peak = y.iter().fold(peak, |p, v| p.max(v.abs()));
    }
    Ok(peak)
}

/// The stand-in blob, integer path calibrated on `calib_audio` (8 kHz i16).
pub fn standin_blob(seed: u64, calib_audio: &[i16], mixed: bool) -> Result<Vec<u8>> {
    let w = random_weights(seed, mixed);
    let frames = clip_features(calib_audio);
    let input_peak = frames.iter().flatten().fold(0.0f32, |p, v| p.max(v.abs()));
    let mut out_scales = Vec::new();
    for n in 1..=8 {
        let peak = max_abs(&build(&w, n, None)?, &frames)?;
        out_scales.push(peak.max(1e-6) / 127.0);
    }
    let calib = IntCalibration { input_scale: input_peak.max(1e-6) / 127.0, out_scales };
    build(&w, 8, Some(&calib))
}
