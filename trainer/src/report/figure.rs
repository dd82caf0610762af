//! One picture, drawn twice with plotters (PNG through an in-memory bitmap and `png`, SVG as a
//! string) and written atomically; its text uses the embedded DejaVu Sans (assets/), so no
//! system font is looked up.

use anyhow::{anyhow, Context, Result};
use plotters::backend::RGBPixel;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Once;

/// The font every picture's text is drawn with (assets/DejaVuSans.LICENSE).
static FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

/// The family name the pictures ask plotters for.
pub const FAMILY: &str = "sans-serif";

/// Something to draw on any plotters backend.
pub trait Figure {
    /// Width and height in pixels.
    fn size(&self) -> (u32, u32);
    /// Draws the whole picture on `root` (already filled white).
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>;
}

/// A plotters drawing error as an `anyhow` error (plotters' own errors borrow the backend's
/// error type, which is not always `Send + Sync`).
pub fn plot_err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("drawing failed: {e:?}")
}

fn register_font() -> Result<()> {
    static ONCE: Once = Once::new();
    let mut bad = false;
    ONCE.call_once(|| bad = plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_err());
    if bad {
        return Err(anyhow!("the embedded font assets/DejaVuSans.ttf cannot be read"));
    }
    Ok(())
}

fn png_bytes<F: Figure>(fig: &F) -> Result<Vec<u8>> {
    let (w, h) = fig.size();
    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    {
        let backend = BitMapBackend::<RGBPixel>::with_buffer_and_format(&mut rgb, (w, h)).map_err(plot_err)?;
        let root = backend.into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        fig.draw(&root)?;
        root.present().map_err(plot_err)?;
    }
    encode_png(&rgb, w, h)
}

/// A palette of at most 256 colours for an RGB buffer: its most frequent colours (the plot's
/// own: background, lines, colour-map steps), each other pixel (an edge smoothed by
/// anti-aliasing) mapped to the nearest of them. Returns the palette and each pixel's index.
fn palette_of(rgb: &[u8]) -> (Vec<[u8; 3]>, Vec<u8>) {
    let px =
        |c: &[u8]| [c.first().copied().unwrap_or(0), c.get(1).copied().unwrap_or(0), c.get(2).copied().unwrap_or(0)];
    let mut count: HashMap<[u8; 3], usize> = HashMap::new();
    rgb.chunks_exact(3).for_each(|c| *count.entry(px(c)).or_default() += 1);
    let mut by_count: Vec<([u8; 3], usize)> = count.into_iter().collect();
    by_count.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let palette: Vec<[u8; 3]> = by_count.iter().take(256).map(|(c, _)| *c).collect();
    let dist =
        |a: &[u8; 3], b: &[u8; 3]| a.iter().zip(b).map(|(x, y)| (i32::from(*x) - i32::from(*y)).pow(2)).sum::<i32>();
    let mut index: HashMap<[u8; 3], u8> = HashMap::new();
    let indices = rgb
        .chunks_exact(3)
        .map(|c| {
            let c = px(c);
            *index.entry(c).or_insert_with(|| {
                let nearest = palette.iter().enumerate().min_by_key(|(_, p)| dist(p, &c));
                nearest.map_or(0, |(i, _)| i as u8)
            })
        })
        .collect();
    (palette, indices)
}

/// PNG of an RGB buffer as 8-bit indexed colour ([`palette_of`]): a third of the bytes of RGB.
fn encode_png(rgb: &[u8], w: u32, h: u32) -> Result<Vec<u8>> {
    let (palette, indices) = palette_of(rgb);
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(png::ColorType::Indexed);
    enc.set_palette(palette.concat());
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(png::Compression::High);
    let mut writer = enc.write_header()?;
    writer.write_image_data(&indices)?;
    writer.finish()?;
    Ok(out)
}

fn svg_string<F: Figure>(fig: &F) -> Result<String> {
    let mut s = String::new();
    {
        let root = SVGBackend::with_string(&mut s, fig.size()).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        fig.draw(&root)?;
        root.present().map_err(plot_err)?;
    }
    Ok(s)
}

/// Draws `fig` into `dir/name.png` and `dir/name.svg` (each written atomically) and returns
/// both paths.
pub fn save<F: Figure>(fig: &F, dir: &Path, name: &str) -> Result<[PathBuf; 2]> {
    register_font()?;
    let png = dir.join(format!("{name}.png"));
    let svg = dir.join(format!("{name}.svg"));
    let bytes = png_bytes(fig).with_context(|| format!("drawing {}", png.display()))?;
    audio_tools::file::write_atomic(&png, &bytes)?;
    let text = svg_string(fig).with_context(|| format!("drawing {}", svg.display()))?;
    audio_tools::file::write_atomic(&svg, text.as_bytes())?;
    Ok([png, svg])
}

/// The text style of a picture at `size` pixels.
pub fn font(size: f64) -> TextStyle<'static> {
    (FAMILY, size).into_font().into()
}
