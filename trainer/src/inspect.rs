//! `inspect`: a per-layer table of a blob (shape, average bits, bytes).

use crate::eval::BufferBytes;
use anyhow::{anyhow, Result};
use runtime::format::{Op, Weights, LAYER_ENTRY_LEN, NODE_ENTRY_LEN, NO_TENSOR};
use runtime::Model;
use serde::Serialize;

#[derive(Clone, Debug, Serialize)]
pub struct LayerRow {
    pub index: u16,
    pub op: &'static str,
    pub shape: String,
    pub weights: usize,
    /// "f32", "f16", "packed"; empty for element-wise layers.
    pub storage: &'static str,
    pub avg_bits: Option<f64>,
    pub min_bits: Option<u8>,
    pub max_bits: Option<u8>,
    /// Layer entry + tensors (entries and data) + integer constants.
    pub bytes: usize,
    pub out_scale: f32,
}

#[derive(Clone, Debug, Serialize)]
pub struct BlobInfo {
    pub total_bytes: usize,
    pub has_int: bool,
    pub input_len: usize,
    pub output_len: usize,
    pub weights: usize,
    pub avg_bits: Option<f64>,
    pub bits_per_weight_total: f64,
    pub macs_per_frame: u64,
    pub f32_arena_len: usize,
    pub f32_state_len: usize,
    pub i8_arena_len: usize,
    pub i8_state_len: usize,
    /// Host RAM the arena and state buffers take on each path, in bytes.
    pub buffer_bytes: BufferBytes,
    pub input_scale: f32,
    pub layers: Vec<LayerRow>,
}

fn op_name(op: Op) -> &'static str {
    op.name()
}

/// Decodes the table of a valid blob (invalid blobs give the runtime's error).
pub fn inspect(blob: &[u8]) -> Result<BlobInfo> {
    let m = Model::parse(blob).map_err(|e| anyhow!("invalid model blob: {e}"))?;
    let mut layers = Vec::new();
    let (mut wsum, mut bitsum, mut qcount) = (0usize, 0f64, 0usize);
    let entry = if m.header().is_graph() { NODE_ENTRY_LEN } else { LAYER_ENTRY_LEN };
    for i in 0..m.n_nodes() {
        let n = m.node(i)?;
        let (c, h) = m.value_shape(m.inputs(i)?.as_slice().first().copied().unwrap_or(0))?;
        let in_len = u32::from(c) * u32::from(h);
        let out = if n.out_h > 1 { format!("{}x{}", n.out_c, n.out_h) } else { n.out_c.to_string() };
        let mut row = LayerRow {
            index: i,
            op: op_name(n.op),
            shape: format!("{in_len} -> {out}"),
            weights: 0,
            storage: "",
            avg_bits: None,
            min_bits: None,
            max_bits: None,
            bytes: entry + if m.has_int() { n.int_block_len(m.header().version) } else { 0 },
            out_scale: n.out_scale,
        };
        if n.op.has_weights() {
            let stride = if n.stride_t > 1 { format!(" s{}", n.stride_t) } else { String::new() };
            row.shape = match n.op {
                Op::Conv1d => format!("{}x{}x{} (k{} d{}{stride})", n.out_c, n.kernel_t, c, n.kernel_t, n.dilation),
                Op::Conv2d => {
                    format!("{}x{}x{}x{} (k{} d{})", n.out_c, n.kernel_t, c, n.kernel_h, n.kernel_t, n.dilation)
                }
                _ => format!("{out}x{in_len}"),
            };
            let mut row_q = 0f64;
            for t in [n.weight, n.weight2].into_iter().filter(|&t| t != NO_TENSOR) {
                let t = m.tensor(t)?;
                row.weights += t.count as usize;
                row.bytes += t.stored_bytes();
                wsum += t.count as usize;
                match t.weights {
                    Weights::F32(_) => row.storage = "f32",
                    Weights::F16(_) => row.storage = "f16",
                    Weights::Packed(p) => {
                        row.storage = "packed";
                        let gb: Vec<u8> = (0..p.n_groups()).map(|g| p.group_bits(g)).collect();
                        let s: f64 = gb.iter().map(|&b| f64::from(b)).sum();
                        // the mean over the layer's packed weights (a gru has two tensors)
                        let before = row.avg_bits.map_or((0.0, 0.0), |a| (a * row_q, row_q));
                        row_q = before.1 + f64::from(p.count);
                        row.avg_bits = Some((before.0 + s * f64::from(p.group_size)) / row_q);
                        row.min_bits = gb.iter().copied().chain(row.min_bits).min();
                        row.max_bits = gb.iter().copied().chain(row.max_bits).max();
                        bitsum += s * f64::from(p.group_size);
                        qcount += p.count as usize;
                    }
                }
            }
            for b in [n.bias, n.bias2].into_iter().filter(|&b| b != NO_TENSOR) {
                row.bytes += m.tensor(b)?.stored_bytes();
            }
        }
        layers.push(row);
    }
    Ok(BlobInfo {
        total_bytes: blob.len(),
        has_int: m.has_int(),
        input_len: m.input_len(),
        output_len: m.output_len(),
        weights: wsum,
        avg_bits: (qcount > 0).then(|| bitsum / qcount as f64),
        bits_per_weight_total: if wsum > 0 { blob.len() as f64 * 8.0 / wsum as f64 } else { 0.0 },
        macs_per_frame: m.macs_per_frame(),
        f32_arena_len: m.f32_arena_len(),
        f32_state_len: m.f32_state_len(),
        i8_arena_len: m.i8_arena_len(),
        i8_state_len: m.i8_state_len(),
        buffer_bytes: BufferBytes::of(&m),
        input_scale: m.input_scale(),
        layers,
    })
}

/// Human-readable table.
pub fn render(info: &BlobInfo) -> String {
    let mut s = format!(
        "{:>3}  {:<8} {:<26} {:>8} {:<7} {:>9} {:>7}\n",
        "#", "op", "shape", "weights", "storage", "avg bits", "bytes"
    );
    for r in &info.layers {
        let bits = match (r.avg_bits, r.min_bits, r.max_bits) {
            (Some(a), Some(lo), Some(hi)) if lo != hi => format!("{a:.2} ({lo}-{hi})"),
            (Some(a), _, _) => format!("{a:.2}"),
            _ => String::new(),
        };
        s += &format!(
            "{:>3}  {:<8} {:<26} {:>8} {:<7} {:>9} {:>7}\n",
            r.index, r.op, r.shape, r.weights, r.storage, bits, r.bytes
        );
    }
    s += &format!(
        "total {} bytes, {} weights, {:.2} bits/weight (all overhead), avg packed bits {}, {} MACs/frame, integer path: {}\n",
        info.total_bytes,
        info.weights,
        info.bits_per_weight_total,
        info.avg_bits.map_or("-".to_string(), |b| format!("{b:.2}")),
        info.macs_per_frame,
        if info.has_int { "yes" } else { "no" }
    );
    let b = &info.buffer_bytes;
    s += &format!(
        "buffers (arena + state): f32 path {} bytes ({} + {} f32), integer path {} bytes ({} + {} i8)\n",
        b.f32_path, info.f32_arena_len, info.f32_state_len, b.int_path, info.i8_arena_len, info.i8_state_len
    );
    s
}
