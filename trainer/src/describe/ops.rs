//! Each op's fields, their ranges, the shapes it accepts and produces, and its weight tensors.

use super::cx::LayerCx;
use super::error::DescError;
use super::graph::{Norm, Op, Shape, WeightShape};
use super::schema::OpKind;

/// Widest value a layer may produce (the runtime's `u16` widths, kept to what fits a chip).
pub const MAX_WIDTH: usize = 4096;
/// Time taps of a convolution (the runtime's `MAX_KERNEL`).
pub const KERNEL: std::ops::RangeInclusive<usize> = 1..=16;
/// Time dilation of a convolution (the runtime's `MAX_DILATION`).
pub const DILATION: std::ops::RangeInclusive<usize> = 1..=256;
/// Time stride of a conv1d (the runtime's `MAX_STRIDE_T`).
pub const STRIDE: std::ops::RangeInclusive<usize> = 1..=runtime::format::MAX_STRIDE_T as usize;
/// Frequency stride of a conv2d.
pub const STRIDE_F: std::ops::RangeInclusive<usize> = 1..=8;
/// Frames a pool covers.
pub const WINDOW: std::ops::RangeInclusive<usize> = 2..=256;

/// The optional fields an op takes (`inputs` is always allowed).
fn allowed(k: OpKind) -> &'static [&'static str] {
    match k {
        OpKind::Conv1d => &["out", "kernel", "dilation", "groups", "stride", "act", "norm", "quant"],
        OpKind::Linear => &["out", "act", "norm", "quant"],
        OpKind::Gru => &["out", "quant"],
        OpKind::Conv2d => &["out", "kernel", "kernel_f", "stride_f", "dilation", "groups", "act", "norm", "quant"],
        OpKind::Avgpool | OpKind::Maxpool => &["window"],
        _ => &[],
    }
}

/// Checks a layer's fields and input shapes; returns its op and output shape.
pub fn check(cx: &LayerCx, k: OpKind, ins: &[Shape]) -> Result<(Op, Shape), DescError> {
    for (f, span) in cx.present() {
        if !allowed(k).contains(&f) {
            return Err(cx.err(span, f, format!("does not apply to op {}", k.name())));
        }
    }
    let in_span = cx.raw.inputs.as_ref().map_or(cx.op_span(), toml::Spanned::span);
    let many = matches!(k, OpKind::Add | OpKind::Mul | OpKind::Concat);
    match (many, ins.len()) {
        (true, n) if n < 2 => {
            return Err(cx.err(in_span, "inputs", format!("op {} needs two inputs or more", k.name())))
        }
        (false, n) if n != 1 => {
            return Err(cx.err(in_span, "inputs", format!("op {} takes one input, not {n}", k.name())))
        }
        _ => {}
    }
    let first = ins.first().copied().unwrap_or(Shape::Vec(0));
    let r = cx.raw;
    let out = || -> Result<usize, DescError> {
        let (o, sp) = cx.need(&r.out, "out")?;
        if o == 0 || o > MAX_WIDTH {
            return Err(cx.err(sp, "out", format!("{o} is outside 1..={MAX_WIDTH}")));
        }
        Ok(o)
    };
    Ok(match k {
        OpKind::Conv1d => match first {
            Shape::Map { c, f } if c > 1 && f > 1 => {
                let msg = format!(
                    "conv1d needs a 1-D vector, but its input is a {c}×{f} map: flatten it with a linear layer"
                );
                return Err(cx.err(in_span, "inputs", msg));
            }
            _ => conv1d(cx, first.width(), out()?)?,
        },
        OpKind::Linear => {
            let o = out()?;
            (Op::Linear { out: o }, Shape::Vec(o))
        }
        OpKind::Gru => {
            let h = out()?;
            (Op::Gru { hidden: h }, Shape::Vec(h))
        }
        OpKind::Conv2d => conv2d(cx, first, out()?)?,
        OpKind::Add | OpKind::Mul => (if k == OpKind::Add { Op::Add } else { Op::Mul }, same(cx, in_span, ins)?),
        OpKind::Concat => (Op::Concat, concat(cx, in_span, ins)?),
        OpKind::Relu => (Op::Relu, first),
        OpKind::Sigmoid => (Op::Sigmoid, first),
        OpKind::Tanh => (Op::Tanh, first),
        OpKind::Softmax => (Op::Softmax, first),
        OpKind::Avgpool | OpKind::Maxpool => {
            let (w, sp) = cx.need(&r.window, "window")?;
            if !WINDOW.contains(&w) {
                return Err(cx.err(sp, "window", format!("{w} frames is outside 2..=256")));
            }
            (if k == OpKind::Avgpool { Op::AvgPool { window: w } } else { Op::MaxPool { window: w } }, first)
        }
    })
}

/// `norm`: `"batch"` (folded into the weights at export), else none. Layer normalisation is
/// refused: its statistics are each frame's own, so no fixed scale and shift can replace it.
pub fn norm(cx: &LayerCx) -> Result<Option<Norm>, DescError> {
    let Some(n) = &cx.raw.norm else { return Ok(None) };
    match n.get_ref().as_str() {
        "batch" => Ok(Some(Norm::Batch)),
        "layer" => Err(cx.err(
            n.span(),
            "norm",
            "\"layer\" cannot be folded into the weights at export (layer normalisation divides by each \
             frame's own statistics, and the runtime has no norm op): use norm = \"batch\"",
        )),
        other => {
            Err(cx.err(n.span(), "norm", format!("\"{other}\" is not a normalisation (the one there is: \"batch\")")))
        }
    }
}

/// `groups` (default 1) dividing both `inp` and `out`.
fn groups(cx: &LayerCx, inp: usize, out: usize) -> Result<usize, DescError> {
    let g = cx.opt(&cx.raw.groups, "groups", 1, 1..=MAX_WIDTH)?;
    if inp % g != 0 || out % g != 0 {
        let span = cx.raw.groups.as_ref().map_or(cx.op_span(), toml::Spanned::span);
        return Err(cx.err(span, "groups", format!("{g} does not divide both the input width {inp} and out = {out}")));
    }
    Ok(g)
}

fn conv1d(cx: &LayerCx, inp: usize, out: usize) -> Result<(Op, Shape), DescError> {
    let r = cx.raw;
    let (kernel, sp) = cx.need(&r.kernel, "kernel")?;
    if !KERNEL.contains(&kernel) {
        return Err(cx.err(sp, "kernel", format!("{kernel} taps is outside 1..=16")));
    }
    let dilation = cx.opt(&r.dilation, "dilation", 1, DILATION)?;
    let groups = groups(cx, inp, out)?;
    let stride = cx.opt(&r.stride, "stride", 1, STRIDE)?;
    Ok((Op::Conv1d { out, kernel, dilation, groups, stride }, Shape::Vec(out)))
}

fn conv2d(cx: &LayerCx, input: Shape, out: usize) -> Result<(Op, Shape), DescError> {
    let Shape::Map { c, f } = input else {
        let span = cx.raw.inputs.as_ref().map_or(cx.op_span(), toml::Spanned::span);
        let msg = format!("conv2d needs a channels × frequency map, but its input is a 1-D vector of {input}");
        return Err(cx.err(span, "inputs", msg));
    };
    let r = cx.raw;
    let (kernel, sp) = cx.need(&r.kernel, "kernel")?;
    if !KERNEL.contains(&kernel) {
        return Err(cx.err(sp, "kernel", format!("{kernel} taps is outside 1..=16")));
    }
    let (kernel_f, sp) = cx.need(&r.kernel_f, "kernel_f")?;
    if !KERNEL.contains(&kernel_f) || kernel_f % 2 == 0 {
        return Err(cx.err(sp, "kernel_f", format!("{kernel_f}: must be odd in 1..=15 (\"same\" padding)")));
    }
    let stride_f = cx.opt(&r.stride_f, "stride_f", 1, STRIDE_F)?;
    let dilation = cx.opt(&r.dilation, "dilation", 1, DILATION)?;
    let groups = groups(cx, c, out)?;
    let op = Op::Conv2d { out, kernel, kernel_f, stride_f, dilation, groups };
    Ok((op, Shape::Map { c: out, f: f.div_ceil(stride_f) }))
}

/// add/mul: every input as wide as the first (maps: the same channels and frequencies).
fn same(cx: &LayerCx, span: std::ops::Range<usize>, ins: &[Shape]) -> Result<Shape, DescError> {
    let first = ins.first().copied().unwrap_or(Shape::Vec(0));
    for s in ins {
        let clash = match (first, *s) {
            (Shape::Map { .. }, Shape::Map { .. }) => first != *s,
            _ => first.width() != s.width(),
        };
        if clash {
            let all: Vec<String> = ins.iter().map(ToString::to_string).collect();
            return Err(cx.err(
                span,
                "inputs",
                format!("inputs of different shapes ({}) cannot be combined", all.join(", ")),
            ));
        }
    }
    Ok(first)
}

/// concat: maps of one frequency size stack their channels; otherwise the flattened values join.
fn concat(cx: &LayerCx, span: std::ops::Range<usize>, ins: &[Shape]) -> Result<Shape, DescError> {
    let maps: Vec<(usize, usize)> =
        ins.iter().filter_map(|s| if let Shape::Map { c, f } = *s { Some((c, f)) } else { None }).collect();
    if maps.len() == ins.len() {
        let f0 = maps.first().map_or(0, |m| m.1);
        if maps.iter().any(|m| m.1 != f0) {
            let all: Vec<String> = ins.iter().map(ToString::to_string).collect();
            return Err(cx.err(
                span,
                "inputs",
                format!("maps of different frequency sizes ({}) cannot be concatenated", all.join(", ")),
            ));
        }
        return Ok(Shape::Map { c: maps.iter().map(|m| m.0).sum(), f: f0 });
    }
    Ok(Shape::Vec(ins.iter().map(Shape::width).sum()))
}

/// The weight tensors of a weighted op on input `inp` (with their bias entries); weights are
/// stored `[out][tap][in/groups]` (conv2d: `[out][tap][in/groups][kernel_f]`, GRU: `W_x
/// [3H][in]` then `W_h [3H][H]`, gates r, z, n).
pub fn weight_shapes(op: &Op, inp: Shape) -> Vec<(WeightShape, usize)> {
    let w = inp.width();
    match *op {
        Op::Conv1d { out, kernel, groups, .. } => {
            vec![(WeightShape { rows: out, row_len: kernel * w / groups, inner: w / groups }, out)]
        }
        Op::Linear { out } => vec![(WeightShape { rows: out, row_len: w, inner: w }, out)],
        Op::Gru { hidden } => vec![
            (WeightShape { rows: 3 * hidden, row_len: w, inner: w }, 3 * hidden),
            (WeightShape { rows: 3 * hidden, row_len: hidden, inner: hidden }, 3 * hidden),
        ],
        Op::Conv2d { out, kernel, kernel_f, groups, .. } => {
            let c = if let Shape::Map { c, .. } = inp { c } else { w };
            vec![(
                WeightShape { rows: out, row_len: kernel * kernel_f * c / groups, inner: kernel_f * c / groups },
                out,
            )]
        }
        _ => Vec::new(),
    }
}
