//! Per-method quantisation state: which layers are quantised, their learnable bit logits
//! (DiffQ), the weights used in the training forward pass, and the true bit widths.

use crate::config::Method;
use crate::diffq::size::{BlobLayout, PlainKind};
use crate::diffq::{bits, fit, quantize, DiffqConfig, QuantLayout};
use crate::model::{Arch, Layer, Params};
use anyhow::{anyhow, Result};

mod desc;
use candle_core::{Device, Tensor, Var};
pub use desc::desc_blob_layout;
use rand::rngs::StdRng;

/// Bound of the bit logits (sigmoid(4.5) = 0.989).
pub const LOGIT_LIMIT: f32 = 4.5;

pub struct QState {
    pub method: Method,
    pub cfg: DiffqConfig,
    /// Per weighted layer: its group layout when quantised.
    pub layouts: Vec<Option<QuantLayout>>,
    /// Per weighted layer: its bit logits (DiffQ only).
    pub logits: Vec<Option<Var>>,
    /// Per weighted layer: the row-pair gather index of its noise scales (DiffQ with row
    /// pairs only), built once rather than on every step.
    gathers: Vec<Option<Tensor>>,
    /// Per weighted layer: its DiffQ settings (bit range, group size; `cfg` for every layer of
    /// the built-in model, a description's per-layer `quant` otherwise).
    pub cfgs: Vec<DiffqConfig>,
    /// Per weighted layer: a fixed width (a description's `bits = B`): noise at `B` bits, a
    /// constant in the size term, exported at `B`.
    pub fixed: Vec<Option<u8>>,
    device: Device,
}

impl QState {
    /// Quantises every weight with at least `cfg.min_size` entries (none for fp32).
    pub fn new(method: Method, arch: &Arch, cfg: &DiffqConfig, device: &Device) -> Result<QState> {
        cfg.validate()?;
        let mut layouts = Vec::new();
        let mut logits = Vec::new();
        let mut gathers = Vec::new();
        for (i, w) in arch.weighted().iter().enumerate() {
            let q = method != Method::Fp32 && w.count() >= cfg.min_size;
            let layout =
                if q { Some(cfg.layout_for(&format!("w{i}"), w.count(), w.inp, w.kernel * w.inp)?) } else { None };
            let logit = match (method, layout) {
                (Method::Diffq, Some(l)) => {
                    let init = bits::init_logit(cfg);
                    Some(Var::from_tensor(&Tensor::from_vec(vec![init; l.n_logits], l.n_logits, device)?)?)
                }
                _ => None,
            };
            let gather = match (method, layout) {
                (Method::Diffq, Some(l)) => bits::logit_gather(&l, device)?,
                _ => None,
            };
            layouts.push(layout);
            logits.push(logit);
            gathers.push(gather);
        }
        let n = layouts.len();
        Ok(QState {
            method,
            cfg: cfg.clone(),
            layouts,
            logits,
            gathers,
            cfgs: vec![cfg.clone(); n],
            fixed: vec![None; n],
            device: device.clone(),
        })
    }

    pub fn logit_vars(&self) -> Vec<&Var> {
        self.logits.iter().flatten().collect()
    }

    /// Keeps every logit in `[-LOGIT_LIMIT, LOGIT_LIMIT]` (bits stay within 0.14 of the range's
    /// ends, so the true bits still reach `min_bits` and `max_bits`), so that a group pushed to the
    /// end of the range is not stuck in the sigmoid's flat tail when the size pressure eases.
    pub fn project_logits(&self) -> Result<()> {
        for l in self.logits.iter().flatten() {
            l.set(&l.as_tensor().clamp(-LOGIT_LIMIT, LOGIT_LIMIT)?)?;
        }
        Ok(())
    }

    /// Sets every logit to the one of its rounded bit width, so that the noise from now on has
    /// exactly the scale of the quantisation export will apply (`--freeze-bits`). With a budget
    /// (`--fill-budget`), the rounding then moves as the export's would, but up to the budget
    /// rather than 97% of it, so the bytes the rounding left free are trained with. Returns the
    /// exact blob size at the frozen widths and how many widths moved.
    pub fn snap_logits(&self, layout: &BlobLayout, budget: Option<usize>) -> Result<fit::Fit> {
        let extra = self.cfg.extra_bits;
        // per logit: continuous bits (extra included), rounded width, storage groups it covers
        let (mut cont, mut widths, mut per) = (Vec::new(), Vec::new(), Vec::new());
        for (i, l) in self.logits.iter().enumerate() {
            let (Some(_), Some(q)) = (l, self.layouts.get(i).copied().flatten()) else { continue };
            let c = self.continuous_bits(i)?.ok_or_else(|| anyhow!("layer {i} has no bit logits"))?;
            for b in c.to_device(&Device::Cpu)?.to_vec1::<f32>()? {
                widths.push(quantize::round_bits(b, extra)?);
                cont.push(b + extra);
            }
            per.push((q.n_logits, q.groups_per_logit().max(1)));
        }
        let expand = |w: &[u8]| fit::split_widths(w, &per);
        // the widths a snapped logit can still express
        let bounds = (quantize::round_bits(self.cfg.min_bits, extra)?, quantize::round_bits(self.cfg.max_bits, extra)?);
        let fit = match budget {
            Some(b) => fit::fit_widths(&cont, &mut widths, bounds, (b, b), |w| layout.exact_bytes(&expand(w)))?,
            None => fit::Fit { moves: 0, bytes: layout.exact_bytes(&expand(&widths))? },
        };
        let mut at = 0;
        for (i, l) in self.logits.iter().enumerate() {
            let (Some(l), Some(_)) = (l, self.layouts.get(i).copied().flatten()) else { continue };
            let n = l.as_tensor().elem_count();
            let snapped: Vec<f32> = widths
                .get(at..at + n)
                .unwrap_or_default()
                .iter()
                .map(|&r| bits::logit_of_bits(f64::from(r) - f64::from(extra), self.cfg_of(i)))
                .collect();
            l.set(&Tensor::from_vec(snapped, l.as_tensor().shape(), l.as_tensor().device())?)?;
            at += n;
        }
        Ok(fit)
    }

    /// Whether every weighted layer is quantised (the integer path needs it).
    pub fn all_quantized(&self) -> bool {
        self.layouts.iter().all(Option::is_some)
    }

    /// Weights of the training forward pass: `w + Δ·n` (DiffQ), straight-through fake
    /// quantisation (QAT), or `w`.
    pub fn train_weights(&self, params: &Params, rng: &mut StdRng) -> Result<Vec<Tensor>> {
        let mut out = Vec::new();
        for (i, w) in params.weights.iter().enumerate() {
            let w = w.as_tensor();
            let layout = self.layouts.get(i).copied().flatten();
            let eff = match (self.method, layout, self.logits.get(i).and_then(Option::as_ref)) {
                (Method::Diffq, Some(l), Some(logit)) => {
                    let n = bits::sample_noise(self.cfg.noise, l.count, rng);
                    let n = Tensor::from_vec(n, w.shape(), w.device())?;
                    let gather = self.gathers.get(i).and_then(Option::as_ref);
                    bits::pseudo_quantize_with(w, logit.as_tensor(), &n, &l, gather, self.cfg_of(i))?
                }
                (Method::Diffq, Some(l), None) => match self.fixed.get(i).copied().flatten() {
                    Some(b) => {
                        let n = bits::sample_noise(self.cfg_of(i).noise, l.count, rng);
                        let n = Tensor::from_vec(n, w.shape(), w.device())?;
                        let delta = (bits::range(w)? * bits::rel_step_of_bits(f64::from(b)))?;
                        (w + n.broadcast_mul(&delta)?)?
                    }
                    None => w.clone(),
                },
                (Method::Qat4, Some(_), _) => {
                    let q = self.quantized_tensor(i, w)?;
                    (w + (q - w)?.detach())?
                }
                _ => w.clone(),
            };
            out.push(eff);
        }
        Ok(out)
    }

    /// The DiffQ settings of layer `i`.
    pub fn cfg_of(&self, i: usize) -> &DiffqConfig {
        self.cfgs.get(i).unwrap_or(&self.cfg)
    }

    /// Continuous bit widths of layer `i` (one per logit), DiffQ only.
    pub fn continuous_bits(&self, i: usize) -> Result<Option<Tensor>> {
        match self.logits.get(i).and_then(Option::as_ref) {
            Some(l) => Ok(Some(bits::bits(l.as_tensor(), self.cfg_of(i))?)),
            None => Ok(None),
        }
    }

    /// True (rounded) bit width of every storage group of layer `i`, or `None` if unquantised.
    pub fn group_bits(&self, i: usize) -> Result<Option<Vec<u8>>> {
        let Some(layout) = self.layouts.get(i).copied().flatten() else { return Ok(None) };
        if let Some(b) = self.fixed.get(i).copied().flatten().or(self.method.fixed_bits()) {
            return Ok(Some(vec![b; layout.n_groups]));
        }
        let cont = self.continuous_bits(i)?.ok_or_else(|| anyhow!("layer {i} has no bit logits"))?;
        let cont = cont.to_device(&Device::Cpu)?.to_vec1::<f32>()?;
        let per = layout.groups_per_logit();
        let mut out = Vec::with_capacity(layout.n_groups);
        for b in cont {
            let r = quantize::round_bits(b, self.cfg_of(i).extra_bits)?;
            out.extend(std::iter::repeat_n(r, per));
        }
        Ok(Some(out))
    }

    /// Group bits of the quantised layers, in order.
    pub fn all_group_bits(&self) -> Result<Vec<Vec<u8>>> {
        let mut out = Vec::new();
        for i in 0..self.layouts.len() {
            if let Some(b) = self.group_bits(i)? {
                out.push(b);
            }
        }
        Ok(out)
    }

    /// Truly quantised (then dequantised) weight of layer `i`, as a tensor shaped like `w`.
    pub fn quantized_tensor(&self, i: usize, w: &Tensor) -> Result<Tensor> {
        let Some(gb) = self.group_bits(i)? else { return Ok(w.clone()) };
        let layout = self.layouts.get(i).copied().flatten().ok_or_else(|| anyhow!("layer {i} is not quantised"))?;
        let vals = w.flatten_all()?.to_device(&Device::Cpu)?.to_vec1::<f32>()?;
        let deq = layout.from_storage(&quantize::fake_quantize(
            &format!("w{i}"),
            &layout.to_storage(&vals),
            &gb,
            layout.group_size,
        )?);
        Ok(Tensor::from_vec(deq, w.shape(), w.device())?)
    }

    /// Weights as they will be exported (true quantisation), unfolded.
    pub fn eval_weights(&self, params: &Params) -> Result<Vec<Tensor>> {
        params.weights.iter().enumerate().map(|(i, w)| self.quantized_tensor(i, w.as_tensor())).collect()
    }

    /// The blob's size structure for this model.
    pub fn blob_layout(&self, arch: &Arch, with_int: bool) -> BlobLayout {
        blob_layout(arch, &self.layouts, with_int)
    }

    /// Differentiable size in bytes (DiffQ only), plus the exact size at the current true bits.
    pub fn size(&self, layout: &BlobLayout) -> Result<(Option<Tensor>, usize)> {
        let rounded = self.all_group_bits()?;
        let exact = layout.exact_bytes(&rounded)?;
        if self.method != Method::Diffq {
            return Ok((None, exact));
        }
        let mut b = Vec::new();
        for i in 0..self.logits.len() {
            if let Some(t) = self.continuous_bits(i)? {
                b.push(t);
            } else if let (Some(l), Some(w)) =
                (self.layouts.get(i).copied().flatten(), self.fixed.get(i).copied().flatten())
            {
                b.push(Tensor::full(f32::from(w) - self.cfg.extra_bits, l.n_logits, &self.device)?);
            }
        }
        let t = layout.size_bytes(&b, &rounded, f64::from(self.cfg.extra_bits))?;
        Ok((Some(t), exact))
    }

    /// Mean true bits per quantised weight (overhead excluded).
    pub fn avg_bits(&self) -> Result<Option<f64>> {
        let mut sum = 0f64;
        let mut n = 0usize;
        for (i, l) in self.layouts.iter().enumerate() {
            if let (Some(l), Some(gb)) = (l, self.group_bits(i)?) {
                sum += gb.iter().map(|&b| f64::from(b) * l.group_size as f64).sum::<f64>();
                n += l.count;
            }
        }
        Ok(if n == 0 { None } else { Some(sum / n as f64) })
    }
}

/// The size structure of a blob of `arch` with these quantised layers. With the integer path
/// the biases live only in its constants (format v4), without it each is a tensor of its own.
pub fn blob_layout(arch: &Arch, layouts: &[Option<QuantLayout>], with_int: bool) -> BlobLayout {
    let mut plain: Vec<(usize, PlainKind)> = Vec::new();
    for (w, l) in arch.weighted().iter().zip(layouts) {
        if l.is_none() {
            plain.push((w.count(), PlainKind::F32));
        }
        if !with_int {
            plain.push((w.out, crate::diffq::size::bias_kind(l.is_some())));
        }
    }
    let int_bytes = if with_int { int_bytes(arch) } else { 0 };
    BlobLayout {
        n_layers: arch.layers().len(),
        plain,
        quantized: layouts.iter().flatten().copied().collect(),
        int_bytes,
    }
}

/// Bytes of integer-path constants the writer adds for `arch`.
pub fn int_bytes(arch: &Arch) -> usize {
    arch.layers()
        .iter()
        .map(|l| match *l {
            Layer::Conv { out, .. } | Layer::Linear { out, .. } => {
                runtime::format::int_linear_len(runtime::format::VERSION, out)
            }
            Layer::Sigmoid(_) => runtime::format::INT_LUT_LEN,
            Layer::Relu(_) => 0,
        })
        .sum()
}
