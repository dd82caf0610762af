//! Blob bytes against SI-SDRi, one point per model, coloured by method, with the Pareto front
//! (no other point is both smaller and better). Points come from a table (`--points`, TOML) or
//! from blobs evaluated here on the held-out test set, exactly as `trainer eval` does.

use super::figure::{font, plot_err, Figure};
use super::ReportError;
use crate::cli::DataArgs;
use crate::data::{self, Corpus, Split};
use crate::eval::{self, RunPath};
use anyhow::{Context, Result};
use plotters::coord::combinators::{BindKeyPoints, LogCoord};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// One model: its method (`fp32`, `ptq`, `qat`, `diffq` or any other word), a label, its blob
/// size and its SI-SDR improvement.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Point {
    pub method: String,
    pub label: String,
    pub bytes: u64,
    pub si_sdri: f64,
}

/// A `--points` file: `[[point]]` tables, and an optional `source` saying where they come from.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PointsFile {
    #[serde(default)]
    source: Option<String>,
    point: Vec<Point>,
}

/// The Pareto picture.
pub struct Pareto {
    pub points: Vec<Point>,
    /// Where the numbers come from (shown under the title).
    pub source: String,
}

impl Pareto {
    /// Reads a `--points` TOML file.
    pub fn from_file(path: &Path) -> Result<Pareto> {
        let bad = |why: String| ReportError::Points { path: path.to_path_buf(), why };
        let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
        let f: PointsFile = toml::from_str(&text).map_err(|e| bad(e.to_string()))?;
        if f.point.is_empty() {
            return Err(bad("it holds no [[point]]".into()).into());
        }
        if let Some(p) = f.point.iter().find(|p| p.bytes == 0 || !p.si_sdri.is_finite()) {
            return Err(bad(format!("point {:?}: bytes must be > 0 and SI-SDRi finite", p.label)).into());
        }
        let source = f.source.unwrap_or_else(|| path.display().to_string());
        Ok(Pareto { points: f.point, source })
    }

    /// Evaluates each blob through `runtime::Model` (f32 path) on the test set of `trainer
    /// eval`'s defaults at the blob's rate.
    pub fn evaluate(blobs: &[PathBuf], data: &DataArgs) -> Result<Pareto> {
        let mut sets: std::collections::BTreeMap<u32, Vec<data::Mixture>> = Default::default();
        let mut points = Vec::new();
        for path in blobs {
            let blob = eval::read_blob(path)?;
            let model = eval::parse_denoiser(&blob).with_context(|| path.display().to_string())?;
            let rate = eval::blob_stft(&model)?.rate();
            let mixes = match sets.entry(rate) {
                std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::btree_map::Entry::Vacant(e) => {
                    let corpus = Corpus::load_at(&data.selection(), Split::Test, None, rate)?;
                    e.insert(data::test_set(&corpus, eval::TEST_PER_SNR, eval::TEST_SECONDS, eval::TEST_SEED))
                }
            };
            let r = eval::evaluate(mixes, |x| eval::enhance_blob(&model, x, RunPath::F32))?;
            let label = path.file_stem().map_or_else(|| path.display().to_string(), |s| s.to_string_lossy().into());
            let method = method_of(&model)?;
            eprintln!("{}: {} bytes, SI-SDRi {:.2} dB ({method})", path.display(), blob.len(), r.si_sdri);
            points.push(Point { method, label, bytes: blob.len() as u64, si_sdri: r.si_sdri });
        }
        let n: usize = sets.values().map(Vec::len).sum();
        Ok(Pareto { points, source: format!("trainer eval of {} blob(s), {n} test mixtures", blobs.len()) })
    }

    /// The points on the front, smallest first, as (KB, SI-SDRi).
    fn front(&self) -> Vec<(f64, f64)> {
        let mut ps: Vec<&Point> = self.points.iter().collect();
        ps.sort_by(|a, b| a.bytes.cmp(&b.bytes).then(b.si_sdri.total_cmp(&a.si_sdri)));
        let mut best = f64::NEG_INFINITY;
        ps.into_iter()
            .filter(|p| {
                let keep = p.si_sdri > best;
                best = best.max(p.si_sdri);
                keep
            })
            .map(|p| (kb(p.bytes), p.si_sdri))
            .collect()
    }
}

impl Pareto {
    /// A point's label: above and to the right, to the left near the right edge, below when a
    /// better point has the same size.
    fn label(&self, p: &Point, hi_kb: f64) -> Text<'static, (i32, i32), String> {
        let left = kb(p.bytes) > hi_kb / 1.8;
        let below = self.points.iter().any(|q| q.bytes == p.bytes && q.si_sdri > p.si_sdri);
        let (h, x) = if left { (HPos::Right, -10) } else { (HPos::Left, 10) };
        let (v, y) = if below { (VPos::Top, 8) } else { (VPos::Bottom, -6) };
        Text::new(p.label.clone(), (x, y), font(14.0).color(&BLACK).pos(Pos::new(h, v)))
    }
}

/// 1-2-5 ticks between `lo` and `hi`, or every integer multiple of a decade when that gives
/// fewer than three (a narrow range).
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let ticks = |mults: &[f64]| {
        let mut v = Vec::new();
        let mut decade = 10f64.powf(lo.log10().floor());
        while decade <= hi {
            v.extend(mults.iter().map(|m| m * decade).filter(|t| (lo..=hi).contains(t)));
            decade *= 10.0;
        }
        v
    };
    let v = ticks(&[1.0, 2.0, 5.0]);
    if v.len() >= 3 {
        return v;
    }
    ticks(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0])
}

fn kb(bytes: u64) -> f64 {
    bytes as f64 / 1000.0
}

/// What a blob's widths say its method is: f32 weights, one width everywhere (PTQ or QAT: the
/// blob does not tell them apart) or learnt widths.
fn method_of(m: &runtime::Model) -> Result<String> {
    let mut fixed = std::collections::BTreeSet::new();
    for i in 0..m.n_layers() {
        let l = m.layer(i)?;
        if !l.op.has_weights() {
            continue;
        }
        match m.tensor(l.weight)?.weights {
            runtime::format::Weights::F32(_) | runtime::format::Weights::F16(_) => return Ok("fp32".into()),
            runtime::format::Weights::Packed(p) => match p.fixed_bits() {
                Some(b) => fixed.insert(b),
                None => return Ok("diffq".into()),
            },
        };
    }
    Ok(match fixed.len() {
        1 => format!("uniform {}-bit", fixed.first().copied().unwrap_or(0)),
        _ => "mixed".into(),
    })
}

/// Colour and legend name of a method.
fn style_of(method: &str, others: &[String]) -> (RGBColor, String) {
    match method {
        "fp32" => (RGBColor(90, 90, 90), "fp32".into()),
        "ptq" => (RGBColor(31, 119, 180), "post-training quantisation".into()),
        "qat" => (RGBColor(255, 127, 14), "QAT (straight-through)".into()),
        "diffq" => (RGBColor(214, 39, 40), "DiffQ (learnt bits)".into()),
        m => {
            let k = others.iter().position(|o| o == m).unwrap_or(0);
            {
                let (r, g, b) = Palette99::pick(k + 4).to_rgba().rgb();
                (RGBColor(r, g, b), m.to_string())
            }
        }
    }
}

impl Figure for Pareto {
    fn size(&self) -> (u32, u32) {
        (1100, 720)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let (lo, hi) =
            self.points.iter().fold((f64::MAX, f64::MIN), |(l, h), p| (l.min(kb(p.bytes)), h.max(kb(p.bytes))));
        let (ylo, yhi) =
            self.points.iter().fold((f64::MAX, f64::MIN), |(l, h), p| (l.min(p.si_sdri), h.max(p.si_sdri)));
        let pad = ((yhi - ylo) * 0.12).max(0.1);
        // At least a factor of 4 across, so the log axis has ticks.
        let widen = (4.0 / (hi / lo)).max(1.0).sqrt();
        let (lo, hi) = (lo / widen, hi * widen);
        let mut chart = ChartBuilder::on(root)
            .caption(format!("Size against quality ({})", self.source), font(20.0))
            .margin(16)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(
                LogCoord::from((lo / 1.25..hi * 1.25).log_scale()).with_key_points(log_ticks(lo / 1.25, hi * 1.25)),
                ylo - pad..yhi + pad,
            )
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .x_desc("blob size (KB, log scale)")
            .y_desc("SI-SDR improvement (dB)")
            .x_label_formatter(&|v| format!("{v:.0}"))
            .label_style(font(15.0))
            .axis_desc_style(font(16.0))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(plot_err)?;
        let front = self.front();
        let grey = ShapeStyle::from(&RGBColor(120, 120, 120)).stroke_width(1);
        chart
            .draw_series(DashedLineSeries::new(front, 7, 5, grey))
            .map_err(plot_err)?
            .label("Pareto front")
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], grey));
        let mut methods: Vec<String> = Vec::new();
        let mut others: Vec<String> = Vec::new();
        for p in &self.points {
            if !["fp32", "ptq", "qat", "diffq"].contains(&p.method.as_str()) && !others.contains(&p.method) {
                others.push(p.method.clone());
            }
        }
        for p in &self.points {
            let (color, name) = style_of(&p.method, &others);
            let at = (kb(p.bytes), p.si_sdri);
            let mark = EmptyElement::at(at) + Circle::new((0, 0), 7, color.filled()) + self.label(p, hi);
            let s = chart.draw_series([mark]).map_err(plot_err)?;
            if !methods.contains(&p.method) {
                methods.push(p.method.clone());
                s.label(name).legend(move |(x, y)| Circle::new((x + 10, y), 6, color.filled()));
            }
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .label_font(font(15.0))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()
            .map_err(plot_err)?;
        Ok(())
    }
}
