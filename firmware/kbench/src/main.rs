//! Kernel micro-benchmarks under QEMU: each benchmark layer or graph (the graph ops: gru,
//! depthwise conv1d, a depthwise-separable block, conv2d) runs through `Model::step_*` for the
//! frames its name says (conv: 32 streaming steps, so 32 full output frames of 3 taps), timed by the instruction
//! counter; then the demo's cost per stage (analysis, features, model, mask, synthesis) on the
//! real model and clip, through the demo's own `runtime::pipeline` denoisers. Results go to the
//! defmt log (`bench ...` / `stage ...` lines) that `host-tests`' `kbench` program turns into a
//! table. Each benchmark, stage and model layer also marks its profile segment
//! (`qemu_support::profile`), named in its log line, so that a run under the instruction profiler
//! can be costed in estimated cycles segment by segment.
#![no_std]
#![no_main]

use demo_core::{assets, Clip, Counter as _, WordAligned};
use qemu_support::profile::mark;
use qemu_support::{platform, semihosting::process};
use runtime::dsp::FrameSize;
#[cfg(target_abi = "eabihf")]
use runtime::pipeline::F32Denoiser;
use runtime::pipeline::{I8Denoiser, Stages};
#[cfg(target_abi = "eabihf")]
use runtime::StateF32;
use runtime::{LayerHook, Model, StateI8};

include!(concat!(env!("OUT_DIR"), "/benches.rs"));

/// The demo blob's frame size: 8 kHz, or 16 kHz with the `wideband` feature (the pipelines
/// reject a blob of the other size).
#[cfg(not(feature = "wideband"))]
type Size = runtime::dsp::Narrowband;
#[cfg(feature = "wideband")]
type Size = runtime::dsp::Wideband;
/// Samples per hop of the demo's frame size.
const HOP: usize = Size::HOP;

const MAX_IN: usize = 512;
/// A benchmark layer wider than the buffers.
const E: runtime::Error = runtime::Error::KernelShape;
/// f32 buffers only where there is an FPU (RV32 runs the integer path, in 16 KiB of RAM).
const F_IN: usize = if cfg!(target_abi = "eabihf") { MAX_IN } else { 0 };

/// Profile segments: benchmark `r` on the f32 path is `2r`, on the integer path `2r + 1`; the
/// demo's stages on the integer and f32 paths start at `INT_STAGES` and `F32_STAGES`, their model
/// layers at `INT_LAYERS` and `F32_LAYERS` (up to `MAX_LAYERS` each); `IDLE` is everything between.
const INT_STAGES: u8 = 100;
#[cfg_attr(not(target_abi = "eabihf"), allow(dead_code))] // the f32 path needs an FPU
const F32_STAGES: u8 = 110;
const INT_LAYERS: u8 = 120;
#[cfg_attr(not(target_abi = "eabihf"), allow(dead_code))]
const F32_LAYERS: u8 = 180;
const MAX_LAYERS: u8 = 60;
const IDLE: u8 = 254;

const fn max(a: usize, b: usize) -> usize {
    if a > b {
        a
    } else {
        b
    }
}
/// Streaming state: the benchmarks' (the conv2d graph's 3 frames of 8 × 32 the most) or the
/// demo model's, whichever is larger (the stage timings reuse the benchmarks' buffers).
const I_STATE: usize = max(3 * 256, assets::I8_STATE);
/// 1 where there is an FPU (the f32 buffers exist), else 0.
const HAS_F32: usize = F_IN / MAX_IN;
const F_STATE: usize = HAS_F32 * max(3 * 256, assets::F32_STATE);
const I_ARENA: usize = max(2 * MAX_IN, assets::I8_ARENA);
const F_ARENA: usize = HAS_F32 * max(2 * F_IN, assets::F32_ARENA);

#[cfg_attr(not(target_abi = "eabihf"), allow(dead_code))] // f32 fields are empty there
struct Bufs {
    f_arena: [f32; F_ARENA],
    f_state: [f32; F_STATE],
    i_arena: [i8; I_ARENA],
    i_state: [i8; I_STATE],
    x: [f32; F_IN],
    xq: [i8; MAX_IN],
    y: [f32; F_IN / 2],
    yq: [i8; 256],
}

static mut BUFS: Bufs = Bufs {
    f_arena: [0.0; F_ARENA],
    f_state: [0.0; F_STATE],
    i_arena: [0; I_ARENA],
    i_state: [0; I_STATE],
    x: [0.0; F_IN],
    xq: [0; MAX_IN],
    y: [0.0; F_IN / 2],
    yq: [0; 256],
};

#[qemu_support::entry]
fn main() -> ! {
    let code = match benches() {
        Ok(()) => 0,
        Err(e) => {
            defmt::error!("kbench failed: {}", defmt::Display2Format(&e));
            1
        }
    };
    process::exit(code)
}

fn benches() -> Result<(), runtime::Error> {
    let mut c = platform::Counter::start();
    let (instr, units) = platform::calibrate(&mut c, 100_000);
    defmt::info!("calibration: {=u32} instructions = {=u32} counter units", instr, units);
    // SAFETY: the only reference to BUFS; main never returns.
    #[allow(unsafe_code)]
    let b = unsafe { &mut *core::ptr::addr_of_mut!(BUFS) };
    for (i, q) in b.xq.iter_mut().enumerate() {
        *q = ((i * 37 % 255) as i32 - 127) as i8;
    }
    for (x, q) in b.x.iter_mut().zip(b.xq.iter()) {
        *x = f32::from(*q) / 127.0;
    }
    for (row, (shape, bits, steps, blob)) in BENCHES.iter().enumerate() {
        let seg = u8::try_from(2 * row).unwrap_or(IDLE - 1).min(INT_STAGES - 2);
        let m = Model::parse(blob)?;
        let (n_in, n_out, steps) = (m.input_len(), m.output_len(), *steps);
        let macs = m.macs_per_frame() as u32 * steps;
        #[cfg(target_abi = "eabihf")]
        {
            let mut st = StateF32::new(&mut b.f_state);
            mark(usize::from(seg));
            let t0 = c.now();
            for _ in 0..steps {
                let (x, y) = (b.x.get(..n_in).ok_or(E)?, b.y.get_mut(..n_out).ok_or(E)?);
                m.step_f32(&mut st, &mut b.f_arena, x, y)?;
            }
            let t1 = c.now();
            mark(usize::from(IDLE));
            let u = c.to_units(t1.wrapping_sub(t0));
            defmt::info!(
                "bench shape={=str} bits={=str} path=f32 macs={=u32} units={=u32} seg={=u8}",
                shape,
                bits,
                macs,
                u,
                seg
            );
        }
        let mut st = StateI8::new(&mut b.i_state);
        mark(usize::from(seg + 1));
        let t0 = c.now();
        for _ in 0..steps {
            let (x, y) = (b.xq.get(..n_in).ok_or(E)?, b.yq.get_mut(..n_out).ok_or(E)?);
            m.step_i8(&mut st, &mut b.i_arena, x, y)?;
        }
        let t1 = c.now();
        mark(usize::from(IDLE));
        let u = c.to_units(t1.wrapping_sub(t0));
        defmt::info!(
            "bench shape={=str} bits={=str} path=int8 macs={=u32} units={=u32} seg={=u8}",
            shape,
            bits,
            macs,
            u,
            seg + 1
        );
    }
    stages(&mut c, b)
}

/// Per-stage cost of the demo (model and clip from flash), summed over the clip's hops: the
/// demo's own pipelines (`runtime::pipeline`, i16 in and out), timed stage by stage, one path
/// after the other (one pipeline on the stack at a time: the 16 kHz ones are large).
#[inline(never)]
fn stages(c: &mut platform::Counter, b: &mut Bufs) -> Result<(), runtime::Error> {
    let m = Model::parse(assets::BLOB)?;
    let clip = Clip::parse_at(assets::CLIP, Size::SAMPLE_RATE).map_err(|_| runtime::Error::KernelShape)?;
    int_stages(c, b, m, &clip)?;
    #[cfg(target_abi = "eabihf")]
    f32_stages(c, b, m, &clip)?;
    Ok(())
}

/// The integer path's stages (its own stack frame).
#[inline(never)]
fn int_stages(c: &mut platform::Counter, b: &mut Bufs, m: Model<'_>, clip: &Clip<'_>) -> Result<(), runtime::Error> {
    let p = I8Denoiser::<Size>::with_size(m, &mut b.i_arena, &mut b.i_state)?;
    Timed::new(p, INT_STAGES, INT_LAYERS).over(c, clip)?.report("int8", m.macs_per_frame() as u32);
    Ok(())
}

/// The f32 path's stages (its own stack frame).
#[cfg(target_abi = "eabihf")]
#[inline(never)]
fn f32_stages(c: &mut platform::Counter, b: &mut Bufs, m: Model<'_>, clip: &Clip<'_>) -> Result<(), runtime::Error> {
    let p = F32Denoiser::<i16, Size>::with_size(m, &mut b.f_arena, &mut b.f_state)?;
    Timed::new(p, F32_STAGES, F32_LAYERS).over(c, clip)?.report("f32", m.macs_per_frame() as u32);
    Ok(())
}

/// Marks each model layer's profile segment (from `first`), and the model stage's (`stage`)
/// after the last layer.
struct LayerMarks {
    first: u8,
    stage: u8,
}

impl LayerHook for LayerMarks {
    fn before_layer(&mut self, index: usize) {
        mark(usize::from(self.first) + index.min(usize::from(MAX_LAYERS) - 1));
    }
    fn after_layers(&mut self) {
        mark(usize::from(self.stage));
    }
}

/// A pipeline and the counter units each of its five stages took, summed over the hops; the
/// stages' profile segments start at `segs`, the model layers' at `layers.first`.
struct Timed<P> {
    pipeline: P,
    units: [u32; 5],
    frames: u32,
    segs: u8,
    layers: LayerMarks,
}

impl<P: Stages<Sample = i16, Size = Size>> Timed<P> {
    fn new(pipeline: P, segs: u8, first_layer: u8) -> Self {
        Timed { pipeline, units: [0; 5], frames: 0, segs, layers: LayerMarks { first: first_layer, stage: segs + 2 } }
    }

    /// Every whole hop of `clip` through the stages.
    fn over(mut self, c: &mut platform::Counter, clip: &Clip<'_>) -> Result<Self, runtime::Error> {
        let mut hop = [0i16; HOP];
        let mut samples = clip.samples();
        loop {
            let mut n = 0;
            for (h, s) in hop.iter_mut().zip(&mut samples) {
                *h = s;
                n += 1;
            }
            if n < HOP {
                return Ok(self);
            }
            self.hop(c, &hop)?;
            self.frames += 1;
        }
    }

    /// One hop through the stages, the counter read between each two.
    fn hop(&mut self, c: &mut platform::Counter, hop: &[i16; HOP]) -> Result<(), runtime::Error> {
        let (p, s) = (&mut self.pipeline, usize::from(self.segs));
        let mut out = [0i16; HOP];
        mark(s);
        let t0 = c.now();
        p.analysis(hop);
        let t1 = c.now();
        mark(s + 1);
        p.features();
        let t2 = c.now();
        mark(s + 2);
        p.step_with(&mut self.layers)?;
        let t3 = c.now();
        mark(s + 3);
        p.mask();
        let t4 = c.now();
        mark(s + 4);
        p.synthesis(&mut out);
        let t5 = c.now();
        mark(usize::from(IDLE));
        for (acc, (a, z)) in self.units.iter_mut().zip([(t0, t1), (t1, t2), (t2, t3), (t3, t4), (t4, t5)]) {
            *acc += c.to_units(z.wrapping_sub(a));
        }
        Ok(())
    }

    fn report(&self, path: &str, macs: u32) {
        let [analysis, features, model, mask, synthesis] = self.units;
        defmt::info!(
            "stage path={=str} frames={=u32} macs={=u32} analysis={=u32} features={=u32} model={=u32} mask={=u32} synthesis={=u32} segs={=u8} layer_segs={=u8}",
            path,
            self.frames,
            macs,
            analysis,
            features,
            model,
            mask,
            synthesis,
            self.segs,
            self.layers.first
        );
    }
}
