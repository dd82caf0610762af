//! The arena plan of a node graph (FORMAT.md, "Arena planning"): each value's region and live
//! interval, collected while the nodes are checked ([`Values`]), then every pair of regions
//! live at a common step checked disjoint ([`Error::ArenaOverlap`]) and the arena length they
//! need. Stack arrays bounded by [`MAX_NODES`]: no heap.

use super::Model;
use crate::error::Error;
use crate::format::{Node, MAX_NODES};

const MAX_VALUES: usize = MAX_NODES as usize + 1;

/// Every value's arena region (elements) and the last step that reads it; a node's scratch.
pub(super) struct Values {
    offset: [u32; MAX_VALUES],
    len: [u32; MAX_VALUES],
    last: [u16; MAX_VALUES],
    scratch: [u32; MAX_VALUES],
    count: usize,
}

impl Values {
    /// Value 0, the input: offset 0, `input_len` elements.
    pub fn new(input_len: u16) -> Self {
        let mut v = Values {
            offset: [0; MAX_VALUES],
            len: [0; MAX_VALUES],
            last: [0; MAX_VALUES],
            scratch: [0; MAX_VALUES],
            count: 1,
        };
        v.len[0] = u32::from(input_len);
        v
    }

    /// Node `count − 1`'s output: value `count`, born at step `count`.
    pub fn push(&mut self, n: &Node) {
        let v = self.count;
        if let (Some(o), Some(l), Some(t), Some(s)) =
            (self.offset.get_mut(v), self.len.get_mut(v), self.last.get_mut(v), self.scratch.get_mut(v))
        {
            (*o, *l, *t, *s) = (n.arena_offset, n.out_len() as u32, v as u16, n.scratch_len() as u32);
            self.count += 1;
        }
    }

    /// Node `node` reads value `v` at step `node + 1`.
    pub fn read_at(&mut self, v: u16, node: u16) {
        if let Some(t) = self.last.get_mut(usize::from(v)) {
            *t = (*t).max(node + 1);
        }
    }

    fn region(&self, v: usize) -> (u64, u64) {
        let off = u64::from(self.offset.get(v).copied().unwrap_or(0));
        (off, off + u64::from(self.len.get(v).copied().unwrap_or(0)))
    }

    fn interval(&self, v: usize) -> (usize, usize) {
        (v, usize::from(self.last.get(v).copied().unwrap_or(0)).max(v))
    }

    /// Value `v`'s producer's scratch, right after its output, live at step `v` only.
    fn scratch(&self, v: usize) -> Option<(u64, u64)> {
        let s = u64::from(self.scratch.get(v).copied().unwrap_or(0));
        let end = self.region(v).1;
        (s > 0).then_some((end, end + s))
    }
}

fn meets(a: (u64, u64), b: (u64, u64)) -> bool {
    a.0 < b.1 && b.0 < a.1
}

fn live_together(a: (usize, usize), b: (usize, usize)) -> bool {
    a.0 <= b.1 && b.0 <= a.1
}

impl Model<'_> {
    /// Checks that no two regions live at a common step overlap (the output value is live to
    /// step `n_nodes + 1`); returns the arena length: the largest end of any region.
    pub(super) fn check_plan(&self, mut vs: Values) -> Result<u64, Error> {
        let n = vs.count;
        if let Some(t) = vs.last.get_mut(n.saturating_sub(1)) {
            *t = self.header.n_nodes.saturating_add(1);
        }
        let mut arena = 0u64;
        for w in 0..n {
            let (rw, iw) = (vs.region(w), vs.interval(w));
            arena = arena.max(rw.1);
            let node = w.saturating_sub(1) as u16;
            for v in 0..w {
                if meets(rw, vs.region(v)) && live_together(iw, vs.interval(v)) {
                    return Err(Error::ArenaOverlap { node, with: v as u16 });
                }
            }
            if let Some(s) = vs.scratch(w) {
                arena = arena.max(s.1);
                let clash = (0..n).find(|&v| v != w && meets(s, vs.region(v)) && live_together((w, w), vs.interval(v)));
                if let Some(v) = clash {
                    return Err(Error::ArenaOverlap { node, with: v as u16 });
                }
            }
        }
        Ok(arena)
    }
}
