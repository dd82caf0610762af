//! `[frontend]`: its defaults and ranges.

use super::error::{DescError, Source};
use super::graph::Frontend;
use super::schema::{Features, Output, RawFrontend};
use toml::Spanned;

/// Sample rates the runtime's front end supports.
pub const SAMPLE_RATES: [u32; 2] = [8000, 16000];
/// Mel bands a log-mel front end may have.
pub const N_MELS: std::ops::RangeInclusive<usize> = 8..=128;
/// Classes a classifier may have.
pub const N_CLASSES: std::ops::RangeInclusive<usize> = 2..=1024;

/// A value and the span it came from (the table's span when it was left to its default).
fn get<T: Copy>(v: &Option<Spanned<T>>, dflt: T, table: std::ops::Range<usize>) -> (T, std::ops::Range<usize>) {
    v.as_ref().map_or((dflt, table), |s| (*s.get_ref(), s.span()))
}

/// The front end of `[frontend]` (absent: the built-in one).
pub fn frontend(src: &Source, raw: Option<&Spanned<RawFrontend>>) -> Result<Frontend, DescError> {
    let d = Frontend::builtin();
    let Some(raw) = raw else { return Ok(d) };
    let (r, table) = (raw.get_ref(), raw.span());
    let err = |span, field: &str, msg: String| src.error(span, format!("[frontend].{field}"), msg);
    let (sample_rate, sp) = get(&r.sample_rate, d.sample_rate, table.clone());
    if !SAMPLE_RATES.contains(&sample_rate) {
        return Err(err(sp, "sample_rate", format!("{sample_rate} Hz is not supported (8000 or 16000)")));
    }
    let runs = runtime::dsp::frame_at(sample_rate).unwrap_or(d.frame);
    let (frame, sp) = get(&r.frame, runs, table.clone());
    if frame != runs {
        let msg = format!("{frame} samples: the runtime's front end at {sample_rate} Hz uses {runs}-sample frames");
        return Err(err(sp, "frame", msg));
    }
    let (hop, sp) = get(&r.hop, frame / 2, table.clone());
    if hop != frame / 2 {
        return Err(err(sp, "hop", format!("{hop} samples: the front end needs hop = frame / 2 = {}", frame / 2)));
    }
    let (features, _) = get(&r.features, d.features, table.clone());
    let n_mels = r.n_mels.as_ref().map(|s| (*s.get_ref(), s.span()));
    let n_mels = match (features, n_mels) {
        (Features::Logmel, None) => return Err(err(table, "n_mels", "features = \"logmel\" needs n_mels".into())),
        (Features::Logmel, Some((n, sp))) if !N_MELS.contains(&n) || n > frame / 2 => {
            return Err(err(sp, "n_mels", format!("{n} bands: must be in 8..=128 and at most frame / 2")))
        }
        (Features::Logmag, Some((_, sp))) => {
            return Err(err(sp, "n_mels", "applies only to features = \"logmel\"".into()))
        }
        (_, n) => n.map(|(n, _)| n),
    };
    let (output, _) = get(&r.output, d.output, table.clone());
    let n_classes = r.n_classes.as_ref().map(|s| (*s.get_ref(), s.span()));
    let n_classes = match (output, n_classes) {
        (Output::Classes, None) => return Err(err(table, "n_classes", "output = \"classes\" needs n_classes".into())),
        (Output::Classes, Some((n, sp))) if !N_CLASSES.contains(&n) => {
            return Err(err(sp, "n_classes", format!("{n}: must be in 2..=1024")))
        }
        (Output::Mask, Some((_, sp))) => {
            return Err(err(sp, "n_classes", "applies only to output = \"classes\"".into()))
        }
        (_, n) => n.map(|(n, _)| n),
    };
    let (in_mean, sp) = get(&r.in_mean, d.in_mean, table.clone());
    if !in_mean.is_finite() {
        return Err(err(sp, "in_mean", "must be finite".into()));
    }
    let (in_shift, sp) = get(&r.in_shift, d.in_shift, table);
    if !(-20..=20).contains(&in_shift) {
        return Err(err(sp, "in_shift", format!("{in_shift}: must be in -20..=20")));
    }
    Ok(Frontend { sample_rate, frame, hop, features, n_mels, output, n_classes, in_mean, in_shift })
}
