//! A packed tensor as the kernels read it (FORMAT.md, "Packed tensors"): the levels and the
//! bit-width table in place, and the one rule for how wide that table's entries are.

use crate::layout::Layout;

/// Largest group size of a packed tensor.
pub const MAX_GROUP: u16 = 4096;

/// Bits per entry of the bit-width table for a tensor whose groups have the widths
/// `group_bits`: 0 when they are all equal (no table: the fixed-bit fast path), else the
/// smallest of 1, 2, 4 that holds `max − min`.
pub fn bits_width_for(group_bits: &[u8]) -> u8 {
    let lo = group_bits.iter().copied().min().unwrap_or(0);
    let hi = group_bits.iter().copied().max().unwrap_or(0);
    match hi.saturating_sub(lo) {
        0 => 0,
        1 => 1,
        2 | 3 => 2,
        _ => 4,
    }
}

/// Bytes of the bit-width table of `n_groups` groups at `bits_width` bits per entry.
pub fn bits_table_len(n_groups: usize, bits_width: u8) -> usize {
    n_groups.saturating_mul(usize::from(bits_width)).div_ceil(8)
}

/// A DiffQ-packed tensor: variable-bit levels, one bit width per group.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Packed<'a> {
    /// Number of values.
    pub count: u32,
    /// Storage order of the values.
    pub layout: Layout,
    /// Values per group (one bit width each).
    pub group_size: u16,
    /// The smallest bit width, 1..=15: a group's width is `bits_base` plus its table entry.
    pub bits_base: u8,
    /// Bits per entry of the bit-width table; 0 = every group has `bits_base` bits.
    pub bits_width: u8,
    /// The value of level 0.
    pub min: f32,
    /// The value of the top level of every width.
    pub max: f32,
    /// The bit-width table: one `bits_width`-bit entry per group (empty when `bits_width` is 0).
    pub bits_table: &'a [u8],
    /// The packed levels, group after group.
    pub data: &'a [u8],
}

impl Packed<'_> {
    /// Number of groups.
    pub fn n_groups(&self) -> usize {
        self.count as usize / usize::from(self.group_size.max(1))
    }

    /// Bit width of group `g` (`bits_base` if `g` is past the table, which validation rules out).
    #[inline]
    pub fn group_bits(&self, g: usize) -> u8 {
        if self.bits_width == 0 {
            return self.bits_base;
        }
        let w = usize::from(self.bits_width);
        let bit = g * w;
        let byte = self.bits_table.get(bit / 8).copied().unwrap_or(0);
        let e = (byte >> (bit % 8)) & ((1u16 << w) - 1) as u8;
        self.bits_base + e
    }

    /// Bit widths of the groups in order, decoded a table byte at a time (the kernels' walk).
    pub fn bits_iter(&self) -> GroupBits<'_> {
        GroupBits { table: self.bits_table, base: self.bits_base, width: self.bits_width, byte: 0, left: 0 }
    }

    /// The fixed bit width if every group shares it (the fast path).
    pub fn fixed_bits(&self) -> Option<u8> {
        (self.bits_width == 0).then_some(self.bits_base)
    }
}

/// Iterator over group bit widths; never ends (past the table it yields `bits_base`), the
/// kernels bound the walk by the packed data instead.
#[derive(Debug, Clone)]
pub struct GroupBits<'a> {
    table: &'a [u8],
    base: u8,
    width: u8,
    byte: u8,
    left: u8,
}

impl Iterator for GroupBits<'_> {
    type Item = u8;
    #[inline(always)]
    fn next(&mut self) -> Option<u8> {
        if self.width == 0 {
            return Some(self.base);
        }
        if self.left == 0 {
            let (first, rest) = self.table.split_first().unwrap_or((&0, &[]));
            self.byte = *first;
            self.table = rest;
            self.left = 8 / self.width;
        }
        let e = self.byte & ((1u8 << self.width) - 1);
        self.byte >>= self.width;
        self.left -= 1;
        Some(self.base + e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_widths() {
        assert_eq!(bits_width_for(&[3, 3, 3]), 0);
        assert_eq!(bits_width_for(&[3, 4]), 1);
        assert_eq!(bits_width_for(&[2, 5]), 2);
        assert_eq!(bits_width_for(&[1, 15]), 4);
        assert_eq!(bits_width_for(&[]), 0);
        assert_eq!(bits_table_len(5, 2), 2);
        assert_eq!(bits_table_len(5, 0), 0);
        assert_eq!(bits_table_len(16, 4), 8);
    }
}
