//! Storage order of a packed tensor (FORMAT.md, "Storage order"): the one map from a weight's
//! row and column to its place in the blob, used by the writer, the trainer and the tests.

/// In what order a packed tensor's values are stored (FORMAT.md, "Packed tensors").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Layout {
    /// Row-major: group `g` is values `[g·group_size, (g+1)·group_size)`.
    Rows,
    /// Rows `2p` and `2p+1` interleaved by segments of `group_size / 2` values, so one group (one
    /// bit width) covers the same inputs of two output rows and a kernel computes both rows with
    /// one pass over the inputs. A last, odd row is stored row-major.
    RowPairs {
        /// Values per output row.
        row_len: u16,
        /// Each row's segment stored as lane-pair blocks ([`lane_bit`]; FORMAT.md layout 2) for
        /// dual 16-bit multiply-accumulates, instead of one LSB-first stream (layout 1). The
        /// groups, their widths and their sizes are the same either way.
        lanes: bool,
    },
}

impl Layout {
    /// Storage position of row-major value `i` of a `count`-value tensor (`Rows`: `i` itself).
    /// `RowPairs` needs `group_size / 2` to divide `row_len` (the parser checks it; a group may
    /// cover a whole row of each of the pair).
    pub fn position(self, count: usize, group_size: usize, i: usize) -> usize {
        match self {
            Layout::Rows => i,
            Layout::RowPairs { row_len, .. } => {
                let (len, seg) = (usize::from(row_len).max(1), (group_size / 2).max(1));
                let (rows, r, c) = (count / len, i / len, i % len);
                if r + 1 == rows && rows % 2 == 1 {
                    return i; // the lone last row is stored row-major, after all the pairs
                }
                (r / 2) * 2 * len + (c / seg) * 2 * seg + (r % 2) * seg + c % seg
            }
        }
    }

    /// The inputs of one row that a group of `group_size` values covers: the whole group in
    /// [`Layout::Rows`], half of it (a segment of each of two rows) in [`Layout::RowPairs`]. A
    /// row's inputs (each tap's) must be whole multiples of it.
    pub fn group_inputs(self, group_size: usize) -> usize {
        match self {
            Layout::Rows => group_size,
            Layout::RowPairs { .. } => group_size / 2,
        }
    }

    /// Where each row-major value is stored: `out[i] = position(count, group_size, i)`.
    #[cfg(feature = "alloc")]
    pub fn storage_order(self, count: usize, group_size: usize) -> alloc::vec::Vec<usize> {
        (0..count).map(|i| self.position(count, group_size, i)).collect()
    }
}

/// Columns per lane-pair block: 16 lane pairs, each two columns.
pub const LANE_BLOCK: usize = 32;

/// The widths whose lane-pair groups the Armv7E-M integer path runs as assembly loops, a run of
/// one width at a time (`diffq-simd32`'s `lane_run_w2_i8` … `lane_run_w4_i8`); the writer keeps
/// a lane-pair tensor of one of these widths as lane pairs.
#[cfg_attr(not(feature = "alloc"), allow(dead_code))]
pub(crate) const LANE_RUN_BITS: core::ops::RangeInclusive<u8> = 2..=4;

/// Where bit `i` of lane pair `k`'s level in lane `h` (0: low, 1: high) lies in a `b`-bit
/// lane-pair block (FORMAT.md, layout 2): `(word, bit)`, the block being `b` little-endian
/// 32-bit words. `b` in 1..=15, `k < 16`, `i < b`.
pub const fn lane_bit(b: u32, k: u32, h: u32, i: u32) -> (u32, u32) {
    let b = if b == 0 || b > 16 { 16 } else { b }; // (out of range: no division by zero)
    let l = 16 / b; // levels per lane in the regular slots, ≥ 1
    if k < b * l {
        return (k / l, 16 * h + (k % l) * b + i);
    }
    // The spare stream: bits [b·l, 16) of each lane of words 0, 1, …, b − 1.
    let (spare, at) = (16 - b * l, (k - b * l) * b + i);
    let spare = if spare == 0 { 1 } else { spare };
    (at / spare, 16 * h + b * l + at % spare)
}

/// The column (0..32) of a lane-pair block that pair `k`, lane `h` holds: `SXTB16` of inputs
/// `4q..4q+4` gives the pairs `(4q, 4q+2)` and `(4q+1, 4q+3)`.
pub const fn lane_column(k: usize, h: usize) -> usize {
    4 * (k / 2) + 2 * h + k % 2
}

/// The pair and lane (`(k, h)`) of column `c` (0..32) of a lane-pair block ([`lane_column`]'s
/// inverse).
pub const fn lane_of_column(c: usize) -> (usize, usize) {
    (2 * (c / 4) + c % 2, (c % 4) / 2)
}

/// The level of column `c` (0..32) of a `b`-bit lane-pair block, by [`lane_bit`]'s map (0 where
/// the block is short): one field of one word in the regular slots, bit by bit along the spare
/// stream. Out of line: the any-width bodies' one copy.
#[inline(never)]
pub fn lane_level(block: &[u8], b: u8, c: usize) -> u16 {
    let (k, h) = lane_of_column(c);
    let (b, k, lane) = (u32::from(b.clamp(1, 15)), k as u32, 16 * h as u32);
    let word = |j: u32| {
        let at = 4 * j as usize;
        block.get(at..at + 4).and_then(|w| <[u8; 4]>::try_from(w).ok()).map_or(0, u32::from_le_bytes)
    };
    let l = 16 / b;
    if k < b * l {
        return ((word(k / l) >> (lane + (k % l) * b)) & ((1 << b) - 1)) as u16;
    }
    let spare = (16 - b * l).max(1);
    let at = (k - b * l) * b;
    let (mut j, mut pos, mut v) = (at / spare, at % spare, 0u16);
    for i in 0..b {
        v |= (((word(j) >> ((lane + b * l + pos) % 32)) & 1) as u16) << i;
        pos += 1;
        if pos == spare {
            (j, pos) = (j + 1, 0);
        }
    }
    v
}

/// Stores `levels` (whole 32-column blocks, one after another) as `b`-bit lane-pair blocks in
/// `out` (zeroed first; exactly `levels.len()·b/8` bytes): a pair group's bytes, row `a`'s
/// segment then row `b`'s. `None` when the lengths disagree or a level does not fit in `b` bits.
#[cfg_attr(not(feature = "alloc"), allow(dead_code))]
pub(crate) fn pack_lane_blocks(levels: &[u16], b: u8, out: &mut [u8]) -> Option<usize> {
    let block = 4 * usize::from(b.max(1));
    if levels.len() % LANE_BLOCK != 0 || out.len() != levels.len() / LANE_BLOCK * block {
        return None;
    }
    out.fill(0);
    for (ls, bytes) in levels.chunks_exact(LANE_BLOCK).zip(out.chunks_exact_mut(block)) {
        for (c, &l) in ls.iter().enumerate() {
            if u32::from(l) >> b != 0 {
                return None;
            }
            put_lane_level(bytes, b, c, l);
        }
    }
    Some(out.len())
}

/// Writes `level` (its low `b` bits) as column `c` of a `b`-bit lane-pair block.
#[cfg_attr(not(feature = "alloc"), allow(dead_code))]
pub(crate) fn put_lane_level(block: &mut [u8], b: u8, c: usize, level: u16) {
    let (k, h) = lane_of_column(c);
    for i in 0..u32::from(b) {
        let (w, bit) = lane_bit(u32::from(b), k as u32, h as u32, i);
        if let Some(byte) = block.get_mut(4 * w as usize + bit as usize / 8) {
            *byte |= (((level >> i) & 1) as u8) << (bit % 8);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every bit of a block is used exactly once, for every width: the layout costs exactly
    /// `b` bits per level.
    #[test]
    fn lane_bits_tile_each_block() {
        for b in 1..=15u32 {
            let mut seen = [0u8; 15 * 32];
            for k in 0..16 {
                for h in 0..2 {
                    for i in 0..b {
                        let (w, bit) = lane_bit(b, k, h, i);
                        assert!(w < b && bit < 32, "b={b} k={k} h={h} i={i}: {w}/{bit}");
                        assert_eq!(bit / 16, h, "b={b} k={k}: lane");
                        seen[(32 * w + bit) as usize] += 1;
                    }
                }
            }
            assert!(seen[..(32 * b) as usize].iter().all(|&n| n == 1), "b={b}");
        }
    }

    #[test]
    fn lane_levels_round_trip() {
        for b in 1..=15u8 {
            let mut block = [0u8; 60];
            let level = |c: usize| ((c * 7919 + usize::from(b)) % (1 << b)) as u16;
            for c in 0..LANE_BLOCK {
                put_lane_level(&mut block, b, c, level(c));
            }
            for c in 0..LANE_BLOCK {
                assert_eq!(lane_level(&block, b, c), level(c), "b={b} c={c}");
                assert_eq!(lane_of_column(lane_column(lane_of_column(c).0, lane_of_column(c).1)), lane_of_column(c));
            }
        }
    }
}
