//! Spectrograms of a clip: noisy, clean and denoised (the blob run through `runtime::pipeline`,
//! as `trainer denoise` does), from the project's own STFT front end (`runtime::dsp`), in dB on
//! one shared colour scale.

use super::figure::{font, plot_err, Figure};
use crate::audio;
use crate::eval::{self, RunPath};
use crate::features::{self, Stft};
use anyhow::{Context, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use runtime::dsp;
use std::path::Path;

/// Colour scale span below the loudest bin.
const RANGE_DB: f64 = 80.0;
/// Colour steps (one rectangle per run of equal steps along a bin keeps the SVG small).
const STEPS: usize = 32;

/// Magnitude in dB of each frame (one per hop) and bin.
pub struct Spectrogram {
    pub title: String,
    pub stft: Stft,
    pub frames: Vec<Vec<f32>>,
}

impl Spectrogram {
    /// The STFT of `x` (at `stft`'s rate) through the runtime's analyser, hop by hop (a last
    /// partial hop is padded with zeros), as 20·log10 of the magnitude.
    pub fn of(title: &str, x: &[f32], stft: Stft) -> Spectrogram {
        let specs = features::spectra(stft, x);
        let frames = specs
            .frames()
            .map(|spec| {
                let mut mag = vec![0f32; stft.bins()];
                dsp::magnitudes(spec, &mut mag);
                mag.iter_mut().for_each(|m| *m = 20.0 * (*m).max(1e-9).log10());
                mag
            })
            .collect();
        Spectrogram { title: title.to_string(), stft, frames }
    }

    fn max_db(&self) -> f64 {
        self.frames.iter().flat_map(|f| f.iter()).fold(f64::MIN, |m, &v| m.max(f64::from(v)))
    }
}

/// The three spectrograms of a clip.
pub struct Spectrograms {
    pub panels: Vec<Spectrogram>,
    pub model: String,
}

impl Spectrograms {
    /// Reads the noisy and the clean clip and denoises the noisy one with the blob at `model`.
    pub fn load(noisy: &Path, clean: &Path, model: &Path) -> Result<Spectrograms> {
        let blob = eval::read_blob(model)?;
        let m = eval::parse_denoiser(&blob).with_context(|| model.display().to_string())?;
        let stft = eval::blob_stft(&m)?;
        let (x, cx) = audio::read_wav_at(noisy, stft.rate())?;
        let (s, cs) = audio::read_wav_at(clean, stft.rate())?;
        let y = eval::enhance_blob(&m, &x, RunPath::F32)?;
        let file = |p: &Path| p.file_name().map_or_else(String::new, |s| s.to_string_lossy().into_owned());
        // a converted clip says so in its panel's title (the model hears it at its own rate)
        let name = |p: &Path, c: &Option<audio_tools::convert::Conversion>| match c {
            Some(c) => format!("{}, {c}", file(p)),
            None => file(p),
        };
        let model_name = file(model);
        Ok(Spectrograms {
            panels: vec![
                Spectrogram::of(&format!("noisy ({})", name(noisy, &cx)), &x, stft),
                Spectrogram::of(&format!("clean ({})", name(clean, &cs)), &s, stft),
                Spectrogram::of(&format!("denoised by {model_name} (f32 path)"), &y, stft),
            ],
            model: model_name,
        })
    }
}

/// Colour of a level in dB on the shared scale `[top − RANGE_DB, top]`, in `STEPS` steps.
fn step_of(db: f64, top: f64) -> usize {
    let t = ((db - (top - RANGE_DB)) / RANGE_DB).clamp(0.0, 1.0);
    ((t * (STEPS - 1) as f64).round() as usize).min(STEPS - 1)
}

fn color_of_step(k: usize) -> RGBColor {
    ViridisRGB::get_color(k as f64 / (STEPS - 1) as f64)
}

fn draw_panel<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, sp: &Spectrogram, top: f64) -> Result<()> {
    let (rate, bins) = (f64::from(sp.stft.rate()), sp.stft.bins());
    let hop_s = sp.stft.hop() as f64 / rate;
    let dur = sp.frames.len() as f64 * hop_s;
    let bin_hz = rate / (2.0 * (bins - 1) as f64);
    let mut chart = ChartBuilder::on(area)
        .caption(&sp.title, font(18.0))
        .margin(8)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..dur, 0.0..rate / 2000.0)
        .map_err(plot_err)?;
    let mut cells = Vec::new();
    for k in 0..bins {
        let steps: Vec<usize> =
            sp.frames.iter().map(|f| step_of(f64::from(f.get(k).copied().unwrap_or(0.0)), top)).collect();
        let (f0, f1) = (((k as f64) - 0.5).max(0.0) * bin_hz / 1000.0, ((k as f64) + 0.5) * bin_hz / 1000.0);
        let mut t0 = 0;
        for t in 1..=steps.len() {
            if t == steps.len() || steps.get(t) != steps.get(t0) {
                let c = color_of_step(steps.get(t0).copied().unwrap_or(0));
                cells.push(Rectangle::new([(t0 as f64 * hop_s, f0), (t as f64 * hop_s, f1.min(4.0))], c.filled()));
                t0 = t;
            }
        }
    }
    chart.draw_series(cells).map_err(plot_err)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("time (s)")
        .y_desc("frequency (kHz)")
        .label_style(font(13.0))
        .axis_desc_style(font(14.0))
        .draw()
        .map_err(plot_err)?;
    Ok(())
}

/// The colour bar: the scale in dB relative to the loudest bin of the three clips.
fn draw_bar<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>) -> Result<()> {
    let mut chart = ChartBuilder::on(area)
        .caption("dB (0 = loudest)", font(14.0))
        .margin_top(40)
        .margin_bottom(60)
        .margin_right(10)
        .y_label_area_size(44)
        .build_cartesian_2d(0.0..1.0, -RANGE_DB..0.0)
        .map_err(plot_err)?;
    let step_db = RANGE_DB / STEPS as f64;
    chart
        .draw_series((0..STEPS).map(|k| {
            let lo = -RANGE_DB + k as f64 * step_db;
            Rectangle::new([(0.0, lo), (1.0, lo + step_db)], color_of_step(k).filled())
        }))
        .map_err(plot_err)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .label_style(font(13.0))
        .y_label_formatter(&|v| format!("{v:.0}"))
        .draw()
        .map_err(plot_err)?;
    Ok(())
}

impl Figure for Spectrograms {
    fn size(&self) -> (u32, u32) {
        (1100, 40 + 230 * self.panels.len() as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let (title, body) = root.split_vertically(40);
        let stft = self.panels.first().map_or(Stft::Narrowband, |p| p.stft);
        let (points, hop_ms) = (2 * stft.hop(), 1000 * stft.hop() as u32 / stft.rate());
        let what = format!(
            "Spectrograms (STFT of runtime::dsp: {points}-point sqrt-Hann frames, {hop_ms} ms hop), model {}",
            self.model
        );
        title.titled(&what, font(20.0)).map_err(plot_err)?;
        let (w, _) = body.dim_in_pixel();
        let (plots, bar) = body.split_horizontally(w.saturating_sub(110));
        let top = self.panels.iter().map(Spectrogram::max_db).fold(f64::MIN, f64::max);
        for (area, sp) in plots.split_evenly((self.panels.len(), 1)).iter().zip(&self.panels) {
            draw_panel(area, sp, top)?;
        }
        draw_bar(&bar)
    }
}
