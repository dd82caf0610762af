//! A description's whole-blob budget at export: the checkpoint's DiffQ widths moved by
//! [`super::fit_to_target`], sized exactly from the blob written at the trained widths (only the
//! packed weight regions and their bit-width tables depend on the widths).

use super::BitsPlan;
use crate::checkpoint::Trained;
use crate::diffq::fit::BudgetFit;
use crate::diffq::size::packed_bytes;
use crate::diffq::QuantLayout;
use anyhow::{anyhow, Result};

/// Bytes of the width-dependent part of tensors laid out as `layouts` at `widths`.
fn packed_total(layouts: &[QuantLayout], widths: &[Vec<u8>]) -> usize {
    layouts.iter().zip(widths).map(|(l, gb)| packed_bytes(l, gb)).sum()
}

/// The layouts and widths of `plan`'s `Some` entries.
fn split(plan: &BitsPlan) -> (Vec<QuantLayout>, Vec<Vec<u8>>) {
    plan.iter().flatten().map(|(l, b)| (*l, b.clone())).unzip()
}

/// Moves the widths of the tensors DiffQ learnt (a `keep` tensor keeps its fixed width) so the
/// blob, `written` bytes long at `plans`, fits `target`. Returns the new plans (None: nothing
/// moved), the blob length they give, the single-bit moves and what they did.
pub fn fit(
    t: &Trained,
    plans: &BitsPlan,
    written: usize,
    target: usize,
    allow_below_min: bool,
) -> Result<(Option<BitsPlan>, usize, usize, BudgetFit)> {
    let mut learnt: BitsPlan = plans
        .iter()
        .enumerate()
        .map(|(k, p)| p.clone().filter(|_| t.qs.layouts.get(k).copied().flatten().is_some()))
        .collect();
    let (layouts, trained) = split(&learnt);
    let fixed = written
        .checked_sub(packed_total(&layouts, &trained))
        .ok_or_else(|| anyhow!("internal error: packed weights larger than the blob"))?;
    let size = |gb: &[Vec<u8>]| Ok(fixed + packed_total(&layouts, gb));
    let (moves, budget) = super::fit_to_target(t, &mut learnt, size, target, allow_below_min)?;
    let bytes = fixed + packed_total(&layouts, &split(&learnt).1);
    if moves == 0 {
        return Ok((None, bytes, 0, budget));
    }
    let moved = plans.iter().zip(learnt).map(|(p, l)| l.or_else(|| p.clone())).collect();
    Ok((Some(moved), bytes, moves, budget))
}
