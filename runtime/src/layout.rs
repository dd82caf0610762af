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
    },
}

impl Layout {
    /// Storage position of row-major value `i` of a `count`-value tensor (`Rows`: `i` itself).
    /// `RowPairs` needs `group_size / 2` to divide `row_len` (the parser checks it; a group may
    /// cover a whole row of each of the pair).
    pub fn position(self, count: usize, group_size: usize, i: usize) -> usize {
        match self {
            Layout::Rows => i,
            Layout::RowPairs { row_len } => {
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
