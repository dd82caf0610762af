//! Quantisation settings: `[quant]` (the defaults) and a layer's `quant = { … }`, their ranges,
//! and the storage groups of each weight tensor.

use super::error::{DescError, Source};
use super::graph::{LayerQuant, WeightShape};
use super::schema::RawQuant;
use crate::diffq::{DiffqConfig, QuantLayout};
use std::ops::Range;
use toml::Spanned;

/// Widths a group can have (the blob's bit-width table).
pub const BITS: std::ops::RangeInclusive<u8> = 1..=15;
/// Largest group the blob format allows.
pub const MAX_GROUP: usize = 4096;

/// `[quant]`: the settings a weighted layer takes unless it sets its own.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QuantDefaults {
    pub group_size: usize,
    pub min_bits: f32,
    pub max_bits: f32,
    pub init_bits: Option<f32>,
    pub pair_rows: bool,
}

/// A value, where it was written (or the table it defaults from), and its field's name.
struct Val<T> {
    v: T,
    span: Range<usize>,
    field: String,
}

fn val<T: Copy>(s: &Option<Spanned<T>>, dflt: T, span: &Range<usize>, field: String) -> Val<T> {
    match s {
        Some(s) => Val { v: *s.get_ref(), span: s.span(), field },
        None => Val { v: dflt, span: span.clone(), field },
    }
}

fn check_group(src: &Source, g: &Val<usize>) -> Result<(), DescError> {
    if g.v == 0 || g.v % 8 != 0 || g.v > MAX_GROUP {
        return Err(src.error(g.span.clone(), &g.field, format!("{} is not a multiple of 8 in 8..=4096", g.v)));
    }
    Ok(())
}

/// Checks `1 <= min_bits < max_bits <= 15` and `init_bits` strictly between; returns the init.
fn check_range(src: &Source, min: &Val<f32>, max: &Val<f32>, init: Option<Val<f32>>) -> Result<f32, DescError> {
    for b in [min, max] {
        if !(b.v.is_finite() && (1.0..=15.0).contains(&b.v)) {
            return Err(src.error(b.span.clone(), &b.field, format!("{} is outside 1..=15", b.v)));
        }
    }
    if min.v >= max.v {
        let msg = format!("min_bits {} must be below max_bits {}", min.v, max.v);
        return Err(src.error(min.span.clone(), &min.field, msg));
    }
    let dflt = DiffqConfig::default().init_bits;
    let init = init.unwrap_or(Val {
        v: if dflt > min.v && dflt < max.v { dflt } else { (min.v + max.v) / 2.0 },
        span: min.span.clone(),
        field: min.field.clone(),
    });
    if !(init.v > min.v && init.v < max.v) {
        let msg = format!("{} must lie strictly between min_bits {} and max_bits {}", init.v, min.v, max.v);
        return Err(src.error(init.span, &init.field, msg));
    }
    Ok(init.v)
}

/// The defaults of `[quant]` (absent: DiffQ's), checked.
pub fn defaults(src: &Source, raw: Option<&Spanned<RawQuant>>) -> Result<QuantDefaults, DescError> {
    let d = DiffqConfig::default();
    let Some(raw) = raw else {
        return Ok(QuantDefaults {
            group_size: d.group_size,
            min_bits: d.min_bits,
            max_bits: d.max_bits,
            init_bits: None,
            pair_rows: d.pair_rows,
        });
    };
    let (r, sp) = (raw.get_ref(), raw.span());
    if let Some((s, name)) = r.keep.as_ref().map(|s| (s.span(), "keep")).or(r.bits.as_ref().map(|s| (s.span(), "bits")))
    {
        return Err(src.error(s, format!("[quant].{name}"), "applies only to a layer's quant = { ... }"));
    }
    let f = |n: &str| format!("[quant].{n}");
    let group = val(&r.group_size, d.group_size, &sp, f("group_size"));
    check_group(src, &group)?;
    let (min, max) =
        (val(&r.min_bits, d.min_bits, &sp, f("min_bits")), val(&r.max_bits, d.max_bits, &sp, f("max_bits")));
    let init = r.init_bits.as_ref().map(|s| Val { v: *s.get_ref(), span: s.span(), field: f("init_bits") });
    let has_init = init.is_some();
    let init = check_range(src, &min, &max, init)?;
    Ok(QuantDefaults {
        group_size: group.v,
        min_bits: min.v,
        max_bits: max.v,
        init_bits: has_init.then_some(init),
        pair_rows: r.pair_rows.as_ref().map_or(d.pair_rows, |s| *s.get_ref()),
    })
}

/// A layer's quantisation: its `quant = { … }` over the defaults. `field` is the layer's field
/// prefix (`[[layer]] "c1"`), `at` the span errors about inherited values point to.
pub fn layer(
    src: &Source,
    field: &str,
    at: &Range<usize>,
    raw: Option<&Spanned<RawQuant>>,
    d: &QuantDefaults,
) -> Result<LayerQuant, DescError> {
    let empty = RawQuant::default();
    let (r, sp) = raw.map_or((&empty, at.clone()), |q| (q.get_ref(), q.span()));
    let f = |n: &str| format!("{field}.quant.{n}");
    if let Some(s) = &r.pair_rows {
        return Err(src.error(s.span(), f("pair_rows"), "applies only to [quant]"));
    }
    let others = [r.bits.as_ref().map(|s| s.span()), r.group_size.as_ref().map(|s| s.span())];
    let ranges = [&r.min_bits, &r.max_bits, &r.init_bits].map(|o| o.as_ref().map(|s| s.span()));
    if let Some(keep) = &r.keep {
        if keep.get_ref() != "f32" {
            return Err(src.error(keep.span(), f("keep"), format!("`{}`: the only value is \"f32\"", keep.get_ref())));
        }
        if let Some(s) = others.iter().chain(&ranges).flatten().next() {
            return Err(src.error(s.clone(), f("keep"), "keep = \"f32\" takes no other quant setting"));
        }
        return Ok(LayerQuant::Keep);
    }
    let group = val(&r.group_size, d.group_size, &sp, f("group_size"));
    check_group(src, &group)?;
    if let Some(bits) = &r.bits {
        if let Some(s) = ranges.iter().flatten().next() {
            return Err(src.error(s.clone(), f("bits"), "a fixed width takes no min_bits, max_bits or init_bits"));
        }
        let b = *bits.get_ref();
        if !BITS.contains(&b) {
            return Err(src.error(bits.span(), f("bits"), format!("{b} is outside 1..=15")));
        }
        return Ok(LayerQuant::Fixed { bits: b, group_size: group.v });
    }
    let (min, max) =
        (val(&r.min_bits, d.min_bits, &sp, f("min_bits")), val(&r.max_bits, d.max_bits, &sp, f("max_bits")));
    let init = r.init_bits.as_ref().map(|s| Val { v: *s.get_ref(), span: s.span(), field: f("init_bits") });
    let init = match (init, d.init_bits) {
        (Some(i), _) => Some(i),
        (None, Some(v)) => Some(Val { v, span: sp.clone(), field: f("init_bits") }),
        (None, None) => None,
    };
    let init_bits = check_range(src, &min, &max, init)?;
    Ok(LayerQuant::Learnt { group_size: group.v, min_bits: min.v, max_bits: max.v, init_bits })
}

/// The storage groups of a tensor of `shape` (none for f32): row pairs where `pair_rows` and the
/// shape allow them (groups within one tap's inputs of two rows), else groups cut from the
/// row-major order, which may span rows. The group size must divide the weight count.
pub fn layout(q: &LayerQuant, shape: &WeightShape, pair_rows: bool) -> Result<Option<QuantLayout>, String> {
    let group_size = match *q {
        LayerQuant::Keep => return Ok(None),
        LayerQuant::Fixed { group_size, .. } | LayerQuant::Learnt { group_size, .. } => group_size,
    };
    let count = shape.count();
    if count % group_size != 0 {
        return Err(format!("group_size {group_size} does not divide the {count} weights of this layer's tensor"));
    }
    let cfg = DiffqConfig { group_size, pair_rows, ..DiffqConfig::default() };
    let n_groups = count / group_size;
    let flat = QuantLayout { count, group_size, n_groups, n_logits: n_groups, row_pairs: None };
    Ok(Some(cfg.layout_for("w", count, shape.inner, shape.row_len).unwrap_or(flat)))
}
