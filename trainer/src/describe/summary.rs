//! `trainer check-model`: a validated description as a table (one row per layer: what it reads,
//! its output shape, its weights and how they are stored) and its footprint.

use super::graph::{LayerQuant, ModelDesc, Node, Op, Src};
use super::Footprint;
use std::fmt::Write as _;

fn op_name(op: &Op) -> String {
    match *op {
        Op::Conv1d { kernel, dilation, groups, stride, .. } => {
            let s = if stride > 1 { format!(" s{stride}") } else { String::new() };
            format!("conv1d k{kernel} d{dilation} g{groups}{s}")
        }
        Op::Linear { .. } => "linear".into(),
        Op::Gru { hidden } => format!("gru {hidden}"),
        Op::Conv2d { kernel, kernel_f, stride_f, dilation, groups, .. } => {
            format!("conv2d {kernel}×{kernel_f} s{stride_f} d{dilation} g{groups}")
        }
        Op::AvgPool { window } => format!("avgpool {window}"),
        Op::MaxPool { window } => format!("maxpool {window}"),
        other => format!("{other:?}").to_lowercase(),
    }
}

fn quant_name(q: Option<LayerQuant>) -> String {
    match q {
        None => String::new(),
        Some(LayerQuant::Keep) => "f32 (keep)".into(),
        Some(LayerQuant::Fixed { bits, group_size }) => format!("{bits} bits, groups of {group_size}"),
        Some(LayerQuant::Learnt { group_size, min_bits, max_bits, .. }) => {
            format!("DiffQ {min_bits}–{max_bits} bits, groups of {group_size}")
        }
    }
}

fn row(m: &ModelDesc, n: &Node) -> String {
    let reads: Vec<String> = n
        .inputs
        .iter()
        .map(|s| match s {
            Src::Input => "input".to_string(),
            Src::Node(j) => m.nodes.get(*j).map_or_else(|| format!("#{j}"), |x| x.name.clone()),
        })
        .collect();
    let act = n.act.map(|a| format!(" + {}", format!("{a:?}").to_lowercase())).unwrap_or_default();
    let weights: usize = n.weights.iter().map(|w| w.shape.count()).sum();
    format!(
        "| {} | {}{act} | {} | {} | {weights} | {} |",
        n.name,
        op_name(&n.op),
        reads.join(", "),
        n.shape,
        quant_name(n.quant)
    )
}

/// The layer table, the totals and the footprint of `m` (`fp`).
pub fn render(m: &ModelDesc, fp: &Footprint) -> String {
    let f = &m.frontend;
    let mut s = format!(
        "front end: {} Hz, frame {}, hop {}, {:?} features ({}), output {:?} ({})\n\n",
        f.sample_rate,
        f.frame,
        f.hop,
        f.features,
        f.n_features(),
        f.output,
        f.n_outputs()
    );
    s.push_str("| layer | op | reads | output | weights | stored as |\n|---|---|---|---|---:|---|\n");
    for n in &m.nodes {
        let _ = writeln!(s, "{}", row(m, n));
    }
    let b = &m.budget;
    let limit = |l: Option<usize>| l.map(|v| format!(" (budget {v})")).unwrap_or_default();
    let _ = write!(
        s,
        "\n{} weights\nflash: {} bytes with every group at its widest width{}\n\
         RAM (f32 path): {} bytes = arena {} + state {} values of 4 bytes, and the front end's buffers{}\n",
        m.n_weights(),
        fp.flash,
        limit(b.flash_bytes),
        fp.ram,
        fp.arena,
        fp.state,
        limit(b.ram_bytes)
    );
    s
}
