//! A layer under check: its raw fields, and errors that name it, its field, line and column.

use super::error::{DescError, Source};
use super::schema::RawLayer;
use std::ops::Range;
use toml::Spanned;

/// A layer under check: its raw fields and how errors name it.
pub struct LayerCx<'a, 'b> {
    pub src: &'a Source<'b>,
    pub raw: &'a RawLayer,
    /// `[[layer]] "c1"`.
    pub field: String,
}

impl LayerCx<'_, '_> {
    pub fn err(&self, span: Range<usize>, field: &str, msg: impl Into<String>) -> DescError {
        self.src.error(span, format!("{}.{field}", self.field), msg)
    }

    /// The span of the op (errors about the layer as a whole point there).
    pub fn op_span(&self) -> Range<usize> {
        self.raw.op.span()
    }

    /// The optional fields present, with their spans.
    pub fn present(&self) -> Vec<(&'static str, Range<usize>)> {
        let r = self.raw;
        let sp = |o: &Option<Spanned<usize>>| o.as_ref().map(Spanned::span);
        [
            ("out", sp(&r.out)),
            ("kernel", sp(&r.kernel)),
            ("kernel_f", sp(&r.kernel_f)),
            ("stride_f", sp(&r.stride_f)),
            ("stride", sp(&r.stride)),
            ("dilation", sp(&r.dilation)),
            ("groups", sp(&r.groups)),
            ("window", sp(&r.window)),
            ("act", r.act.as_ref().map(Spanned::span)),
            ("norm", r.norm.as_ref().map(Spanned::span)),
            ("quant", r.quant.as_ref().map(Spanned::span)),
        ]
        .into_iter()
        .filter_map(|(n, s)| s.map(|s| (n, s)))
        .collect()
    }

    /// A required field.
    pub fn need(&self, v: &Option<Spanned<usize>>, name: &str) -> Result<(usize, Range<usize>), DescError> {
        v.as_ref().map(|s| (*s.get_ref(), s.span())).ok_or_else(|| {
            self.err(self.op_span(), name, format!("op {} needs `{name}`", self.raw.op.get_ref().name()))
        })
    }

    /// An optional field with its default, checked against `range`.
    pub fn opt(
        &self,
        v: &Option<Spanned<usize>>,
        name: &str,
        dflt: usize,
        range: std::ops::RangeInclusive<usize>,
    ) -> Result<usize, DescError> {
        let (x, span) = v.as_ref().map_or((dflt, self.op_span()), |s| (*s.get_ref(), s.span()));
        if !range.contains(&x) {
            return Err(self.err(span, name, format!("{x} is outside {}..={}", range.start(), range.end())));
        }
        Ok(x)
    }
}
