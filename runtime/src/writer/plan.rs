//! The arena planner (FORMAT.md, "Arena planning"): first fit, values in order of birth, each
//! at the lowest offset free of every planned region whose live interval meets its own.

use alloc::vec::Vec;

/// A value to place: its elements, the scratch right after it (live at its birth only), and
/// the steps it is live (`born ..= last`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Live {
    pub len: usize,
    pub scratch: usize,
    pub born: usize,
    pub last: usize,
}

/// A planned region: offset, length, live steps.
struct Placed {
    off: usize,
    len: usize,
    lo: usize,
    hi: usize,
}

/// Each value's offset (in order) and the arena length: the largest end of any region.
pub(super) fn first_fit(values: &[Live]) -> (Vec<usize>, usize) {
    let mut placed: Vec<Placed> = Vec::new();
    let mut offsets = Vec::with_capacity(values.len());
    for v in values {
        // The value's parts relative to its offset: the value, then its scratch.
        let parts: Vec<(usize, usize, usize, usize)> =
            [(0, v.len, v.born, v.last), (v.len, v.scratch, v.born, v.born)].into_iter().filter(|p| p.1 > 0).collect();
        let mut candidates: Vec<usize> = placed
            .iter()
            .flat_map(|p| parts.iter().filter_map(move |q| (p.off + p.len).checked_sub(q.0)))
            .chain([0])
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        let free = |off: usize| {
            parts.iter().all(|&(rel, len, lo, hi)| {
                placed.iter().all(|p| {
                    let (a, b) = (off + rel, off + rel + len);
                    !(a < p.off + p.len && p.off < b && lo <= p.hi && p.lo <= hi)
                })
            })
        };
        let off = candidates.into_iter().find(|&o| free(o)).unwrap_or(0);
        for &(rel, len, lo, hi) in &parts {
            placed.push(Placed { off: off + rel, len, lo, hi });
        }
        offsets.push(off);
    }
    let arena = placed.iter().map(|p| p.off + p.len).max().unwrap_or(0);
    (offsets, arena)
}

#[cfg(test)]
mod tests {
    use super::{first_fit, Live};
    use alloc::vec;

    fn live(len: usize, born: usize, last: usize) -> Live {
        Live { len, scratch: 0, born, last }
    }

    #[test]
    fn a_chain_ping_pongs_and_a_skip_keeps_its_value() {
        // 0 → 1 → 2 → 3: each value read by the next node only.
        let chain = [live(4, 0, 1), live(8, 1, 2), live(8, 2, 3), live(2, 3, 4)];
        assert_eq!(first_fit(&chain), (vec![0, 4, 12, 0], 20));
        // Value 1 is also read at step 3 (a residual add): value 2 cannot reuse its place.
        let skip = [live(4, 0, 1), live(8, 1, 3), live(8, 2, 3), live(8, 3, 4)];
        assert_eq!(first_fit(&skip), (vec![0, 4, 12, 20], 28));
        // A scratch region is live at its node's step only.
        let gru = [live(4, 0, 1), Live { len: 2, scratch: 12, born: 1, last: 2 }, live(2, 2, 3)];
        assert_eq!(first_fit(&gru), (vec![0, 4, 0], 18));
    }
}
