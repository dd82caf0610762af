//! The training step's network and loss as one candle custom op on the CPU: the forward pass,
//! the loss terms and a hand-written backward pass over the flat vector of every weight and
//! bias, with candle's matrix multiply (`gemm`) called on strided views and every buffer kept
//! from step to step. The candle graph ([`crate::model::forward`], [`crate::model::mask_loss`])
//! computes the same function; it stays the path of other devices and of `--step-impl graph`.

mod gemm;
mod loss;
mod net;

pub use net::NetShape;

use crate::loader::Batch;
use crate::model::Arch;
use anyhow::{anyhow, Result};
use candle_core::{CpuStorage, CustomOp1, Layout, Shape, Tensor};
use std::sync::{Arc, Mutex};

/// Buffers of the fused step, reused from step to step.
#[derive(Default)]
struct Workspace {
    shape: Option<NetShape>,
    /// Normalised features in the padded layout.
    x: Vec<f32>,
    acts: Vec<Vec<f32>>,
    sqrt_mix: Vec<f32>,
    sqrt_clean: Vec<f32>,
    /// The teacher's estimate (empty without a teacher).
    teacher: Vec<f32>,
    cache: loss::LossCache,
    dz: Vec<f32>,
    spare: Vec<f32>,
    /// The op whose forward pass the buffers hold, and the last id handed out.
    owner: u64,
    last_id: u64,
}

/// The fused network-and-loss of a run (CPU only).
pub struct FusedNet {
    ws: Arc<Mutex<Workspace>>,
    threads: usize,
}

/// Weights then biases, flattened into one vector (differentiable).
pub fn flat_params(weights: &[Tensor], biases: &[Tensor]) -> candle_core::Result<Tensor> {
    let parts: Vec<Tensor> =
        weights.iter().chain(biases).map(Tensor::flatten_all).collect::<candle_core::Result<_>>()?;
    Tensor::cat(&parts, 0)
}

fn lock(ws: &Mutex<Workspace>) -> Result<std::sync::MutexGuard<'_, Workspace>> {
    ws.lock().map_err(|_| anyhow!("the fused step's buffers were poisoned by a failed step"))
}

impl FusedNet {
    /// With `threads` threads for the matrix multiplies.
    pub fn new(threads: usize) -> FusedNet {
        FusedNet { ws: Arc::new(Mutex::new(Workspace::default())), threads: threads.max(1) }
    }

    /// Loads a batch; with a teacher (its weights and biases), computes its estimate.
    pub fn prepare(&self, arch: &Arch, batch: &Batch, teacher: Option<(&[Tensor], &[Tensor])>) -> Result<()> {
        let mut guard = lock(&self.ws)?;
        let ws = &mut *guard;
        let shape = NetShape::new(arch, batch.b, batch.t);
        net::load_input(&shape, &batch.feats, &mut ws.x)?;
        ws.sqrt_mix.clone_from(&batch.sqrt_mix);
        ws.sqrt_clean.clone_from(&batch.sqrt_clean);
        ws.teacher.clear();
        if let Some((w, b)) = teacher {
            let p = flat_params(w, b)?.to_vec1::<f32>()?;
            net::forward(&shape, &p, &ws.x, &mut ws.acts, self.threads)?;
            let z = ws.acts.last().ok_or_else(|| anyhow!("empty network"))?;
            loss::estimate(&shape, z, &ws.sqrt_mix, &mut ws.teacher)?;
        }
        ws.owner = 0;
        ws.shape = Some(shape);
        Ok(())
    }

    /// The loss terms of the prepared batch under these weights and biases: `(1,)` holding the
    /// task loss, or `(2,)` with the distance to the teacher's estimate after it.
    pub fn loss(&self, weights: &[Tensor], biases: &[Tensor]) -> Result<Tensor> {
        let flat = flat_params(weights, biases)?;
        let id = {
            let mut ws = lock(&self.ws)?;
            ws.last_id += 1;
            ws.last_id
        };
        Ok(flat.apply_op1(LossOp { ws: self.ws.clone(), id, threads: self.threads })?)
    }
}

/// The custom op: flat parameters → loss terms.
struct LossOp {
    ws: Arc<Mutex<Workspace>>,
    id: u64,
    threads: usize,
}

fn op_err(e: anyhow::Error) -> candle_core::Error {
    candle_core::Error::Msg(format!("fused step: {e:#}"))
}

impl LossOp {
    fn forward(&self, params: &[f32]) -> Result<Vec<f32>> {
        let mut guard = lock(&self.ws)?;
        let ws = &mut *guard;
        let s = ws.shape.as_ref().ok_or_else(|| anyhow!("no batch prepared"))?;
        net::forward(s, params, &ws.x, &mut ws.acts, self.threads)?;
        let z = ws.acts.last().ok_or_else(|| anyhow!("empty network"))?;
        let teacher = (!ws.teacher.is_empty()).then_some(ws.teacher.as_slice());
        let (task, dist) = loss::loss(s, z, (&ws.sqrt_mix, &ws.sqrt_clean), teacher, &mut ws.cache, self.threads)?;
        ws.owner = self.id;
        Ok(if teacher.is_some() { vec![task as f32, dist as f32] } else { vec![task as f32] })
    }

    fn backward(&self, params: &[f32], g: &[f32]) -> Result<Vec<f32>> {
        let mut guard = lock(&self.ws)?;
        let ws = &mut *guard;
        if ws.owner != self.id {
            return Err(anyhow!("the buffers hold another step's forward pass"));
        }
        let s = ws.shape.as_ref().ok_or_else(|| anyhow!("no batch prepared"))?;
        let gains = (g.first().copied().unwrap_or(0.0), g.get(1).copied().unwrap_or(0.0));
        loss::loss_grad(s, &ws.cache, gains, &mut ws.dz, self.threads);
        let mut grad = vec![0f32; s.n_params];
        net::backward(s, params, (&ws.x, &ws.acts), (&mut ws.dz, &mut ws.spare), &mut grad, self.threads)?;
        Ok(grad)
    }
}

impl CustomOp1 for LossOp {
    fn name(&self) -> &'static str {
        "fused-mask-loss"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let CpuStorage::F32(all) = storage else {
            return Err(candle_core::Error::Msg("fused step: the parameters must be f32".into()));
        };
        let params = layout
            .contiguous_offsets()
            .and_then(|(a, b)| all.get(a..b))
            .ok_or_else(|| candle_core::Error::Msg("fused step: the parameters must be contiguous".into()))?;
        let out = self.forward(params).map_err(op_err)?;
        let n = out.len();
        Ok((CpuStorage::F32(out), Shape::from(n)))
    }

    fn bwd(&self, arg: &Tensor, _res: &Tensor, grad_res: &Tensor) -> candle_core::Result<Option<Tensor>> {
        let params = arg.flatten_all()?.to_vec1::<f32>()?;
        let g = grad_res.flatten_all()?.to_vec1::<f32>()?;
        let grad = self.backward(&params, &g).map_err(op_err)?;
        Ok(Some(Tensor::from_vec(grad, arg.shape(), arg.device())?))
    }
}

#[cfg(test)]
mod tests;
