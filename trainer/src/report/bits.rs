//! The bit allocation of a blob as a heat map: one panel per weighted layer, its weight matrix
//! (output row × input column in the blob's `[tap][in]` order), each weight coloured by the bit
//! width of the group that holds it (`runtime::format::Layout` maps a weight to its group).

use super::figure::{font, plot_err, Figure};
use super::ReportError;
use anyhow::{anyhow, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use runtime::format::{Layout, Node, Op, Weights};
use runtime::Model;
use std::path::Path;

/// One weighted layer's widths, row-major: `bits[r·cols + c]`.
pub struct LayerBits {
    pub title: String,
    pub rows: usize,
    pub cols: usize,
    /// Taps of a convolution (its columns are `taps` blocks of its inputs), 1 for linear.
    pub taps: usize,
    pub bits: Vec<u8>,
}

/// The heat map of one blob.
pub struct BitMap {
    /// The blob's file stem (the picture is `bits-NAME`).
    pub name: String,
    /// The blob's file name.
    pub file: String,
    /// What one group is, for the title ("32 inputs × 2 output rows"; every distinct shape, in
    /// node order, joined by " or ").
    pub group: Option<String>,
    pub layers: Vec<LayerBits>,
}

/// Widths of every weight of a tensor: its groups' widths (packed), or 32 / 16 (f32 / f16).
fn widths(w: &Weights, count: usize) -> Vec<u8> {
    match w {
        Weights::F32(_) => vec![32; count],
        Weights::F16(_) => vec![16; count],
        Weights::Packed(p) => {
            let gs = usize::from(p.group_size.max(1));
            (0..count).map(|i| p.group_bits(p.layout.position(count, gs, i) / gs)).collect()
        }
    }
}

/// The weight tensors of node `n` and what each is: none for an op without weights, two for a
/// GRU (`W_x`, `W_h`).
fn node_tensors(n: &Node) -> Vec<(u16, &'static str)> {
    match n.op {
        Op::Gru => vec![(n.weight, " W_x"), (n.weight2, " W_h")],
        op if op.has_weights() => vec![(n.weight, "")],
        _ => Vec::new(),
    }
}

/// One weight tensor of node `i` as a panel: output rows (a GRU's three gates stacked) by the
/// rest, a convolution's taps side by side.
fn node_bits(i: u16, n: &Node, what: &str, count: usize, w: &Weights) -> LayerBits {
    let rows = if n.op == Op::Gru { 3 * usize::from(n.out_c) } else { usize::from(n.out_c) }.max(1);
    let bits = widths(w, count);
    let (cols, taps) = (count / rows, usize::from(n.kernel_t).max(1) * usize::from(n.kernel_h).max(1));
    let shape = match n.op {
        Op::Conv1d => format!("conv1d k{} d{}: {rows} × ({taps} × {})", n.kernel_t, n.dilation, cols / taps),
        Op::Conv2d => format!("conv2d {}x{}: {rows} × ({taps} × {})", n.kernel_h, n.kernel_t, cols / taps),
        Op::Gru => format!("gru{what}: {rows} × {cols}"),
        _ => format!("linear: {rows} × {cols}"),
    };
    let title = format!("node {i}, {shape}, mean {:.2} bits", mean(&bits));
    let taps = if matches!(n.op, Op::Conv1d | Op::Conv2d) { taps } else { 1 };
    LayerBits { title, rows, cols, taps, bits }
}

fn mean(bits: &[u8]) -> f64 {
    bits.iter().map(|&b| f64::from(b)).sum::<f64>() / bits.len().max(1) as f64
}

impl BitMap {
    /// Reads the widths of every weight tensor of the blob at `path`: each weighted node's (a
    /// GRU's input and hidden matrices apart), a node graph's or a layer chain's alike.
    pub fn load(path: &Path) -> Result<BitMap> {
        let blob = crate::eval::read_blob(path)?;
        let m = Model::parse(&blob).map_err(|e| ReportError::Blob { path: path.to_path_buf(), why: e.to_string() })?;
        let mut layers = Vec::new();
        let mut group = None;
        for i in 0..m.n_nodes() {
            let n = m.node(i)?;
            for (weight, what) in node_tensors(&n) {
                let t = m.tensor(weight)?;
                if let Weights::Packed(p) = &t.weights {
                    let shape = match p.layout {
                        Layout::RowPairs { .. } => format!("{} inputs × 2 output rows", p.group_size / 2),
                        Layout::Rows => format!("{} weights of a row", p.group_size),
                    };
                    group = match group {
                        None => Some(shape),
                        Some(g) if g.split(" or ").any(|s| s == shape) => Some(g),
                        Some(g) => Some(format!("{g} or {shape}")),
                    };
                }
                layers.push(node_bits(i, &n, what, t.count as usize, &t.weights));
            }
        }
        if layers.is_empty() {
            return Err(anyhow!("{}: the blob has no weighted layer", path.display()));
        }
        let name = path.file_stem().map_or_else(|| "model".into(), |s| s.to_string_lossy().into_owned());
        let file = path.file_name().map_or_else(|| name.clone(), |s| s.to_string_lossy().into_owned());
        Ok(BitMap { name, file, group, layers })
    }

    /// The distinct widths, smallest first.
    fn levels(&self) -> Vec<u8> {
        let mut v: Vec<u8> = self.layers.iter().flat_map(|l| l.bits.iter().copied()).collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}

/// A fixed colour per width: viridis over the widths present, in order.
fn color_of(levels: &[u8], b: u8) -> RGBColor {
    let k = levels.iter().position(|&l| l == b).unwrap_or(0);
    let t = if levels.len() > 1 { k as f64 / (levels.len() - 1) as f64 } else { 0.5 };
    ViridisRGB::get_color(t)
}

fn draw_layer<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, l: &LayerBits, levels: &[u8]) -> Result<()> {
    let mut chart = ChartBuilder::on(area)
        .caption(&l.title, font(17.0))
        .margin(10)
        .x_label_area_size(38)
        .y_label_area_size(52)
        // Row r spans y in [−r−1, −r]: row 0 at the top, the axis labelled −y.
        .build_cartesian_2d(0f64..l.cols as f64, -(l.rows as f64)..0f64)
        .map_err(plot_err)?;
    // One rectangle per run of equal widths along a row (the SVG stays small).
    let mut cells = Vec::new();
    for (r, row) in l.bits.chunks(l.cols.max(1)).enumerate() {
        let mut c0 = 0;
        for c in 1..=row.len() {
            if c == row.len() || row.get(c) != row.get(c0) {
                let b = row.get(c0).copied().unwrap_or(0);
                let (y0, y1) = (-(r as f64), -(r as f64) - 1.0);
                cells.push(Rectangle::new([(c0 as f64, y0), (c as f64, y1)], color_of(levels, b).filled()));
                c0 = c;
            }
        }
    }
    chart.draw_series(cells).map_err(plot_err)?;
    // The boundaries between a convolution's taps.
    let taps = (1..l.taps).map(|k| (k * l.cols / l.taps) as f64);
    chart
        .draw_series(taps.map(|x| PathElement::new([(x, 0.0), (x, -(l.rows as f64))], WHITE.stroke_width(2))))
        .map_err(plot_err)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(if l.taps > 1 { "input column (tap-major: one block per tap, oldest first)" } else { "input" })
        .y_desc("output row")
        .label_style(font(13.0))
        .axis_desc_style(font(14.0))
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| format!("{:.0}", v.abs()))
        .draw()
        .map_err(plot_err)?;
    Ok(())
}

fn draw_key<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, levels: &[u8]) -> Result<()> {
    area.draw_text("bits per weight:", &font(18.0).into_text_style(area), (20, 14)).map_err(plot_err)?;
    for (k, &b) in levels.iter().enumerate() {
        let x = 180 + 110 * k as i32;
        area.draw(&Rectangle::new([(x, 12), (x + 28, 34)], color_of(levels, b).filled())).map_err(plot_err)?;
        area.draw(&Rectangle::new([(x, 12), (x + 28, 34)], BLACK)).map_err(plot_err)?;
        area.draw_text(&format!("{b}"), &font(18.0).into_text_style(area), (x + 36, 14)).map_err(plot_err)?;
    }
    Ok(())
}

impl Figure for BitMap {
    fn size(&self) -> (u32, u32) {
        (1200, 300 * self.layers.len().div_ceil(2) as u32 + 100)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let (title, rest) = root.split_vertically(40);
        let (key, body) = rest.split_vertically(50);
        let what = match &self.group {
            Some(g) => format!("Bit widths of {}: one per group of {g}", self.file),
            None => format!("Bit widths of {} (no packed tensor)", self.file),
        };
        title.titled(&what, font(22.0)).map_err(plot_err)?;
        let levels = self.levels();
        draw_key(&key, &levels)?;
        let rows = self.layers.len().div_ceil(2);
        for (area, l) in body.split_evenly((rows, 2)).iter().zip(&self.layers) {
            draw_layer(area, l, &levels)?;
        }
        Ok(())
    }
}
