//! Training curves of one or more runs (their `checkpoint.json` history): loss, blob size, λ and
//! mean bits against the step.

use super::figure::{font, plot_err, Figure};
use super::ReportError;
use crate::checkpoint::{LogEntry, Meta};
use anyhow::Result;
use plotters::coord::ranged1d::{Ranged, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::ops::Range;
use std::path::Path;

/// One run's logged history, named for the legend.
pub struct Run {
    pub name: String,
    pub history: Vec<LogEntry>,
    /// The size target in bytes, if the run had one.
    pub target_bytes: Option<f64>,
    /// The step at which the bit widths were frozen, if they were.
    pub freeze_step: Option<f64>,
}

impl Run {
    /// Reads a run: its directory (`DIR/checkpoint.json`) or that JSON file itself (such as
    /// `models/conv8k.train.json`).
    pub fn load(path: &Path) -> Result<Run> {
        if !path.exists() {
            let why = "no such file or directory (give a run directory holding checkpoint.json, or that JSON file)";
            return Err(ReportError::Run { path: path.to_path_buf(), why: why.into() }.into());
        }
        let json = if path.is_dir() { path.join("checkpoint.json") } else { path.to_path_buf() };
        let text = std::fs::read_to_string(&json).map_err(|e| ReportError::Run {
            path: json.clone(),
            why: if path.is_dir() {
                format!("no readable checkpoint.json in the run directory ({e})")
            } else {
                e.to_string()
            },
        })?;
        let meta: Meta = serde_json::from_str(&text)
            .map_err(|e| ReportError::Run { path: json.clone(), why: format!("not a run's checkpoint.json: {e}") })?;
        if meta.history.is_empty() {
            return Err(ReportError::Run { path: json, why: "its history is empty (no log point yet)".into() }.into());
        }
        let file = path.file_name().map_or_else(|| "run".into(), |s| s.to_string_lossy().into_owned());
        let name = file.strip_suffix(".json").unwrap_or(&file).to_string();
        let freeze_step = meta.train.freeze_bits.map(|f| f * meta.train.steps as f64);
        Ok(Run { name, history: meta.history, target_bytes: meta.train.target_bytes, freeze_step })
    }
}

/// The four panels of the curves picture.
pub struct Curves {
    pub runs: Vec<Run>,
}

/// A curve: its legend suffix and the value it takes from each log entry.
type Series = (&'static str, fn(&LogEntry) -> Option<f64>);

/// One quantity of the history.
struct Panel {
    title: &'static str,
    y_desc: &'static str,
    log_y: bool,
    /// The curves of one run: (legend suffix, value of each entry).
    series: &'static [Series],
}

const PANELS: [Panel; 4] = [
    Panel {
        title: "Loss",
        y_desc: "loss (MSE of magnitude^0.5)",
        log_y: false,
        series: &[("train", |e| Some(e.loss)), ("validation", |e| e.val_loss)],
    },
    Panel {
        title: "Model size (blob estimate)",
        y_desc: "size (KB of 1000 bytes)",
        log_y: false,
        series: &[("", |e| e.size_bytes.map(|b| b / 1000.0))],
    },
    Panel {
        title: "Size penalty weight λ", y_desc: "λ (log scale)", log_y: true, series: &[("", |e| Some(e.lambda))]
    },
    Panel { title: "Mean bits per quantised weight", y_desc: "bits", log_y: false, series: &[("", |e| e.avg_bits)] },
];

/// Finite (and, on a log axis, positive) values only.
fn usable(v: Option<f64>, log: bool) -> Option<f64> {
    v.filter(|x| x.is_finite() && (!log || *x > 0.0))
}

/// The data's range with a margin, and room above it for the legend.
fn padded(lo: f64, hi: f64, log: bool) -> Range<f64> {
    if log {
        return lo / 1.5..hi * (hi / lo).max(10.0).powf(0.45);
    }
    let pad = ((hi - lo) * 0.06).max(hi.abs() * 0.02).max(1e-9);
    lo - pad..hi + pad + (hi - lo) * 0.35
}

impl Curves {
    fn x_range(&self) -> Range<f64> {
        let hi = self.runs.iter().flat_map(|r| r.history.iter().map(|e| e.step as f64)).fold(1.0, f64::max);
        0.0..hi
    }

    fn y_range(&self, p: &Panel) -> Option<Range<f64>> {
        let mut vals = self.runs.iter().flat_map(|r| {
            r.history.iter().flat_map(|e| p.series.iter().filter_map(move |(_, f)| usable(f(e), p.log_y)))
        });
        let first = vals.next()?;
        let (mut lo, mut hi) = vals.fold((first, first), |(lo, hi), v| (lo.min(v), hi.max(v)));
        if p.title.starts_with("Model size") {
            for t in self.runs.iter().filter_map(|r| r.target_bytes) {
                (lo, hi) = (lo.min(t / 1000.0), hi.max(t / 1000.0));
            }
        }
        Some(padded(lo, hi, p.log_y))
    }

    fn draw_panel<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, p: &Panel) -> Result<()> {
        let Some(y) = self.y_range(p) else {
            let style = font(18.0).pos(plotters::style::text_anchor::Pos::new(
                plotters::style::text_anchor::HPos::Center,
                plotters::style::text_anchor::VPos::Center,
            ));
            let (w, h) = area.dim_in_pixel();
            area.draw_text(&format!("{}: not logged", p.title), &style, (w as i32 / 2, h as i32 / 2))
                .map_err(plot_err)?;
            return Ok(());
        };
        let mut b = ChartBuilder::on(area);
        b.caption(p.title, font(20.0)).margin(12).x_label_area_size(42).y_label_area_size(70);
        if p.log_y {
            let mut chart = b.build_cartesian_2d(self.x_range(), y.log_scale()).map_err(plot_err)?;
            self.mesh_and_lines(&mut chart, p)
        } else {
            let mut chart = b.build_cartesian_2d(self.x_range(), y).map_err(plot_err)?;
            self.mesh_and_lines(&mut chart, p)
        }
    }

    fn mesh_and_lines<'a, DB, Y>(
        &self,
        chart: &mut ChartContext<'a, DB, Cartesian2d<RangedCoordf64, Y>>,
        p: &Panel,
    ) -> Result<()>
    where
        DB: DrawingBackend + 'a,
        Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
    {
        chart
            .configure_mesh()
            .x_desc("training step")
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_desc(p.y_desc)
            .label_style(font(14.0))
            .axis_desc_style(font(15.0))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(plot_err)?;
        let (y_lo, y_hi) = {
            let r = chart.y_range();
            (r.start, r.end)
        };
        for (i, run) in self.runs.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            if let Some(f) = run.freeze_step {
                let grey = ShapeStyle::from(&RGBColor(150, 150, 150)).stroke_width(1);
                chart.draw_series(DashedLineSeries::new([(f, y_lo), (f, y_hi)], 6, 4, grey)).map_err(plot_err)?;
            }
            if let (Some(t), true) = (run.target_bytes, p.title.starts_with("Model size")) {
                let style = ShapeStyle::from(&color).stroke_width(1);
                let end = self.x_range().end;
                chart
                    .draw_series(DashedLineSeries::new([(0.0, t / 1000.0), (end, t / 1000.0)], 8, 5, style))
                    .map_err(plot_err)?
                    .label(format!("{} target", run.name))
                    .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], style));
            }
            for (k, (suffix, f)) in p.series.iter().enumerate() {
                let pts: Vec<(f64, f64)> =
                    run.history.iter().filter_map(|e| usable(f(e), p.log_y).map(|v| (e.step as f64, v))).collect();
                let style = ShapeStyle::from(&color).stroke_width(if k == 0 { 2 } else { 1 });
                let label = if suffix.is_empty() { run.name.clone() } else { format!("{} {suffix}", run.name) };
                let s = chart.draw_series(LineSeries::new(pts.clone(), style).point_size(0)).map_err(plot_err)?;
                s.label(label).legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], style));
                if k > 0 {
                    chart.draw_series(pts.iter().map(|&p| Cross::new(p, 4, style))).map_err(plot_err)?;
                }
            }
        }
        let targets = p.title.starts_with("Model size") && self.runs.iter().any(|r| r.target_bytes.is_some());
        if self.runs.len() == 1 && p.series.len() == 1 && !targets {
            return Ok(()); // one curve: the title names it
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .label_font(font(14.0))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(plot_err)?;
        Ok(())
    }
}

impl Figure for Curves {
    fn size(&self) -> (u32, u32) {
        (1200, 860)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let (title, body) = root.split_vertically(40);
        let names: Vec<&str> = self.runs.iter().map(|r| r.name.as_str()).collect();
        let mut text = format!("Training curves: {}", names.join(", "));
        if self.runs.iter().any(|r| r.freeze_step.is_some()) {
            text += "   (dashed grey line: bit widths rounded and frozen)";
        }
        title.titled(&text, font(22.0)).map_err(plot_err)?;
        for (area, p) in body.split_evenly((2, 2)).iter().zip(PANELS.iter()) {
            self.draw_panel(area, p)?;
        }
        Ok(())
    }
}
