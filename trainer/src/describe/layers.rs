//! One `[[layer]]` at a time: its name, its inputs (earlier layers only), the fields its op
//! takes, their ranges, and the shape it produces.

use super::cx::LayerCx;
use super::error::{DescError, Source};
use super::graph::{Node, Op, Shape, Src};
use super::ops;
use super::quant::{self, QuantDefaults};
use super::schema::RawLayer;
use std::collections::{HashMap, HashSet};
use std::ops::Range;
use toml::Spanned;

/// The name of the model input.
pub const INPUT: &str = "input";

/// The layers checked so far.
pub struct Layers<'a, 'b> {
    pub src: &'a Source<'b>,
    pub defaults: QuantDefaults,
    pub input: Shape,
    pub nodes: Vec<Node>,
    /// Span of each layer's name (for errors about a layer as a whole).
    pub spans: Vec<Range<usize>>,
    names: HashMap<String, usize>,
    /// Every layer's name (to tell a later layer from an unknown one).
    all: HashSet<String>,
}

impl<'a, 'b> Layers<'a, 'b> {
    pub fn new(src: &'a Source<'b>, defaults: QuantDefaults, input: Shape, all: HashSet<String>) -> Self {
        Layers { src, defaults, input, nodes: Vec::new(), spans: Vec::new(), names: HashMap::new(), all }
    }

    /// Checks the next layer and appends it.
    pub fn push(&mut self, raw: &Spanned<RawLayer>, pair_rows: bool) -> Result<(), DescError> {
        let r = raw.get_ref();
        let name = r.name.get_ref().clone();
        let cx = LayerCx { src: self.src, raw: r, field: format!("[[layer]] \"{name}\"") };
        if name.is_empty() || name == INPUT {
            return Err(cx.err(r.name.span(), "name", format!("`{name}` is reserved for the model input")));
        }
        if let Some(&i) = self.names.get(&name) {
            let (line, _) = self.src.line_col(self.spans.get(i).map_or(0, |s| s.start));
            return Err(cx.err(
                r.name.span(),
                "name",
                format!("`{name}` is already the name of the layer on line {line}"),
            ));
        }
        let inputs = self.inputs(&cx)?;
        let shapes: Vec<Shape> = inputs.iter().map(|&s| self.shape_of(s)).collect();
        let kind = *r.op.get_ref();
        let (op, shape) = ops::check(&cx, kind, &shapes)?;
        let act = r.act.as_ref().map(|a| *a.get_ref());
        let norm = ops::norm(&cx)?;
        let in_shape = shapes.first().copied().unwrap_or(self.input);
        let (quant, weights) = if op.is_weighted() {
            let q = quant::layer(self.src, &cx.field, &cx.op_span(), r.quant.as_ref(), &self.defaults)?;
            let mut ws = Vec::new();
            // FORMAT.md: conv2d and grouped conv1d store their groups in the row-major order only
            let rows_only = matches!(op, Op::Conv2d { .. } | Op::Conv1d { groups: 2.., .. });
            for (shape, bias) in ops::weight_shapes(&op, in_shape) {
                let layout = quant::layout(&q, &shape, pair_rows && !rows_only).map_err(|m| {
                    let span = r.quant.as_ref().map_or(cx.op_span(), Spanned::span);
                    cx.err(span, "quant.group_size", m)
                })?;
                ws.push(super::graph::WeightSpec { shape, bias, layout });
            }
            (Some(q), ws)
        } else {
            (None, Vec::new())
        };
        self.names.insert(name.clone(), self.nodes.len());
        self.spans.push(r.name.span());
        self.nodes.push(Node { name, op, inputs, in_shape, shape, act, norm, quant, weights });
        Ok(())
    }

    fn shape_of(&self, s: Src) -> Shape {
        match s {
            Src::Input => self.input,
            Src::Node(i) => self.nodes.get(i).map_or(self.input, |n| n.shape),
        }
    }

    /// The layer's inputs: as named (each `input` or an earlier layer), else the previous layer.
    fn inputs(&self, cx: &LayerCx) -> Result<Vec<Src>, DescError> {
        let Some(list) = &cx.raw.inputs else {
            return Ok(vec![self.nodes.len().checked_sub(1).map_or(Src::Input, Src::Node)]);
        };
        if list.get_ref().is_empty() {
            return Err(cx.err(list.span(), "inputs", "names no input"));
        }
        let mut out = Vec::new();
        for i in list.get_ref() {
            let n = i.get_ref();
            let src = match self.names.get(n.as_str()) {
                _ if n == INPUT => Src::Input,
                Some(&k) => Src::Node(k),
                None => {
                    let msg = if self.all.contains(n) {
                        format!("`{n}` is defined later: a layer's inputs must come before it")
                    } else {
                        format!("`{n}` names no layer (nor `input`)")
                    };
                    return Err(cx.err(i.span(), "inputs", msg));
                }
            };
            out.push(src);
        }
        Ok(out)
    }
}
