//! The walk shared by the grouped-convolution kernels: weights stored `[out][kernel][in/G]`
//! row-major are visited in storage order, 8 packed levels at a time, while a cursor tracks
//! which output row, tap and input each weight belongs to. Packed groups are cut from that flat
//! order, so a group may span several output rows (depthwise) or a row may hold several groups;
//! the walk needs neither to line up.

use super::bits::{split_group, unpack8, LevelReader};
use super::dispatch::dispatch_built_width;
use crate::error::Error;
use crate::format::{GroupBits, Layout, Packed, Weights, MAX_KERNEL};

/// Checks a grouped frame's shapes: `groups ≥ 1` divides `in_len` and `out_len`, 1 to
/// [`MAX_KERNEL`] taps of `in_len` values each, and `count = out_len · kernel · in_len/groups`.
/// Returns the inputs per group.
pub(crate) fn check_grouped<T>(
    count: usize,
    taps: &[Option<&[T]>],
    in_len: usize,
    groups: usize,
    out_len: usize,
) -> Result<usize, Error> {
    if groups == 0 || in_len == 0 || in_len % groups != 0 || out_len % groups != 0 {
        return Err(Error::KernelShape);
    }
    let ipg = in_len / groups;
    let ok = (1..=MAX_KERNEL).contains(&taps.len())
        && taps.iter().flatten().all(|t| t.len() == in_len)
        && out_len.checked_mul(taps.len()).and_then(|n| n.checked_mul(ipg)) == Some(count);
    if ok {
        Ok(ipg)
    } else {
        Err(Error::KernelShape)
    }
}

/// Whether a one-group frame is a plain matrix-vector product the `matvec` kernels take: every
/// packed group lies within one tap's inputs (`group_size` divides `in_len`).
pub(crate) fn is_matvec(w: &Weights<'_>, groups: usize, in_len: usize) -> bool {
    groups == 1
        && match w {
            Weights::Packed(p) => p.group_size != 0 && in_len % usize::from(p.group_size) == 0,
            Weights::F32(_) | Weights::F16(_) => true,
        }
}

/// A depthwise frame's inputs of rows `n0..n0 + len` from each of its taps, when it has the
/// common shape the kernels' 3-tap loops take: 3 taps, one output per channel, every tap's
/// inputs present (after the stream start). `None` for any other frame.
#[inline(always)]
pub(crate) fn three_taps<'t, T>(taps: &[Option<&'t [T]>], opg: usize, n0: usize, len: usize) -> Option<[&'t [T]; 3]> {
    let (1, [Some(t0), Some(t1), Some(t2)]) = (opg, taps) else { return None };
    let rows = n0..n0 + len;
    Some([t0.get(rows.clone())?, t1.get(rows.clone())?, t2.get(rows)?])
}

/// Where the walk is: output row `n`'s tap `j`, input `i` of the row's input group.
pub(crate) struct Cursor<'t, T> {
    taps: &'t [Option<&'t [T]>],
    ipg: usize,
    opg: usize,
    j: usize,
    i: usize,
    /// Rows done in the current output group.
    in_group: usize,
    /// First input of the current row's input group.
    base: usize,
    /// The current tap's inputs of that group (`None`: a tap before the stream start).
    cur: Option<&'t [T]>,
}

impl<'t, T: Copy> Cursor<'t, T> {
    /// At the first weight; `ipg ≥ 1` inputs and `opg ≥ 1` outputs per group.
    pub(crate) fn new(taps: &'t [Option<&'t [T]>], ipg: usize, opg: usize) -> Self {
        let mut c = Cursor { taps, ipg, opg: opg.max(1), j: 0, i: 0, in_group: 0, base: 0, cur: None };
        c.load();
        c
    }

    fn load(&mut self) {
        self.cur = self.taps.get(self.j).copied().flatten().and_then(|t| t.get(self.base..self.base + self.ipg));
    }

    /// The weights left in the current row's current tap, and that tap's inputs from the
    /// current one on (`None`: a tap before the stream start).
    #[inline(always)]
    pub(crate) fn segment(&self) -> (usize, Option<&'t [T]>) {
        (self.ipg - self.i, self.cur.and_then(|t| t.get(self.i..)))
    }

    /// Moves `n` weights on (at most to the end of the segment); `true` when that ends a row.
    #[inline(always)]
    pub(crate) fn advance(&mut self, n: usize) -> bool {
        self.i += n;
        if self.i < self.ipg {
            return false;
        }
        self.i = 0;
        self.j += 1;
        let row_done = self.j == self.taps.len();
        if row_done {
            self.j = 0;
            self.in_group += 1;
            if self.in_group == self.opg {
                self.in_group = 0;
                self.base += self.ipg;
            }
        }
        self.load();
        row_done
    }
}

/// Splits a few levels (or weights) into the runs the cursor's segments cut them into: `f(levels, inputs,
/// row_end)` for each run (`inputs` as long as `levels`, or `None`; `row_end`: the run ends a
/// row).
#[inline(always)]
pub(crate) fn for_each_run<T: Copy, L>(
    cur: &mut Cursor<'_, T>,
    levels: &[L],
    mut f: impl FnMut(&[L], Option<&[T]>, bool),
) {
    let mut lv = levels;
    while !lv.is_empty() {
        let (left, xs) = cur.segment();
        let (now, rest) = lv.split_at(left.min(lv.len()));
        let xs = xs.and_then(|x| x.get(..now.len()));
        lv = rest;
        let row_end = cur.advance(now.len());
        f(now, xs, row_end);
    }
}

/// Calls `f(bits, levels)` for every run of 8 levels of the row-major tensor `p`, in storage
/// order. Widths up to 8 unpack a run with constant shifts ([`unpack8`]), wider ones read it
/// level by level.
pub(crate) fn for_each_chunk(p: &Packed<'_>, mut f: impl FnMut(u8, [u32; 8])) -> Result<(), Error> {
    let gs = usize::from(p.group_size);
    if gs == 0 || gs % 8 != 0 || p.count as usize % gs != 0 || p.layout != Layout::Rows {
        return Err(Error::KernelShape);
    }
    let (mut bits, mut data) = (p.bits_iter(), p.data);
    for _ in 0..p.n_groups() {
        let b = bits.next().unwrap_or(0);
        let (g, rest) = split_group(data, gs, b).ok_or(Error::KernelShape)?;
        data = rest;
        dispatch_built_width!(b, chunks_fixed, [], chunks_any(g, b, &mut f), (g, &mut f));
    }
    Ok(())
}

#[inline(always)]
fn chunks_fixed<const B: usize>(g: &[u8], f: &mut impl FnMut(u8, [u32; 8])) {
    for c in g.chunks_exact(B) {
        f(B as u8, unpack8::<B>(c));
    }
}

fn chunks_any(g: &[u8], b: u8, f: &mut impl FnMut(u8, [u32; 8])) {
    let mut r = LevelReader::new(g, b);
    for _ in 0..g.len() / usize::from(b.max(1)) {
        f(b, core::array::from_fn(|_| r.next_level()));
    }
}

/// The levels of a row-major packed tensor one at a time, each with its group's width, decoded
/// 8 at a time; a copy replays the walk from where it was taken (a row read once per output).
#[derive(Clone)]
pub(crate) struct LevelWalk<'a> {
    bits: GroupBits<'a>,
    /// Bytes of the groups not yet started.
    data: &'a [u8],
    /// Bytes of the current group's chunks not yet decoded.
    group: &'a [u8],
    gs: usize,
    b: u8,
    chunk: [u32; 8],
    /// Next index into `chunk` (8: decode the next one).
    pos: usize,
}

impl<'a> LevelWalk<'a> {
    /// At the first level of `p` (row-major, group size a multiple of 8 dividing the count).
    pub(crate) fn new(p: &'a Packed<'a>) -> Result<Self, Error> {
        let gs = usize::from(p.group_size);
        if gs == 0 || gs % 8 != 0 || p.count as usize % gs != 0 || p.layout != Layout::Rows {
            return Err(Error::KernelShape);
        }
        Ok(LevelWalk { bits: p.bits_iter(), data: p.data, group: &[], gs, b: 0, chunk: [0; 8], pos: 8 })
    }

    /// The next level and its width (`Error::KernelShape` past the packed data).
    #[inline(always)]
    pub(crate) fn next_level(&mut self) -> Result<(u8, u32), Error> {
        if self.pos >= 8 {
            self.refill()?;
        }
        let l = self.chunk.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        Ok((self.b, l))
    }

    fn refill(&mut self) -> Result<(), Error> {
        if self.group.is_empty() {
            let b = self.bits.next().unwrap_or(0);
            (self.group, self.data) = split_group(self.data, self.gs, b).ok_or(Error::KernelShape)?;
            self.b = b;
        }
        let (c, rest) = self.group.split_at_checked(usize::from(self.b)).ok_or(Error::KernelShape)?;
        self.chunk = dispatch_built_width!(self.b, unpack8, [], read8_any(c, self.b), (c));
        (self.group, self.pos) = (rest, 0);
        Ok(())
    }
}

fn read8_any(c: &[u8], b: u8) -> [u32; 8] {
    let mut r = LevelReader::new(c, b);
    core::array::from_fn(|_| r.next_level())
}
