//! The quantisation state of a model description: one entry per weight tensor (a GRU's `W_x`
//! and `W_h` apart), each with its own layout and settings from the description's `quant`.

use super::QState;
use crate::config::Method;
use crate::describe::{LayerQuant, ModelDesc};
use crate::diffq::size::{BlobLayout, PlainKind};
use crate::diffq::{bits, DiffqConfig, QuantLayout};
use anyhow::Result;
use candle_core::{Device, Tensor, Var};

/// The DiffQ settings of a layer quantised `q` (the run's `cfg` for what the description does
/// not set: the parametrisation, the noise, the extra bits).
fn layer_cfg(q: &LayerQuant, pair_rows: bool, cfg: &DiffqConfig) -> DiffqConfig {
    match *q {
        LayerQuant::Learnt { group_size, min_bits, max_bits, init_bits } => {
            DiffqConfig { group_size, min_bits, max_bits, init_bits, pair_rows, min_size: 0, ..cfg.clone() }
        }
        LayerQuant::Fixed { group_size, .. } => DiffqConfig { group_size, pair_rows, min_size: 0, ..cfg.clone() },
        LayerQuant::Keep => cfg.clone(),
    }
}

impl QState {
    /// The state of description `m` under `method`: `keep = "f32"` tensors (and every tensor
    /// with fp32) unquantised; `bits = B` tensors at a fixed width (no logits); the others with
    /// learnt widths (DiffQ) or the method's fixed width (QAT, PTQ).
    pub fn for_desc(method: Method, m: &ModelDesc, cfg: &DiffqConfig, device: &Device) -> Result<QState> {
        cfg.validate()?;
        let (mut layouts, mut logits, mut gathers, mut cfgs, mut fixed) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for n in &m.nodes {
            let Some(q) = &n.quant else { continue };
            for w in &n.weights {
                let lc = layer_cfg(q, m.pair_rows, cfg);
                let layout: Option<QuantLayout> = if method == Method::Fp32 { None } else { w.layout };
                let fix = match *q {
                    LayerQuant::Fixed { bits, .. } => Some(bits),
                    _ => None,
                };
                let learnt = method == Method::Diffq && fix.is_none();
                let (logit, gather) = match (learnt, layout) {
                    (true, Some(l)) => {
                        let init = bits::init_logit(&lc);
                        let v = Var::from_tensor(&Tensor::from_vec(vec![init; l.n_logits], l.n_logits, device)?)?;
                        (Some(v), bits::logit_gather(&l, device)?)
                    }
                    _ => (None, None),
                };
                layouts.push(layout);
                logits.push(logit);
                gathers.push(gather);
                cfgs.push(lc);
                fixed.push(fix.filter(|_| layout.is_some()));
            }
        }
        Ok(QState { method, cfg: cfg.clone(), layouts, logits, gathers, cfgs, fixed, device: device.clone() })
    }
}

/// The size structure of a description's blob: the nodes, one tensor per weight and per bias
/// (f16 beside quantised weights), f32 weights for unquantised tensors, and the filterbank of a
/// band front end. It counts what the size term needs (the bytes that move with the widths) and
/// approximates the rest of a version 5 blob (its node records, front-end record and integer
/// constants are not counted).
pub fn desc_blob_layout(m: &ModelDesc, layouts: &[Option<QuantLayout>]) -> BlobLayout {
    let mut plain: Vec<(usize, PlainKind)> = Vec::new();
    let specs = m.nodes.iter().flat_map(|n| &n.weights);
    for (w, l) in specs.zip(layouts) {
        if l.is_none() {
            plain.push((w.shape.count(), PlainKind::F32));
        }
        plain.push((w.bias, crate::diffq::size::bias_kind(l.is_some())));
    }
    if let Some(nb) = m.frontend.n_mels {
        plain.push((nb * runtime::dsp::BINS, PlainKind::F16));
    }
    BlobLayout { n_layers: m.nodes.len(), plain, quantized: layouts.iter().flatten().copied().collect(), int_bytes: 0 }
}
