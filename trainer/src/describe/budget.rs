//! Flash and RAM of a description, checked against `[budget]` before any training, measured on
//! the blob itself: the description is written through [`super::write`] as the export writes it
//! (the integer path included when every tensor can be packed), with zero weights at every
//! group's widest width (`max_bits`, or the fixed `bits`; a `keep` tensor at the integer path's
//! 8 bits), and parsed back by the runtime.
//!
//! Flash: that blob's length, every byte of it (header, front-end record, tensor and node
//! tables, operands, packed weights with their width tables, biases, integer constants,
//! filterbank). RAM, on the f32 path: the runtime's activation arena (planned by the writer
//! from the values' lifetimes; a GRU's scratch included) and state, 4 bytes per value, plus the
//! front end's buffers (analysis frame, synthesis overlap, the complex spectrum).

use super::graph::ModelDesc;
use super::schema::Features;
use super::write::{graph_writer, keep_layout, GraphTensor, KEEP_INT_BITS};
use crate::diffq::quantize;
use anyhow::{anyhow, Result};
use runtime::writer::GraphCalibration;

/// What one running model costs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Footprint {
    /// Blob bytes with every group at its widest.
    pub flash: usize,
    /// f32 values of activation arena the runtime plans.
    pub arena: usize,
    /// f32 values of streaming state.
    pub state: usize,
    /// RAM bytes of the f32 path: arena, state and the front end's buffers.
    pub ram: usize,
}

/// Zero tensors of `m` at their widest widths; `int`: every tensor packed (else `None`, and
/// the blob is written without the integer path).
fn skeleton(m: &ModelDesc, int: bool) -> Result<Vec<GraphTensor>> {
    let mut out = Vec::new();
    for n in &m.nodes {
        for w in &n.weights {
            let count = w.shape.count();
            let plan = match (w.layout, n.quant.and_then(|q| q.max_bits())) {
                (Some(l), Some(b)) => Some((l, b)),
                _ if int => Some((keep_layout(n, w)?, KEEP_INT_BITS)),
                _ => None,
            };
            let quant = match plan {
                Some((l, b)) => {
                    let q = quantize::quantize(&n.name, &vec![0.0; count], &vec![b; l.n_groups], l.group_size)?;
                    Some((q, l.blob_layout()))
                }
                None => None,
            };
            out.push(GraphTensor { rows: w.shape.rows, weight: vec![0.0; count], bias: vec![0.0; w.bias], quant });
        }
    }
    Ok(out)
}

/// The blob of `m` at its widest widths (with the integer path when every tensor packs).
fn widest_blob(m: &ModelDesc) -> Result<Vec<u8>> {
    let (tensors, int) = match skeleton(m, true) {
        Ok(t) => (t, true),
        Err(_) => (skeleton(m, false)?, false),
    };
    let fb = match (m.frontend.features, m.frontend.n_mels) {
        (Features::Logmel, Some(nb)) => Some(runtime::dsp::mel_filterbank(m.frontend.sample_rate, nb)),
        _ => None,
    };
    let wr = graph_writer(m, &tensors, fb.as_deref())?;
    let blob = if int {
        let s = 1.0 / 127.0;
        let n = m.nodes.len();
        wr.finish_with_int(&GraphCalibration { input_scale: s, out_scales: vec![s; n], pre_act_scales: vec![s; n] })?
    } else {
        wr.finish()?
    };
    Ok(blob)
}

/// Flash and RAM of `m`, from its blob at the widest widths.
pub fn footprint(m: &ModelDesc) -> Result<Footprint> {
    let blob = widest_blob(m)?;
    let model = runtime::Model::parse(&blob).map_err(|e| anyhow!("the description's blob: {e}"))?;
    let (arena, state) = (model.f32_arena_len(), model.f32_state_len());
    let f = &m.frontend;
    let frontend = 2 * f.frame + 2 * (f.frame / 2 + 1);
    Ok(Footprint { flash: blob.len(), arena, state, ram: 4 * (arena + state + frontend) })
}
