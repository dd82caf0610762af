//! The groups' bit widths of a packed tensor, read from its bit-width table (FORMAT.md, "Packed
//! tensors") one group or one run of equal widths at a time.

use super::bits::le_u32;
use crate::arith::COUNTS_ZEROS;
use crate::format::Packed;

/// The groups' bit widths in order, read from a packed tensor's bit-width table three bytes at a
/// time: the entries (1, 2 or 4 bits, LSB-first in each byte) sit in a word under a marker bit,
/// and a refill is due when only the marker is left. Past the table it yields `bits_base`.
/// `KEEP_MASK`: the entry mask is kept (one more live value in the group loop), else rebuilt
/// from the entry width per group (two more instructions). The integer kernel keeps it (16 kHz
/// M4 integer demo: 1,200 fewer instructions per frame); the f32 kernel, with more live values
/// of its own, rebuilds it: in the C API's build with every runtime part the kept mask pushed the
/// 3-bit level table's address onto the stack (8 kHz frame: 27,760 more instructions), while the
/// demo builds differ by under 0.3% either way.
#[derive(Clone)]
pub(crate) struct Widths<'a, const KEEP_MASK: bool = true> {
    table: &'a [u8],
    word: u32,
    width: u32,
    mask: u32,
    base: u8,
}

/// The marker above a refill's 24 bits of entries.
const WIDTHS_MARK: u32 = 1 << 24;

impl<'a, const KEEP_MASK: bool> Widths<'a, KEEP_MASK> {
    pub(crate) fn new(p: &Packed<'a>) -> Self {
        // A table width that does not divide 24 (the parser allows 1, 2, 4) would skip the
        // marker: it then reads as width 0, every group at `bits_base`.
        let width = u32::from(p.bits_width);
        let width = if width != 0 && 24 % width == 0 { width } else { 0 };
        Widths { table: p.bits_table, word: 1, width, mask: (1 << width) - 1, base: p.bits_base }
    }

    /// The next three bytes of entries once the word's are all read (only the marker left).
    #[inline(always)]
    fn refill_if_read(&mut self) {
        if self.word == 1 {
            (self.word, self.table) = refill_widths(self.table);
        }
    }

    /// The next group's width.
    #[inline(always)]
    pub(crate) fn next_width(&mut self) -> u8 {
        self.refill_if_read();
        let e = self.word & self.entry_mask();
        self.word >>= self.width;
        self.base.wrapping_add(e as u8)
    }

    /// The mask of one entry: kept, or rebuilt from the entry width (`KEEP_MASK`).
    #[inline(always)]
    fn entry_mask(&self) -> u32 {
        if KEEP_MASK {
            self.mask
        } else {
            (1 << self.width) - 1
        }
    }

    /// The next group's width and how many groups from it on share it (1 to `max`, at least 1):
    /// the same widths as as many [`Self::next_width`] calls; no entry after the run's is read (one
    /// that differs is looked at and left for the next call). Where the core counts zeros, a
    /// word's entries are compared at once ([`Self::next_run_by_words`]), else one by one.
    #[inline(always)]
    pub(crate) fn next_run(&mut self, max: usize) -> (u8, usize) {
        if self.width == 0 {
            // Every group at `base` (a one-width tensor): no table to read.
            return (self.base, max.max(1));
        }
        if COUNTS_ZEROS {
            self.next_run_by_words(max)
        } else {
            self.next_run_by_entries(max)
        }
    }

    /// [`Self::next_run`] entry by entry (a table is there: `width` is not 0).
    #[inline(always)]
    fn next_run_by_entries(&mut self, max: usize) -> (u8, usize) {
        self.refill_if_read();
        let mask = self.entry_mask();
        let e = self.word & mask;
        self.word >>= self.width;
        let mut n = 1;
        while n < max {
            self.refill_if_read();
            if self.word & mask != e {
                break;
            }
            self.word >>= self.width;
            n += 1;
        }
        (self.base.wrapping_add(e as u8), n)
    }

    /// [`Self::next_run`] a word at a time: each entry compared with the next (`word ^ word >>
    /// width`) and the equal ones counted by trailing zeros, so that a run within a word costs the
    /// same whatever its length; a run that reaches the word's end goes on entry by entry.
    #[inline(always)]
    fn next_run_by_words(&mut self, max: usize) -> (u8, usize) {
        self.refill_if_read();
        let mask = self.entry_mask();
        let e = self.word & mask;
        let max = max.max(1);
        // Entries equal to the word's first, from it on (`width` 1, 2 or 4: `width >> 1` is its
        // log2); the entry under the marker is compared with the marker's slot (1), so a run of
        // ones can reach one past the word's entries. (`diff` holds the marker: it is not 0.)
        let diff = self.word ^ (self.word >> self.width);
        let take = ((diff.trailing_zeros() >> (self.width >> 1)) as usize + 1).min(max);
        let word = self.word >> (take as u32 * self.width);
        if word > 1 {
            self.word = word;
            return (self.base.wrapping_add(e as u8), take);
        }
        // The word's entries all in the run (the marker taken too when `word` is 0): on past it.
        let n = take - usize::from(word == 0);
        let (n, word, table) = run_past_word(self.table, (e, self.width, mask), n, max);
        (self.word, self.table) = (word, table);
        (self.base.wrapping_add(e as u8), n)
    }
}

/// A run of entries `e` that reached the end of a word (`n` of them so far, at most `max`), on
/// through the table's next words entry by entry: `(n, word, table)` after it. Out of line: once
/// per 24 bits of entries at most, and only when a run reaches a word's end.
#[inline(never)]
fn run_past_word(mut table: &[u8], (e, width, mask): (u32, u32, u32), mut n: usize, max: usize) -> (usize, u32, &[u8]) {
    let mut word = 1;
    while n < max {
        if word == 1 {
            (word, table) = refill_widths(table);
        }
        if word & mask != e {
            break;
        }
        word >>= width;
        n += 1;
    }
    (n, word, table)
}

/// The next three bytes of a bit-width table under the marker, and the table after them (out of
/// line: once per 24 bits of entries; by value, so that a kernel keeps its `Widths` in registers).
#[cold]
#[inline(never)]
fn refill_widths(table: &[u8]) -> (u32, &[u8]) {
    match table {
        // Three bytes as one word without a copy loop (`le_u32`'s becomes a `memcpy` call).
        [a, b, c, rest @ ..] => (u32::from_le_bytes([*a, *b, *c, 0]) | WIDTHS_MARK, rest),
        _ => (le_u32(table) | WIDTHS_MARK, &[]),
    }
}

impl<const KEEP_MASK: bool> Iterator for Widths<'_, KEEP_MASK> {
    type Item = u8;
    #[inline(always)]
    fn next(&mut self) -> Option<u8> {
        Some(self.next_width())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prop_assert_eq;

    /// `next_run` walks the same widths as `next_width`, in runs of equal widths cut at `max`,
    /// across refills, at every table width the parser allows.
    #[test]
    fn runs_follow_the_widths_one_by_one() {
        let table: [u8; 13] = [0x11, 0x11, 0x1B, 0xE4, 0x00, 0xFF, 0x0F, 0xF0, 0x55, 0xA5, 0x5A, 0x00, 0x00];
        for width in [0, 1, 2, 4] {
            let new = || Widths::<true> { table: &table, word: 1, width, mask: (1 << width) - 1, base: 2 };
            let want: alloc::vec::Vec<u8> = new().take(90).collect();
            for max in [1, 2, 3, 5, 16, 40] {
                let (mut runs, mut got) = (new(), alloc::vec::Vec::new());
                while got.len() < want.len() {
                    let (b, n) = runs.next_run(max);
                    assert!((1..=max).contains(&n), "width {width} max {max}: run of {n}");
                    got.extend(core::iter::repeat_n(b, n));
                }
                got.truncate(want.len());
                assert_eq!(got, want, "width {width} max {max}");
            }
        }
    }

    /// `next_run` on random tables of every width, cut at random `max`, gives `next_width`'s
    /// widths, both ways.
    #[test]
    fn runs_follow_random_tables() {
        proptest::proptest!(|(table in proptest::collection::vec(0u8..4, 0..40), w in 0usize..3,
                              pick in proptest::collection::vec(1usize..30, 1..40))| {
            // Entries of 0..3 spread over the table bytes by width: long runs are common.
            let width = [1u32, 2, 4][w];
            let table: alloc::vec::Vec<u8> = table.chunks(2).map(|c| (c[0] * 0x55) ^ c.get(1).copied().unwrap_or(0)).collect();
            let new = || Widths::<true> { table: &table, word: 1, width, mask: (1 << width) - 1, base: 1 };
            let want: alloc::vec::Vec<u8> = new().take(400).collect();
            let (mut runs, mut got) = (new(), alloc::vec::Vec::new());
            for max in pick.iter().cycle() {
                if got.len() >= want.len() {
                    break;
                }
                // Both ways, each on its own copy from the same place.
                let (mut other, (b, n)) = (runs.clone(), runs.next_run_by_words(*max));
                prop_assert_eq!(other.next_run_by_entries(*max), (b, n));
                prop_assert_eq!((other.word, other.table.len()), (runs.word, runs.table.len()));
                proptest::prop_assert!((1..=*max).contains(&n));
                got.extend(core::iter::repeat_n(b, n));
            }
            got.truncate(want.len());
            prop_assert_eq!(got, want);
        });
    }

    /// `Widths` yields what `Packed::group_bits` reads, group by group, for every table width the
    /// format allows (and `bits_base` past the table).
    #[test]
    fn widths_match_group_bits() {
        let table: [u8; 11] = core::array::from_fn(|i| ((i as u32).wrapping_mul(2_654_435_761) >> 13) as u8);
        for bits_width in [0u8, 1, 2, 4] {
            let n_groups = if bits_width == 0 { 40 } else { 8 * table.len() / usize::from(bits_width) };
            let table = if bits_width == 0 { &table[..0] } else { &table[..] };
            let p = Packed {
                count: 8 * n_groups as u32,
                layout: crate::format::Layout::Rows,
                group_size: 8,
                bits_base: 3,
                bits_width,
                min: 0.0,
                max: 1.0,
                bits_table: table,
                data: &[],
            };
            let (mut w, mut r) = (Widths::<true>::new(&p), Widths::<false>::new(&p));
            for g in 0..n_groups {
                let want = p.group_bits(g);
                assert_eq!((w.next_width(), r.next_width()), (want, want), "table width {bits_width}, group {g}");
            }
            assert_eq!((w.next_width(), r.next_width()), (3, 3), "past the table: bits_base");
        }
    }
}
