//! Moving rounded bit widths one bit at a time until a blob fits a byte budget. Used at export
//! (land in `[97%, 100%]` of the target) and, with `--fill-budget`, when the bits are frozen
//! (fill the budget, so the frozen phase trains the weights under the widths that will ship).
//! `split_widths` cuts the flat list the moves work on back into one list per tensor; `BudgetFit`
//! says what the moves did.

use super::DiffqError;

/// The result of [`fit_widths`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fit {
    /// Single-bit moves made.
    pub moves: usize,
    /// Size at the final widths (may still exceed `hi` if no width could go lower).
    pub bytes: usize,
}

/// Moves the rounded widths `bits` (each within `min..=max`) so that `size(bits)` lands in
/// `[lo, hi]`. Over `hi`, the width rounded up the furthest from its continuous value `cont`
/// loses a bit; under `lo`, the width rounded down the furthest gains one, and filling stops at
/// the first bit that would not fit under `hi`. Ties: the last index loses a bit, the first
/// gains one (the order the shipped models were exported with).
pub fn fit_widths(
    cont: &[f32],
    bits: &mut [u8],
    (min, max): (u8, u8),
    (lo, hi): (usize, usize),
    mut size: impl FnMut(&[u8]) -> Result<usize, DiffqError>,
) -> Result<Fit, DiffqError> {
    if cont.len() != bits.len() {
        return Err(DiffqError::GroupCount { groups: bits.len(), expected: cont.len() });
    }
    let mut bytes = size(bits)?;
    let mut moves = 0usize;
    loop {
        let down = bytes > hi;
        if !down && bytes >= lo {
            break;
        }
        // (index, how far the width was rounded up) of every width free to move that way
        let candidates = bits.iter().zip(cont).enumerate().filter(|(_, (&b, _))| if down { b > min } else { b < max });
        let keyed = candidates.map(|(k, (&b, &c))| (k, f32::from(b) - c));
        let pick =
            if down { keyed.max_by(|a, b| a.1.total_cmp(&b.1)) } else { keyed.min_by(|a, b| a.1.total_cmp(&b.1)) };
        let Some(w) = pick.and_then(|(k, _)| bits.get_mut(k)) else { break };
        let old = *w;
        *w = if down { old - 1 } else { old + 1 };
        let new_bytes = size(bits)?;
        if !down && new_bytes > hi {
            if let Some(w) = pick.and_then(|(k, _)| bits.get_mut(k)) {
                *w = old; // no room left for one more bit
            }
            break;
        }
        bytes = new_bytes;
        moves += 1;
    }
    Ok(Fit { moves, bytes })
}

/// What the budget fit did to the rounded widths: groups moved down and up, bits moved each way,
/// the mean width before and after, and the lowest width it was allowed.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct BudgetFit {
    pub groups_lowered: usize,
    pub bits_lowered: usize,
    pub groups_raised: usize,
    pub bits_raised: usize,
    pub mean_bits_before: f64,
    pub mean_bits_after: f64,
    pub min_bits: u8,
}

impl BudgetFit {
    pub fn of(before: &[u8], after: &[u8], min_bits: u8) -> BudgetFit {
        let mut f = BudgetFit { min_bits, ..BudgetFit::default() };
        for (&a, &b) in before.iter().zip(after) {
            if b < a {
                (f.groups_lowered, f.bits_lowered) = (f.groups_lowered + 1, f.bits_lowered + usize::from(a - b));
            } else if b > a {
                (f.groups_raised, f.bits_raised) = (f.groups_raised + 1, f.bits_raised + usize::from(b - a));
            }
        }
        let mean = |v: &[u8]| v.iter().map(|&x| f64::from(x)).sum::<f64>() / v.len().max(1) as f64;
        (f.mean_bits_before, f.mean_bits_after) = (mean(before), mean(after));
        f
    }

    /// A warning when widths moved (how many groups, by how many bits), none otherwise.
    pub fn warning(&self, target: usize) -> Option<String> {
        if self.groups_lowered + self.groups_raised == 0 {
            return None;
        }
        Some(format!(
            "warning: to fit the {target}-byte budget, export moved {} groups down by {} bits and {} up by {} bits \
             (mean width {:.2} → {:.2} bits, none below {})",
            self.groups_lowered,
            self.bits_lowered,
            self.groups_raised,
            self.bits_raised,
            self.mean_bits_before,
            self.mean_bits_after,
            self.min_bits
        ))
    }
}

/// Splits a flat list of widths into one list per tensor: tensor `t` takes the next `parts[t].0`
/// widths, each repeated `parts[t].1` times (one width per logit covering that many groups).
pub fn split_widths(flat: &[u8], parts: &[(usize, usize)]) -> Vec<Vec<u8>> {
    let mut out = Vec::with_capacity(parts.len());
    let mut at = 0;
    for &(n, repeat) in parts {
        out.push(
            flat.get(at..at + n).unwrap_or_default().iter().flat_map(|&b| std::iter::repeat_n(b, repeat)).collect(),
        );
        at += n;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 10 header bytes + one byte per bit of width, as a stand-in for the blob's accounting.
    fn size(b: &[u8]) -> Result<usize, DiffqError> {
        Ok(10 + b.iter().map(|&x| usize::from(x)).sum::<usize>())
    }

    #[test]
    fn fills_the_budget_from_the_widths_rounded_down_the_most() {
        let cont = [2.4, 3.1, 2.45, 4.0];
        let mut bits = [2, 3, 2, 4];
        let fit = fit_widths(&cont, &mut bits, (2, 15), (22, 22), size).unwrap();
        assert_eq!(bits, [2, 3, 3, 4]); // 2.45 was rounded down the most
        assert_eq!(fit, Fit { moves: 1, bytes: 22 });
        let fit = fit_widths(&cont, &mut bits, (2, 15), (24, 24), size).unwrap();
        assert_eq!((bits, fit), ([3, 4, 3, 4], Fit { moves: 2, bytes: 24 })); // then 2.4, then 3.1
                                                                              // two bytes per bit: the next bit would overflow, so nothing moves
        let mut bits = [2, 3, 2, 4];
        let fit = fit_widths(&cont, &mut bits, (2, 15), (33, 33), |b| size(b).map(|s| 2 * s - 10)).unwrap();
        assert_eq!((bits, fit), ([2, 3, 2, 4], Fit { moves: 0, bytes: 32 }));
    }

    #[test]
    fn sheds_bits_rounded_up_the_most_until_under_budget() {
        let cont = [2.6, 3.5, 4.9, 2.0];
        let mut bits = [3, 4, 5, 2];
        let fit = fit_widths(&cont, &mut bits, (2, 15), (0, 22), size).unwrap();
        assert_eq!((bits, fit), ([2, 3, 5, 2], Fit { moves: 2, bytes: 22 })); // 3.5→4 first, then 2.6→3
                                                                              // an unreachable budget ends with every width at its minimum, still over
        let fit = fit_widths(&cont, &mut bits, (2, 15), (0, 12), size).unwrap();
        assert_eq!((bits, fit), ([2, 2, 2, 2], Fit { moves: 4, bytes: 18 }));
    }

    #[test]
    fn budget_fit_counts_groups_and_bits_moved_each_way() {
        let f = BudgetFit::of(&[8, 8, 4, 3], &[2, 7, 4, 5], 2);
        assert_eq!((f.groups_lowered, f.bits_lowered, f.groups_raised, f.bits_raised), (2, 7, 1, 2));
        assert_eq!((f.mean_bits_before, f.mean_bits_after), (5.75, 4.5));
        let w = f.warning(1000).unwrap();
        assert!(w.contains("moved 2 groups down by 7 bits and 1 up by 2 bits") && w.contains("5.75 → 4.50"), "{w}");
        assert_eq!(BudgetFit::of(&[3, 4], &[3, 4], 2).warning(1000), None);
    }

    #[test]
    fn split_widths_cuts_and_repeats_per_tensor() {
        assert_eq!(split_widths(&[2, 3, 4, 5, 6], &[(2, 1), (3, 1)]), vec![vec![2, 3], vec![4, 5, 6]]);
        assert_eq!(split_widths(&[2, 3, 4], &[(1, 3), (2, 2)]), vec![vec![2, 2, 2], vec![3, 3, 4, 4]]);
        assert_eq!(split_widths(&[2], &[(1, 1), (2, 1)]), vec![vec![2], vec![]]);
        // short input: empty, no panic
    }

    #[test]
    fn ties_go_by_index_and_bounds_hold() {
        let cont = [3.0, 3.0, 3.0];
        let mut bits = [3, 3, 3];
        fit_widths(&cont, &mut bits, (1, 15), (20, 20), size).unwrap();
        assert_eq!(bits, [4, 3, 3]); // the first gains a bit
        let mut bits = [3, 3, 3];
        fit_widths(&cont, &mut bits, (1, 15), (0, 18), size).unwrap();
        assert_eq!(bits, [3, 3, 2]); // the last loses one
        let mut bits = [15, 15];
        let fit = fit_widths(&[15.0, 15.0], &mut bits, (1, 15), (100, 100), size).unwrap();
        assert_eq!((bits, fit.moves), ([15, 15], 0));
        assert!(fit_widths(&[1.0], &mut [1, 2], (1, 15), (0, 9), size).is_err());
    }
}
