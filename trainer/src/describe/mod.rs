//! Model descriptions: one TOML file (`models/*.model.toml`, docs/model-description.md) says what
//! the front end computes, which layers the model has, how each is quantised and what it may
//! cost. [`load`] checks all of it before any training: every error names the file, the line and
//! column, and the field.

mod budget;
mod cx;
mod error;
mod frontend;
mod graph;
mod layers;
mod ops;
mod quant;
mod schema;
mod summary;
pub mod write;

pub use budget::{footprint, Footprint};
pub use error::{DescError, Place};
pub use graph::{Budget, Frontend, LayerQuant, ModelDesc, Node, Norm, Op, Shape, Src, WeightShape, WeightSpec};
pub use schema::{Act, Features, Output};
pub use summary::render;

use error::Source;
use graph::Shape as S;
use layers::Layers;
use schema::RawDescription;
use std::path::Path;

/// Reads and checks the description in `path`.
pub fn load(path: &Path) -> Result<ModelDesc, DescError> {
    let text = std::fs::read_to_string(path).map_err(|e| error::file_error(path, format!("cannot read: {e}")))?;
    parse(&text, path)
}

/// Checks the description `text` (read from `file`, which errors name).
pub fn parse(text: &str, file: &Path) -> Result<ModelDesc, DescError> {
    let src = Source { file, text };
    let raw: RawDescription = toml::from_str(text).map_err(|e| src.parse_error(&e))?;
    let frontend = frontend::frontend(&src, raw.frontend.as_ref())?;
    let defaults = quant::defaults(&src, raw.quant.as_ref())?;
    let input = S::Map { c: 1, f: frontend.n_features() };
    let names = raw.layer.iter().map(|l| l.get_ref().name.get_ref().clone()).collect();
    let mut layers = Layers::new(&src, defaults, input, names);
    for l in &raw.layer {
        layers.push(l, defaults.pair_rows)?;
    }
    let Some(last) = raw.layer.last() else {
        return Err(src.error(0..0, "[[layer]]", "the description has no layer"));
    };
    check_output(&src, &frontend, &layers, last)?;
    check_used(&src, &layers)?;
    let mut m = ModelDesc { frontend, nodes: layers.nodes, pair_rows: defaults.pair_rows, budget: Budget::default() };
    check_budget(&src, &mut m, raw.budget.as_ref())?;
    Ok(m)
}

/// The last layer is the output: a mask of the right width ending in a sigmoid, or the classes'
/// softmax; a softmax anywhere else is an error.
fn check_output(
    src: &Source,
    f: &Frontend,
    layers: &Layers,
    last: &toml::Spanned<schema::RawLayer>,
) -> Result<(), DescError> {
    for (n, sp) in layers.nodes.iter().zip(&layers.spans).rev().skip(1) {
        if n.op == Op::Softmax {
            let msg = "softmax is only allowed as the output (the last layer)";
            return Err(src.error(sp.clone(), format!("[[layer]] \"{}\".op", n.name), msg));
        }
    }
    let Some(n) = layers.nodes.last() else { return Ok(()) };
    let field = format!("[[layer]] \"{}\"", n.name);
    let at = last.get_ref().op.span();
    let (want, width) = (f.n_outputs(), n.shape.width());
    let what = match (f.output, f.features) {
        (Output::Classes, _) => "classes",
        (Output::Mask, Features::Logmag) => "spectrum bins (frame / 2 + 1)",
        (Output::Mask, Features::Logmel) => "mel bands",
    };
    match f.output {
        Output::Mask if !(n.op == Op::Sigmoid || n.act == Some(Act::Sigmoid)) => {
            let msg = "the output of a mask must end in a sigmoid (op = \"sigmoid\" or act = \"sigmoid\")";
            return Err(src.error(at, format!("{field}.op"), msg));
        }
        Output::Classes if n.op != Op::Softmax => {
            let msg = "output = \"classes\" needs a softmax as the last layer";
            return Err(src.error(at, format!("{field}.op"), msg));
        }
        _ => {}
    }
    if width != want {
        let msg = format!("the output layer gives {width} values, the front end needs {want} {what}");
        return Err(src.error(at, format!("{field}.out"), msg));
    }
    Ok(())
}

/// Every layer must reach the output.
fn check_used(src: &Source, layers: &Layers) -> Result<(), DescError> {
    let n = layers.nodes.len();
    let mut used = vec![false; n];
    if let Some(u) = used.last_mut() {
        *u = true;
    }
    for i in (0..n).rev() {
        if !used.get(i).copied().unwrap_or(false) {
            continue;
        }
        for s in layers.nodes.get(i).map_or(&[][..], |x| &x.inputs) {
            if let (Src::Node(j), _) = (s, ()) {
                if let Some(u) = used.get_mut(*j) {
                    *u = true;
                }
            }
        }
    }
    for ((node, sp), u) in layers.nodes.iter().zip(&layers.spans).zip(used) {
        if !u {
            let msg = format!("layer `{}` does not reach the output (no later layer reads it)", node.name);
            return Err(src.error(sp.clone(), format!("[[layer]] \"{}\"", node.name), msg));
        }
    }
    Ok(())
}

/// The footprint, and `[budget]` checked against it.
fn check_budget(src: &Source, m: &mut ModelDesc, raw: Option<&schema::RawBudget>) -> Result<(), DescError> {
    let fp = footprint(m).map_err(|e| src.error(0..0, "model", format!("cannot be written as a blob: {e:#}")))?;
    let (flash, ram) = (fp.flash, fp.ram);
    m.budget = Budget { flash_bytes: None, ram_bytes: None, flash_estimate: flash, ram_estimate: ram };
    let Some(b) = raw else { return Ok(()) };
    for (lim, est, name, what) in [
        (&b.flash_bytes, flash, "flash_bytes", "flash (every group at its max_bits)"),
        (&b.ram_bytes, ram, "ram_bytes", "RAM"),
    ] {
        if let Some(l) = lim {
            if est > *l.get_ref() {
                let msg = format!("the model needs {est} bytes of {what}, over the budget of {}", l.get_ref());
                return Err(src.error(l.span(), format!("[budget].{name}"), msg));
            }
        }
    }
    m.budget.flash_bytes = b.flash_bytes.as_ref().map(|s| *s.get_ref());
    m.budget.ram_bytes = b.ram_bytes.as_ref().map(|s| *s.get_ref());
    Ok(())
}
