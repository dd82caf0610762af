//! 1- and 2-bit rows on the f32 path by tables of sums: a packed nibble holds `4/B` levels of
//! consecutive inputs, so once per product each nibble position of a row gets the 16 sums its
//! inputs can give, `Σ_i x_i·level_i(n)` for every nibble value `n`; each row then costs one
//! table load and one add per nibble (`4/B` MACs) instead of a level lookup, a multiply and an
//! add per MAC. Worth it when many rows share short inputs (the 16 kHz model's mask layer: 257
//! rows of 48 inputs; its GRUs' 2-bit row pairs, [`super::pair_runs_f32`]): the table takes
//! 2 KiB of stack and about 66 instructions per nibble position to fill. A model step keeps one
//! table room ([`Tables`]) for all its products, so those 2 KiB are zeroed once per step.
//!
//! The sums: an entry is `x_0·l_0 + x_1·l_1` at 2 bits and `((x_0·l_0 + x_1·l_1) + x_2·l_2) +
//! x_3·l_3` at 1 bit (each product rounded to f32, then each sum); a row adds its even nibbles'
//! entries into one f32 sum and its odd nibbles' into another, in order, then the two. Host and
//! target run this same code, so they agree bit for bit; the order differs from the level
//! tables', which is why the choice depends on the tensor alone (its shape, a pair's width),
//! never on the build.

use super::bits::le_u32;
use crate::quant::group_bytes;
use core::num::NonZeroUsize;

/// The most nibble positions a row may have for the table path: 32 positions of 16 sums, 2 KiB
/// of stack.
pub(super) const TABLE_NIBBLES: usize = 32;
/// Fewer rows go the level-table way: a nibble position's 16 sums cost about what 8 rows'
/// lookups save.
pub(super) const TABLE_MIN_ROWS: usize = 16;
/// Word slots of 8 positions: a row's packed word `i` (8 nibbles) reads slot `i`.
const SLOTS: usize = TABLE_NIBBLES / 8;

/// `tab[n][slot][lane]`: the sum for nibble value `n` at position `8·slot + lane`. Nibble value
/// first, so that every position of a row is an immediate offset from one address per value:
/// one field extract, one add, one load and one add per nibble.
pub(super) type Table = [[[f32; 8]; SLOTS]; 16];

/// Whether a `B`-bit tensor of `rows` rows over `taps` taps of `in_len` inputs runs on tables:
/// one tap (a linear layer; a conv's taps go the level-table way), enough rows, rows of whole
/// packed words (16 inputs at 2 bits, 32 at 1 bit) and at most [`TABLE_NIBBLES`] nibbles.
pub(super) fn tables_fit<const B: usize>(in_len: usize, taps: usize, rows: usize) -> bool {
    let bytes = group_bytes(in_len, B as u8);
    (B == 1 || B == 2) && taps == 1 && rows >= TABLE_MIN_ROWS && bytes % 4 == 0 && bytes / 4 <= SLOTS
}

/// The 16 sums of one nibble position over `xs` (its `4/B` inputs), into `tab[n][slot][lane]`:
/// the sums over the first `k + 1` inputs from those over the first `k` (the same additions in
/// the same order as summing each entry on its own, shared between entries).
#[inline(always)]
fn fill_position<const B: usize>(xs: &[f32], tab: &mut Table, slot: usize, lane: usize) {
    let levels = 1usize << B;
    let mut sums = [0.0f32; 16];
    for (i, x) in (0..4 / B).map(|i| xs.get(i).copied().unwrap_or(0.0)).enumerate() {
        // Entries `n < levels^(i+1)`, high to low so that the lower ones are still those over
        // the first `i` inputs: `sums[n mod levels^i] + x·(n / levels^i)`.
        let below = 1usize << (i * B);
        for n in (0..below * levels).rev() {
            let p = x * (n / below) as f32;
            let s = if i == 0 { p } else { sums.get(n % below).copied().unwrap_or(0.0) + p };
            if let Some(v) = sums.get_mut(n) {
                *v = s;
            }
        }
    }
    for (n, s) in sums.into_iter().enumerate() {
        if let Some(v) = tab.get_mut(n).and_then(|v| v.get_mut(slot)).and_then(|v| v.get_mut(lane)) {
            *v = s;
        }
    }
}

/// The sum for the nibble in the low 4 bits of `n` at position `8·slot + lane` (positions past
/// the table add nothing; the loops below stay inside it, so the checks compile away).
#[inline(always)]
fn entry(tab: &Table, n: usize, slot: usize, lane: usize) -> f32 {
    tab.get(n & 15).and_then(|t| t.get(slot)).and_then(|t| t.get(lane)).copied().unwrap_or(0.0)
}

/// Adds the entries of one row's nibbles in `row` (whole words) to `a` (even positions) and `b`
/// (odd ones).
#[inline(always)]
fn add_segment(tab: &Table, row: &[u8], a: &mut f32, b: &mut f32) {
    // (The range by reference: zipped with `0..SLOTS` itself, LLVM unrolls the loop in full
    // and the rows cost about 5% more, kbench m4.)
    let mut slots = 0..SLOTS;
    for (w, slot) in row.chunks_exact(4).zip(&mut slots) {
        let w = le_u32(w) as usize;
        for j in 0..4 {
            *a += entry(tab, w >> (8 * j), slot, 2 * j);
            *b += entry(tab, w >> (8 * j + 4), slot, 2 * j + 1);
        }
    }
}

/// An empty table (2 KiB).
const EMPTY_TABLE: Table = [[[0.0f32; 8]; SLOTS]; 16];

/// Room for one table, shared by the products of a model step: zeroed at its first use only
/// (2 KiB cleared once per step, not once per product). Each product fills every position its
/// rows read (whole packed words, [`tables_fit`]); positions left from another product are
/// never read.
pub(crate) struct Tables(Option<Table>);

impl Tables {
    /// No table yet (nothing cleared until a product needs one).
    pub(crate) const fn new() -> Self {
        Self(None)
    }

    /// The table filled for the inputs `x` (the caller has checked [`tables_fit`]).
    pub(super) fn fill<const B: usize>(&mut self, x: &[f32]) -> &Table {
        // (Zeroed only on the way into an empty room.)
        let tab = match &mut self.0 {
            Some(tab) => tab,
            empty => empty.insert(EMPTY_TABLE),
        };
        fill_table::<B>(x, tab);
        tab
    }
}

/// Fills `tab` for the inputs `x`, in place (nibble positions past [`TABLE_NIBBLES`] left
/// out: the callers check [`tables_fit`]). Out of line: once per call of a kernel, one copy in
/// flash for both users.
#[inline(never)]
fn fill_table<const B: usize>(x: &[f32], tab: &mut Table) {
    for k in 0..(x.len() * B).div_ceil(4).min(TABLE_NIBBLES) {
        fill_position::<B>(x.get(k * (4 / B)..).unwrap_or(&[]), tab, k / 8, k % 8);
    }
}

/// One row's `Σ x·level` from the table: its even nibbles' entries added in order, its odd
/// nibbles' likewise, then the two.
#[inline(always)]
pub(super) fn row_sum(tab: &Table, row: &[u8]) -> f32 {
    let (mut a, mut b) = (0.0f32, 0.0f32);
    add_segment(tab, row, &mut a, &mut b);
    a + b
}

/// `out[n] = row_sum(row n)·scale + min_term`, rows of `row_bytes` bytes in `data` over the
/// inputs `x` (rows past the data's end are left as they are: the caller checks its length).
/// The caller has checked [`tables_fit`].
pub(super) fn rows_tables_f32<const B: usize>(
    data: &[u8],
    x: &[f32],
    row_bytes: NonZeroUsize,
    scale: f32,
    min_term: f32,
    out: &mut [f32],
    tables: &mut Tables,
) {
    let tab = tables.fill::<B>(x);
    for (y, row) in out.iter_mut().zip(data.chunks_exact(row_bytes.get())) {
        *y = row_sum(tab, row) * scale + min_term;
    }
}
