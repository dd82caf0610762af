//! The integer constants of the version 5 ops other than the weighted-layer block (FORMAT.md,
//! "Integer constants per op"): add, mul and concat multipliers, a fused sigmoid/tanh's
//! pre-activation scale and table, and how many bytes each node's constants take
//! ([`Node::int_block_len`]). Each is decoded by `read` and encoded by `encode` through the same
//! field offsets; [`check_block`] checks a node's whole block.

use super::int_params::{int_linear_len, IntParams, INT_LUT_LEN};
use super::node::{Node, Op};
use crate::bytes::{f32_at, i32_at, slice, u8_at};
use crate::error::{Error, Part};

/// Largest shift `S` of the add, mul and concat constants.
pub const MAX_ELEMENTWISE_SHIFT: u8 = 30;
/// Bound on `|m_a|`, `|m_b|` of add: `2^22` (so `m_a·q_a + m_b·q_b + 2^(S−1)` fits an i32).
pub const MAX_ADD_M: i32 = 1 << 22;
/// Bound on `|m_k|` of concat: `2^23`.
pub const MAX_CONCAT_M: i32 = 1 << 23;
/// Bound on `|m|` of mul: `2^16`.
pub const MAX_MUL_M: i32 = 1 << 16;
/// Bytes of an add block.
pub const ADD_LEN: usize = 12;
/// Bytes of a mul block.
pub const MUL_LEN: usize = 8;
/// Bytes of a fused sigmoid/tanh's tail: the pre-activation scale and the table.
pub const ACT_TAIL_LEN: usize = 4 + INT_LUT_LEN;

// Field offsets (add, mul, concat).
const SHIFT_AT: usize = 0;
const M_AT: usize = 4;

impl Node {
    /// Bytes of this node's integer constants in a blob of format `version` (FORMAT.md).
    pub fn int_block_len(&self, version: u16) -> usize {
        let out = usize::from(self.out_c);
        match self.op {
            Op::Conv1d | Op::Linear | Op::Conv2d => {
                int_linear_len(version, out) + if self.act.has_table() { ACT_TAIL_LEN } else { 0 }
            }
            Op::Gru => 2 * int_linear_len(version, 3 * out),
            Op::Sigmoid | Op::Tanh => INT_LUT_LEN,
            Op::Add => ADD_LEN,
            Op::Mul => MUL_LEN,
            Op::Concat => 4 + 4 * usize::from(self.n_in),
            Op::Relu | Op::AvgPool | Op::MaxPool | Op::Softmax => 0,
        }
    }
}

/// `q = clamp((Σ_k m_k·q_k + 2^(S−1)) >> S, −127, 127)` over the inputs (add: two, concat:
/// each input alone, mul: `m·q_a·q_b`): the shift and the multipliers, in place.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Requant<'a> {
    /// The shift `S`, 1..=30.
    pub shift: u8,
    /// The multipliers, little-endian i32 (add: `m_a`, `m_b`; mul: `m`; concat: one per input).
    pub m: &'a [u8],
}

impl<'a> Requant<'a> {
    /// Decodes the block of an add, mul or concat node with `n_m` multipliers bounded by `bound`.
    pub fn read(block: &'a [u8], n_m: usize, bound: i32, p: Part) -> Result<Self, Error> {
        let shift = u8_at(block, SHIFT_AT, p)?;
        if slice(block, SHIFT_AT + 1, 3, p)?.iter().any(|&b| b != 0) {
            return Err(Error::Reserved(p));
        }
        let m = slice(block, M_AT, 4 * n_m, p)?;
        let q = Requant { shift, m };
        let m_ok = (0..n_m).all(|k| q.m_at(k).unsigned_abs() < bound.unsigned_abs());
        if !(1..=MAX_ELEMENTWISE_SHIFT).contains(&shift) || !m_ok {
            return Err(Error::InvalidField(p));
        }
        Ok(q)
    }

    /// Multiplier `k` (0 past the last).
    pub fn m_at(&self, k: usize) -> i32 {
        i32_at(self.m, 4 * k, Part::Header).unwrap_or(0)
    }

    /// `clamp((acc + 2^(S−1)) >> S, −127, 127)` (arithmetic shift; wrapping on hostile constants).
    pub fn requant(&self, acc: i32) -> i8 {
        let s = u32::from(self.shift.clamp(1, MAX_ELEMENTWISE_SHIFT));
        (acc.wrapping_add(1 << (s - 1)) >> s).clamp(-127, 127) as i8
    }

    /// Appends the block: the shift, three zero bytes, the multipliers.
    #[cfg(feature = "alloc")]
    pub fn encode_into(shift: u8, m: &[i32], out: &mut alloc::vec::Vec<u8>) {
        let mut head = [0u8; M_AT];
        crate::bytes::put(&mut head, SHIFT_AT, [shift]);
        out.extend_from_slice(&head);
        m.iter().for_each(|v| out.extend_from_slice(&v.to_le_bytes()));
    }
}

/// A fused sigmoid/tanh: the scale the weighted result is rounded at, and the table to the
/// node's `out_scale`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ActTail<'a> {
    /// The pre-activation scale (f32 > 0).
    pub pre_scale: f32,
    /// The 256-byte table, indexed by the pre-activation `q` as a byte.
    pub lut: &'a [u8],
}

impl<'a> ActTail<'a> {
    /// Decodes the tail at `at` of a weighted node's block.
    pub fn read(block: &'a [u8], at: usize, p: Part) -> Result<Self, Error> {
        let pre_scale = f32_at(block, at, p)?;
        if !(pre_scale.is_finite() && pre_scale > 0.0) {
            return Err(Error::InvalidField(p));
        }
        Ok(ActTail { pre_scale, lut: slice(block, at + 4, INT_LUT_LEN, p)? })
    }

    /// Appends the tail: the pre-activation scale, then the table.
    #[cfg(feature = "alloc")]
    pub fn encode_into(&self, out: &mut alloc::vec::Vec<u8>) {
        out.extend_from_slice(&self.pre_scale.to_le_bytes());
        out.extend_from_slice(self.lut);
    }
}

/// Checks node `n`'s integer constants `block` (its length is [`Node::int_block_len`]): the
/// weighted-layer blocks' shifts, the fused activation's scale, the multipliers' ranges.
pub fn check_block(n: &Node, block: &[u8], version: u16, p: Part) -> Result<(), Error> {
    let out = usize::from(n.out_c);
    match n.op {
        Op::Conv1d | Op::Linear | Op::Conv2d => {
            IntParams::read(block, out, version, p)?;
            if n.act.has_table() {
                ActTail::read(block, int_linear_len(version, out), p)?;
            }
        }
        Op::Gru => {
            let len = int_linear_len(version, 3 * out);
            IntParams::read(block, 3 * out, version, p)?;
            IntParams::read(block.get(len..).unwrap_or(&[]), 3 * out, version, p)?;
        }
        Op::Add => {
            Requant::read(block, 2, MAX_ADD_M, p)?;
        }
        Op::Mul => {
            Requant::read(block, 1, MAX_MUL_M, p)?;
        }
        Op::Concat => {
            Requant::read(block, usize::from(n.n_in), MAX_CONCAT_M, p)?;
        }
        Op::Sigmoid | Op::Tanh | Op::Relu | Op::AvgPool | Op::MaxPool | Op::Softmax => {}
    }
    Ok(())
}
