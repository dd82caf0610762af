//! What the fuzz targets share: running whatever parses through every entry point of the
//! runtime ([`exercise`]), and a blob's `total_len` and CRC rewritten to match its bytes
//! ([`fix_len_crc`]) so that mutations reach the validator behind the checksum.

pub mod fields;

use runtime::{Model, StateF32, StateI8};

/// Buffers above this many elements are skipped (the fuzzer's 2 GB RSS limit, not a bug).
const MAX_ELEMS: usize = 1 << 20;

/// Sets `total_len` to the length and the CRC to the checksum the blob's version defines
/// (`runtime::format::checksum`; no-op under 16 bytes).
pub fn fix_len_crc(b: &mut [u8]) {
    if b.len() < 16 {
        return;
    }
    let n = b.len() as u32;
    b[8..12].copy_from_slice(&n.to_le_bytes());
    let c = runtime::format::checksum(b);
    b[12..16].copy_from_slice(&c.to_le_bytes());
}

/// `Model::parse`, then, for whatever parses, a few streaming steps on both paths (ring buffers
/// wrap), plus the caller-error paths (short arena, wrong I/O lengths). Nothing may panic, read
/// out of bounds, or take unbounded time.
pub fn exercise(data: &[u8]) {
    let Ok(m) = Model::parse(data) else { return };
    // Everything the validated view exposes must be callable.
    let _ = (m.macs_per_frame(), m.output_scale(), m.input_scale());
    for i in 0..m.n_nodes() {
        let _ = (m.node(i), m.inputs(i), m.layer(i), m.bias(i), m.int_block(i), m.int_params(i));
    }
    let _ = (m.front_end(), m.value_shape(m.n_nodes()), m.value_scale(0));
    for i in 0..m.n_tensors() {
        let _ = m.tensor(i).map(|t| t.stored_bytes());
    }
    step_f32(&m);
    step_i8(&m);
}

fn step_f32(m: &Model<'_>) {
    let (n_in, n_out) = (m.input_len(), m.output_len());
    if m.f32_arena_len() + m.f32_state_len() + n_in + n_out > MAX_ELEMS {
        return;
    }
    let mut arena = vec![0.0f32; m.f32_arena_len()];
    let mut sbuf = vec![0.0f32; m.f32_state_len()];
    let mut out = vec![0.0f32; n_out];
    let mut st = StateF32::new(&mut sbuf);
    for t in 0..3u32 {
        let x: Vec<f32> = (0..n_in).map(|i| ((i as f32) * 0.37 + t as f32).sin() * 4.0).collect();
        let _ = m.step_f32(&mut st, &mut arena, &x, &mut out);
    }
    // Caller errors must be errors.
    let x = vec![0.0f32; n_in];
    if m.f32_arena_len() > 0 {
        let short = m.f32_arena_len() - 1;
        assert!(m.step_f32(&mut st, &mut arena[..short], &x, &mut out).is_err());
    }
    assert!(m.step_f32(&mut st, &mut arena, &x[..n_in - 1], &mut out).is_err());
}

fn step_i8(m: &Model<'_>) {
    let (n_in, n_out) = (m.input_len(), m.output_len());
    if m.has_int() && m.i8_arena_len() + m.i8_state_len() <= MAX_ELEMS {
        let mut arena = vec![0i8; m.i8_arena_len()];
        let mut sbuf = vec![0i8; m.i8_state_len()];
        let mut out = vec![0i8; n_out];
        let mut st = StateI8::new(&mut sbuf);
        // Extremes included: −128 is not a valid quantised input but must not trap.
        for fill in [i8::MIN, i8::MAX, 1] {
            let x: Vec<i8> = (0..n_in).map(|i| if i % 3 == 0 { fill } else { (i as i8).wrapping_mul(37) }).collect();
            let _ = m.step_i8(&mut st, &mut arena, &x, &mut out);
        }
    } else if !m.has_int() {
        let mut arena = vec![0i8; 4];
        let mut sbuf = [0i8; 0];
        let mut out = vec![0i8; n_out];
        let mut st = StateI8::new(&mut sbuf);
        assert!(m.step_i8(&mut st, &mut arena, &vec![0i8; n_in], &mut out).is_err());
    }
}
