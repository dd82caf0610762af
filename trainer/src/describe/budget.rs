//! Flash and RAM estimates of a description, checked against `[budget]` before any training.
//!
//! Flash: the blob at every group's widest width (`max_bits`, or the fixed `bits`), with the
//! format's own accounting ([`BlobLayout`]): header, one entry per layer (a fused activation is
//! a layer of its own) and per tensor, `group_size·bits/8` bytes per group plus the bit-width
//! table, 4 bytes per f32 weight, the biases (f16 beside quantised weights, f32 beside f32 ones)
//! or, when every weighted layer is quantised, the integer path's constants (per weight tensor
//! `int_linear_len(rows)`, a 256-byte table per sigmoid or tanh); plus, for log-mel features,
//! 4 bytes per spectrum bin of filterbank table.
//!
//! RAM, in f32 values of 4 bytes: the activation arena (every value, the features included,
//! lives from the layer that writes it to the last layer that reads it, the output to the end;
//! each is placed first-fit at the lowest offset free for its whole life, in layer order), the
//! state (a convolution keeps `(kernel − 1)·dilation` past frames of its input, a strided conv1d
//! also its held output, a GRU its `H` hidden values, a pool `window − 1` past frames), the
//! largest scratch (a GRU: `6H`) and the front end's buffers (analysis frame, synthesis overlap,
//! the complex spectrum).

use super::graph::{ModelDesc, Node, Op, Src};
use super::schema::{Act, Features};
use crate::diffq::size::{BlobLayout, PlainKind};
use runtime::format::{int_linear_len, INT_LUT_LEN, VERSION};

/// Estimated blob bytes with every group at its widest.
pub fn flash_estimate(m: &ModelDesc) -> usize {
    let with_int = m.nodes.iter().flat_map(|n| &n.weights).all(|w| w.layout.is_some());
    let mut plain = Vec::new();
    let mut quantized = Vec::new();
    let mut widths = Vec::new();
    let mut int_bytes = 0;
    let mut n_layers = 0;
    for n in &m.nodes {
        n_layers += 1 + usize::from(n.act.is_some());
        let top = n.quant.and_then(|q| q.max_bits()).unwrap_or(0);
        for w in &n.weights {
            match w.layout {
                Some(l) => {
                    quantized.push(l);
                    widths.push(vec![top; l.n_groups]);
                }
                None => plain.push((w.shape.count(), PlainKind::F32)),
            }
            if with_int {
                int_bytes += int_linear_len(VERSION, w.shape.rows);
            } else {
                plain.push((w.bias, crate::diffq::size::bias_kind(w.layout.is_some())));
            }
        }
        let squashes = matches!(n.op, Op::Sigmoid | Op::Tanh) || matches!(n.act, Some(Act::Sigmoid | Act::Tanh));
        if with_int && squashes {
            int_bytes += INT_LUT_LEN;
        }
    }
    let layout = BlobLayout { n_layers, plain, quantized, int_bytes };
    let frontend = match m.frontend.features {
        Features::Logmel => 4 * (m.frontend.frame / 2 + 1),
        Features::Logmag => 0,
    };
    layout.exact_bytes(&widths).unwrap_or_else(|_| layout.fixed_bytes()) + frontend
}

/// Values a layer keeps from frame to frame.
fn state_values(n: &Node) -> usize {
    let inp = n.in_shape.width();
    match n.op {
        Op::Conv1d { kernel, dilation, stride, out, .. } => {
            (kernel - 1) * dilation * inp + if stride > 1 { out } else { 0 }
        }
        Op::Conv2d { kernel, dilation, .. } => (kernel - 1) * dilation * inp,
        Op::Gru { hidden } => hidden,
        Op::AvgPool { window } | Op::MaxPool { window } => (window - 1) * inp,
        _ => 0,
    }
}

/// Estimated RAM bytes of one running model (arena, state, scratch, front end).
pub fn ram_estimate(m: &ModelDesc) -> usize {
    let scratch = m.nodes.iter().map(|n| if let Op::Gru { hidden } = n.op { 6 * hidden } else { 0 }).max().unwrap_or(0);
    let state: usize = m.nodes.iter().map(state_values).sum();
    let f = &m.frontend;
    let frontend = 2 * f.frame + 2 * (f.frame / 2 + 1);
    4 * (arena_values(m) + state + scratch + frontend)
}

/// The activation arena, planned greedily (first fit, in layer order).
pub fn arena_values(m: &ModelDesc) -> usize {
    let n = m.nodes.len();
    // value k: 0 = the features, k + 1 = layer k's output; last[k] = index of its last reader
    let mut last = vec![0usize; n + 1];
    for (i, node) in m.nodes.iter().enumerate() {
        for s in &node.inputs {
            let k = match s {
                Src::Input => 0,
                Src::Node(j) => j + 1,
            };
            if let Some(l) = last.get_mut(k) {
                *l = (*l).max(i);
            }
        }
    }
    if let Some(l) = last.last_mut() {
        *l = n; // the output outlives every layer
    }
    let mut live: Vec<(usize, usize, usize)> = Vec::new(); // (offset, size, value)
    let mut top = 0;
    let mut place = |live: &mut Vec<(usize, usize, usize)>, size: usize, k: usize| {
        live.sort_unstable();
        let mut at = 0;
        for &(o, s, _) in live.iter() {
            if o >= at + size {
                break;
            }
            at = at.max(o + s);
        }
        live.push((at, size, k));
        top = top.max(at + size);
    };
    place(&mut live, m.shape_of(Src::Input).width(), 0);
    for (i, node) in m.nodes.iter().enumerate() {
        place(&mut live, node.shape.width(), i + 1);
        live.retain(|&(_, _, k)| last.get(k).is_some_and(|&l| l > i));
    }
    top
}
