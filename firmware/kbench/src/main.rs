//! Kernel micro-benchmarks under QEMU: each benchmark layer runs through `Model::step_*`
//! (conv: 32 streaming steps, so 32 full output frames of 3 taps), timed by the instruction
//! counter; then the demo's per-stage cost on the real model and clip. Results go to the defmt
//! log (`bench ...` / `stage ...` lines) that `host-tests`' `kbench` program turns into a table.
#![no_std]
#![no_main]

use demo_core::{assets, Clip, Counter as _};
use qemu_support::{platform, semihost};
#[cfg(target_abi = "eabihf")]
use runtime::dsp::{self, Analyzer, Complex32, Synthesizer};
use runtime::dsp::{BINS, HOP, N_FEATURES};
use runtime::dsp_fixed::FixedFrontEnd;
#[cfg(target_abi = "eabihf")]
use runtime::StateF32;
use runtime::{Model, StateI8};

include!(concat!(env!("OUT_DIR"), "/benches.rs"));

const MAX_IN: usize = 512;
/// A benchmark layer wider than the buffers.
const E: runtime::Error = runtime::Error::KernelShape;
/// f32 buffers only where there is an FPU (RV32 runs the integer path, in 16 KiB of RAM).
const F_IN: usize = if cfg!(target_abi = "eabihf") { MAX_IN } else { 0 };

#[cfg_attr(not(target_abi = "eabihf"), allow(dead_code))] // f32 fields are empty there
struct Bufs {
    f_arena: [f32; 2 * F_IN],
    f_state: [f32; 3 * F_IN / 8],
    i_arena: [i8; 2 * MAX_IN],
    i_state: [i8; 3 * 64],
    x: [f32; F_IN],
    xq: [i8; MAX_IN],
    y: [f32; F_IN / 2],
    yq: [i8; 256],
}

static mut BUFS: Bufs = Bufs {
    f_arena: [0.0; 2 * F_IN],
    f_state: [0.0; 3 * F_IN / 8],
    i_arena: [0; 2 * MAX_IN],
    i_state: [0; 3 * 64],
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
    semihost::exit(code)
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
    for (shape, bits, conv, blob) in BENCHES {
        let m = Model::parse(blob)?;
        let (n_in, n_out) = (m.input_len(), m.output_len());
        let steps: u32 = if *conv { 32 } else { 1 };
        let macs = m.macs_per_frame() as u32 * steps;
        #[cfg(target_abi = "eabihf")]
        {
            let mut st = StateF32::new(&mut b.f_state);
            let t0 = c.now();
            for _ in 0..steps {
                let (x, y) = (b.x.get(..n_in).ok_or(E)?, b.y.get_mut(..n_out).ok_or(E)?);
                m.step_f32(&mut st, &mut b.f_arena, x, y)?;
            }
            let t1 = c.now();
            let u = c.to_units(t1.wrapping_sub(t0));
            defmt::info!("bench shape={=str} bits={=str} path=f32 macs={=u32} units={=u32}", shape, bits, macs, u);
        }
        let mut st = StateI8::new(&mut b.i_state);
        let t0 = c.now();
        for _ in 0..steps {
            let (x, y) = (b.xq.get(..n_in).ok_or(E)?, b.yq.get_mut(..n_out).ok_or(E)?);
            m.step_i8(&mut st, &mut b.i_arena, x, y)?;
        }
        let t1 = c.now();
        let u = c.to_units(t1.wrapping_sub(t0));
        defmt::info!("bench shape={=str} bits={=str} path=int8 macs={=u32} units={=u32}", shape, bits, macs, u);
    }
    stages(&mut c)
}

/// Per-stage cost of the demo (model and clip from flash), summed over the clip's hops.
fn stages(c: &mut platform::Counter) -> Result<(), runtime::Error> {
    let m = Model::parse(assets::BLOB)?;
    let clip = Clip::parse(assets::CLIP).map_err(|_| runtime::Error::KernelShape)?;
    static mut I8B: assets::I8Buffers = assets::I8Buffers::new();
    // SAFETY: the only reference to I8B.
    #[allow(unsafe_code)]
    let ib = unsafe { &mut *core::ptr::addr_of_mut!(I8B) };
    let mut hop = [0i16; HOP];
    let mut samples = clip.samples();
    let mut front = FixedFrontEnd::new(m.input_scale(), m.output_scale());
    let mut st = StateI8::new(&mut ib.state);
    let (mut feat, mut mask, mut out) = ([0i8; N_FEATURES], [0i8; BINS], [0i16; HOP]);
    let mut t = [0u32; 3];
    let mut frames = 0u32;
    #[cfg(target_abi = "eabihf")]
    let mut f = F32Stage::new(&m);
    loop {
        let mut n = 0;
        for (h, s) in hop.iter_mut().zip(&mut samples) {
            *h = s;
            n += 1;
        }
        if n < HOP {
            break;
        }
        let t0 = c.now();
        front.analyze(&hop);
        front.features(&mut feat);
        let t1 = c.now();
        m.step_i8(&mut st, &mut ib.arena, &feat, &mut mask)?;
        let t2 = c.now();
        front.apply_mask(&mask);
        front.synthesize(&mut out);
        let t3 = c.now();
        for (acc, (a, z)) in t.iter_mut().zip([(t0, t1), (t1, t2), (t2, t3)]) {
            *acc += c.to_units(z.wrapping_sub(a));
        }
        #[cfg(target_abi = "eabihf")]
        f.hop(&m, c, &hop)?;
        frames += 1;
    }
    let macs = m.macs_per_frame() as u32;
    defmt::info!(
        "stage path=int8 frames={=u32} macs={=u32} front={=u32} model={=u32} back={=u32}",
        frames,
        macs,
        t[0],
        t[1],
        t[2]
    );
    #[cfg(target_abi = "eabihf")]
    defmt::info!(
        "stage path=f32 frames={=u32} macs={=u32} front={=u32} model={=u32} back={=u32}",
        frames,
        macs,
        f.t[0],
        f.t[1],
        f.t[2]
    );
    Ok(())
}

/// The f32 path's stages, timed like the integer ones.
#[cfg(target_abi = "eabihf")]
struct F32Stage {
    an: Analyzer,
    syn: Synthesizer,
    spec: [Complex32; BINS],
    feat: [f32; N_FEATURES],
    mask: [f32; BINS],
    state: StateF32<'static>,
    arena: &'static mut [f32],
    t: [u32; 3],
}

#[cfg(target_abi = "eabihf")]
impl F32Stage {
    fn new(_m: &Model<'_>) -> Self {
        static mut F32B: assets::F32Buffers = assets::F32Buffers::new();
        // SAFETY: the only reference to F32B (called once).
        #[allow(unsafe_code)]
        let fb = unsafe { &mut *core::ptr::addr_of_mut!(F32B) };
        F32Stage {
            an: Analyzer::new(),
            syn: Synthesizer::new(),
            spec: [Complex32::new(0.0, 0.0); BINS],
            feat: [0.0; N_FEATURES],
            mask: [0.0; BINS],
            state: StateF32::new(&mut fb.state),
            arena: &mut fb.arena,
            t: [0; 3],
        }
    }

    fn hop(&mut self, m: &Model<'_>, c: &mut platform::Counter, hop: &[i16; HOP]) -> Result<(), runtime::Error> {
        let mut x = [0.0f32; HOP];
        for (x, s) in x.iter_mut().zip(hop) {
            *x = f32::from(*s) / 32768.0;
        }
        let t0 = c.now();
        self.an.push(&x, &mut self.spec);
        dsp::features(&self.spec, &mut self.feat);
        let t1 = c.now();
        m.step_f32(&mut self.state, self.arena, &self.feat, &mut self.mask)?;
        let t2 = c.now();
        dsp::apply_mask(&mut self.spec, &self.mask);
        self.syn.push(&self.spec, &mut x);
        let t3 = c.now();
        for (acc, (a, z)) in self.t.iter_mut().zip([(t0, t1), (t1, t2), (t2, t3)]) {
            *acc += c.to_units(z.wrapping_sub(a));
        }
        Ok(())
    }
}
