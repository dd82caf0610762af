//! Field-aware blob edits for the `blob_fields` mutator: one field of the header, of the front
//! end (version 5), of a tensor, layer or node entry, of the operand list (version 5), or of a
//! layer's or node's integer constants (FORMAT.md), set to a value near its limits.

use runtime::format::{
    FRONT_END_LEN, GRAPH_VERSION, HEADER_LEN, INT_LINEAR_FIXED, LAYER_ENTRY_LEN, NODE_ENTRY_LEN, TENSOR_ENTRY_LEN,
};

/// (offset, bytes) of the header fields, the CRC and `total_len` left out (rewritten after).
const HEADER: &[(usize, usize)] = &[
    (4, 2),
    (6, 2),
    (16, 2),
    (18, 2),
    (20, 2),
    (22, 2),
    (24, 4),
    (28, 4),
    (32, 4),
    (36, 4),
    (40, 4),
    (44, 4),
    (48, 4),
    (52, 2),
    (54, 2),
];
/// (offset, bytes) of the front-end record's fields (version 5).
const FRONT_END: &[(usize, usize)] = &[(0, 2), (2, 2), (4, 2), (6, 2), (8, 1), (9, 1), (10, 2), (12, 1), (14, 2)];
/// (offset, bytes) of a node-table entry's fields (version 5).
const NODE: &[(usize, usize)] = &[
    (0, 1),
    (1, 1),
    (2, 1),
    (4, 2),
    (6, 2),
    (8, 2),
    (10, 2),
    (12, 2),
    (14, 2),
    (16, 2),
    (18, 1),
    (19, 1),
    (20, 2),
    (22, 2),
    (24, 1),
    (25, 1),
    (28, 4),
    (32, 4),
    (36, 4),
];
/// (offset, bytes) of a tensor-table entry's fields.
const TENSOR: &[(usize, usize)] =
    &[(0, 1), (1, 1), (2, 1), (3, 1), (4, 2), (6, 2), (8, 4), (12, 4), (16, 4), (20, 4), (24, 4), (28, 4)];
/// (offset, bytes) of a layer-table entry's fields.
const LAYER: &[(usize, usize)] = &[(0, 1), (2, 2), (4, 2), (6, 2), (8, 2), (10, 1), (12, 2), (14, 2), (16, 4), (20, 4)];

/// A small xorshift generator seeded by libFuzzer.
pub struct Rng(u32);

impl Rng {
    pub fn new(seed: u32) -> Rng {
        Rng(seed | 1)
    }

    pub fn next(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        x
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        self.next() as usize % n
    }
}

fn get(b: &[u8], at: usize, len: usize) -> Option<u64> {
    let s = b.get(at..at + len)?;
    Some(s.iter().rev().fold(0u64, |v, &x| v << 8 | u64::from(x)))
}

fn set(b: &mut [u8], at: usize, len: usize, v: u64) {
    if let Some(s) = b.get_mut(at..at + len) {
        s.copy_from_slice(&v.to_le_bytes()[..len]);
    }
}

/// A value for a field of `len` bytes now holding `old`: a limit, a neighbour, a power of two,
/// one bit flipped, another field's value, or random.
fn value(old: u64, len: usize, other: u64, rng: &mut Rng) -> u64 {
    let max = if len >= 8 { u64::MAX } else { (1u64 << (8 * len)) - 1 };
    let v = match rng.below(9) {
        0 => 0,
        1 => max,
        2 => old.wrapping_add(1),
        3 => old.wrapping_sub(1),
        4 => 1u64 << rng.below(8 * len),
        5 => old ^ 1u64 << rng.below(8 * len),
        6 => other,
        7 => {
            [1, 2, 3, 4, 5, 8, 15, 16, 62, 63, 64, 127, 128, 255, 256, 1024, 1025, 4096, 0x7FFF, 0x8000][rng.below(20)]
        }
        _ => u64::from(rng.next()) | u64::from(rng.next()) << 32,
    };
    v & max
}

/// Where the integer constants of the entry at `entry_at` start (0 when it is out of the blob).
fn int_offset(b: &[u8], entry_at: usize, graph: bool) -> usize {
    get(b, entry_at + if graph { 32 } else { 20 }, 4).unwrap_or(0) as usize
}

/// Rewrites one field of `b` (a blob laid out as FORMAT.md says; anything else is left alone
/// where a field falls outside it).
pub fn edit(b: &mut [u8], rng: &mut Rng) {
    let graph = get(b, 4, 2).is_some_and(|v| v >= u64::from(GRAPH_VERSION));
    let n_tensors = get(b, 16, 2).unwrap_or(0) as usize;
    let n_nodes = get(b, 18, 2).unwrap_or(0) as usize;
    let n_operands = if graph { get(b, 52, 2).unwrap_or(0) as usize } else { 0 };
    let tensor_table = HEADER_LEN + if graph { FRONT_END_LEN } else { 0 };
    let (fields, entry_len) = if graph { (NODE, NODE_ENTRY_LEN) } else { (LAYER, LAYER_ENTRY_LEN) };
    let node_table = tensor_table + n_tensors * TENSOR_ENTRY_LEN;
    let (at, len) = match rng.below(6) {
        0 => HEADER[rng.below(HEADER.len())],
        1 if n_tensors > 0 => {
            let (o, l) = TENSOR[rng.below(TENSOR.len())];
            (tensor_table + rng.below(n_tensors) * TENSOR_ENTRY_LEN + o, l)
        }
        2 if n_nodes > 0 => {
            let (o, l) = fields[rng.below(fields.len())];
            (node_table + rng.below(n_nodes) * entry_len + o, l)
        }
        3 if graph => {
            let (o, l) = FRONT_END[rng.below(FRONT_END.len())];
            (HEADER_LEN + o, l)
        }
        4 if n_operands > 0 => (node_table + n_nodes * entry_len + 2 * rng.below(n_operands), 2),
        _ if n_nodes > 0 => {
            // Shift byte, bias shift, m_min, an m_bits entry, or an early bias constant.
            let base = int_offset(b, node_table + rng.below(n_nodes) * entry_len, graph);
            let (o, l) = match rng.below(5) {
                0 => (0, 1),
                1 => (1, 1),
                2 => (4, 4),
                3 => (8 + 4 * rng.below(15), 4),
                _ => (INT_LINEAR_FIXED + 2 * rng.below(8), 2),
            };
            (base + o, l)
        }
        _ => HEADER[rng.below(HEADER.len())],
    };
    let Some(old) = get(b, at, len) else { return };
    // "Another field's value": the same field of a random other place (an offset, a count).
    let other = get(b, rng.below(b.len().max(1)) & !3, len).unwrap_or(0);
    set(b, at, len, value(old, len, other, rng));
}
