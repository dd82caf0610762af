//! A layer's integer-path constants (FORMAT.md, "Integer-path constants"): the fixed-point
//! multipliers and bias constants of a conv1d/linear layer, decoded by [`IntParams::read`] and
//! encoded by `IntParams::encode_into` (feature `alloc`) through the same field offsets; a sigmoid/tanh layer's
//! block is its 256-byte table as is.

use super::layer::Layer;
use super::version::I16_BIAS_VERSION;
use super::weights::Bias;
use crate::bytes::{entry, i32_at, i64_at, u16_at, u32_at};
use crate::error::{Error, Part};
use crate::quant::MAX_BITS;

/// Bytes of a conv1d/linear block before the bias constants: shift, m_min, 15 × m_bits.
pub const INT_LINEAR_FIXED: usize = 68;
/// Integer sigmoid/tanh lookup table.
pub const INT_LUT_LEN: usize = 256;

// Field offsets.
const SHIFT_AT: usize = 0;
const M_MIN_AT: usize = 4;
const M_BITS_AT: usize = 8;
const BIAS_AT: usize = INT_LINEAR_FIXED;
/// Largest fixed-point shift `S`.
const MAX_SHIFT: u32 = 62;

/// Bytes of the integer constants of a conv1d/linear layer with `out` outputs.
pub fn int_linear_len(version: u16, out: usize) -> usize {
    INT_LINEAR_FIXED + if version >= I16_BIAS_VERSION { 2 } else { 8 } * out
}

/// Bytes of a layer's integer constants in a blob of format `version` (its node's
/// [`super::Node::int_block_len`]).
pub fn int_block_len(l: &Layer, version: u16) -> usize {
    l.as_node(0).int_block_len(version)
}

/// Fixed-point constants of one conv1d/linear layer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IntParams<'a> {
    /// The fixed-point shift `S`: `q_y = clamp((acc + 2^(S−1)) >> S, −127, 127)`.
    pub shift: u32,
    /// Multiplies the sum of the input levels: `round(s_x·min/s_y·2^S)`.
    pub m_min: i32,
    /// `m_bits[b − 1]` multiplies the level sums of `b`-bit groups.
    pub m_bits: [i32; MAX_BITS as usize],
    /// The per-output bias constants.
    pub bias: BiasQ<'a>,
}

/// The per-output bias constants `bias_q[n]` of the integer path.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BiasQ<'a> {
    /// Format ≥ 3: `out` little-endian i16 values `c[n]`, `bias_q[n] = c[n]·2^lshift`.
    I16 {
        /// The little-endian i16 values.
        values: &'a [u8],
        /// The shift `L` applied to each.
        lshift: u32,
    },
    /// Formats 1 and 2: `out` little-endian i64 values.
    I64(&'a [u8]),
}

impl BiasQ<'_> {
    /// Number of outputs the constants cover.
    pub fn len(&self) -> usize {
        match self {
            BiasQ::I16 { values, .. } => values.len() / 2,
            BiasQ::I64(v) => v.len() / 8,
        }
    }

    /// Whether there are no constants.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every constant is zero (the constants of a layer without a bias).
    pub fn is_zero(&self) -> bool {
        match self {
            BiasQ::I16 { values, .. } | BiasQ::I64(values) => values.iter().all(|&b| b == 0),
        }
    }

    /// `bias_q[n]` (0 out of range; the kernels check the length first). Out of line: it runs
    /// once per output, and inlined into every kernel copy it cost ~3 KB of RV32 flash.
    #[inline(never)]
    pub fn at(&self, n: usize) -> i64 {
        self.value(n)
    }

    /// `(bias_q[n], bias_q[n + 1])`: the two outputs of a row pair (`(0, 0)` when `n + 1` is out
    /// of range). Inlined: the i16 constants come as one 4-byte read, and the row-pair loop keeps
    /// the shift's set-up out of the loop.
    #[inline(always)]
    pub fn pair_at(&self, n: usize) -> (i64, i64) {
        match *self {
            BiasQ::I16 { values, lshift } => {
                let w = u32_at(values, 2 * n, Part::Header).unwrap_or(0);
                let [a, b] = [w as u16, (w >> 16) as u16].map(|v| i64::from(v as i16).wrapping_shl(lshift));
                (a, b)
            }
            BiasQ::I64(_) => (self.value(n), self.value(n.wrapping_add(1))),
        }
    }

    #[inline(always)]
    fn value(&self, n: usize) -> i64 {
        match *self {
            BiasQ::I16 { values, lshift } => {
                i64::from(u16_at(values, 2 * n, Part::Header).unwrap_or(0) as i16).wrapping_shl(lshift)
            }
            BiasQ::I64(v) => i64_at(v, 8 * n, Part::Header).unwrap_or(0),
        }
    }
}

impl<'a> IntParams<'a> {
    /// Decodes a block of [`int_linear_len`]`(version, out_len)` bytes.
    pub fn read(block: &'a [u8], out_len: usize, version: u16, part: Part) -> Result<Self, Error> {
        let fixed: &[u8; INT_LINEAR_FIXED] = entry(block, 0, part)?;
        let word = u32_at(fixed, SHIFT_AT, part)?;
        // From v3 the bias shift is byte 1 of the shift word; v1/v2 use the whole word.
        let (shift, lshift) = if version >= I16_BIAS_VERSION { (word & 0xFF, word >> 8) } else { (word, 0) };
        if !(1..=MAX_SHIFT).contains(&shift) || lshift > shift {
            // A v1/v2 shift word that is a valid word of the i16 versions: the version is wrong.
            let i16_word = version < I16_BIAS_VERSION && word >> 16 == 0 && (1..=MAX_SHIFT).contains(&(word & 0xFF));
            if i16_word && word >> 8 <= word & 0xFF {
                return Err(Error::VersionMismatch { version, part });
            }
            return Err(Error::InvalidField(part));
        }
        let mut m_bits = [0i32; MAX_BITS as usize];
        for (i, m) in m_bits.iter_mut().enumerate() {
            *m = i32_at(fixed, M_BITS_AT + 4 * i, part)?;
        }
        let values = block.get(BIAS_AT..int_linear_len(version, out_len)).ok_or(Error::OutOfBounds(part))?;
        let bias = if version >= I16_BIAS_VERSION { BiasQ::I16 { values, lshift } } else { BiasQ::I64(values) };
        Ok(IntParams { shift, m_min: i32_at(fixed, M_MIN_AT, part)?, m_bits, bias })
    }

    /// Appends the block: the layout of format ≥ 3 for i16 bias constants, of formats 1 and 2
    /// for i64 ones.
    #[cfg(feature = "alloc")]
    pub fn encode_into(&self, out: &mut alloc::vec::Vec<u8>) {
        use crate::bytes::put;
        let (word, values) = match self.bias {
            BiasQ::I16 { values, lshift } => (self.shift | lshift << 8, values),
            BiasQ::I64(values) => (self.shift, values),
        };
        let mut fixed = [0u8; INT_LINEAR_FIXED];
        put(&mut fixed, SHIFT_AT, word.to_le_bytes());
        put(&mut fixed, M_MIN_AT, self.m_min.to_le_bytes());
        for (i, m) in self.m_bits.iter().enumerate() {
            put(&mut fixed, M_BITS_AT + 4 * i, m.to_le_bytes());
        }
        out.extend_from_slice(&fixed);
        out.extend_from_slice(values);
    }

    /// The biases as the f32 path reads them from a v4 blob: `c[n]·2^(L−S)·out_scale`
    /// (`None` for the i64 constants of v1/v2, whose blobs keep bias tensors).
    pub fn f32_bias(&self, out_scale: f32) -> Option<Bias<'a>> {
        match self.bias {
            // 2^(L−S) is exact in f32: 0 ≤ L ≤ S ≤ 62.
            BiasQ::I16 { values, lshift } => {
                let e = lshift as i32 - self.shift as i32;
                let pow2 = f32::from_bits(((127 + e).clamp(1, 254) as u32) << 23);
                Some(Bias::ScaledI16 { data: values, scale: out_scale * pow2 })
            }
            BiasQ::I64(_) => None,
        }
    }

    /// `bias_q[n]`.
    #[inline]
    pub(crate) fn bias_at(&self, n: usize) -> i64 {
        self.bias.at(n)
    }

    /// The multiplier of `bits`-bit level sums (0 outside 1..=15).
    #[inline]
    pub(crate) fn m(&self, bits: u8) -> i64 {
        i64::from(self.m32(bits))
    }

    /// [`IntParams::m`] as stored (an i32): a product with an i32 sum is one 32×32→64 multiply.
    #[inline]
    pub(crate) fn m32(&self, bits: u8) -> i32 {
        self.m_bits.get(usize::from(bits).wrapping_sub(1)).copied().unwrap_or(0)
    }

    /// The formula's minimum term `m_min·Σq` for the input sum `Σq` (an i32 sum: one 32×32→64
    /// multiply).
    #[inline]
    pub(crate) fn min_term(&self, sum_q: i64) -> i64 {
        i64::from(self.m_min).wrapping_mul(sum_q)
    }

    /// `clamp(round(acc / 2^shift), −127, 127)`.
    #[inline]
    pub(crate) fn requant(&self, acc: i64) -> i8 {
        // Wrapping: hostile constants must not trap; valid blobs stay far below 2^63.
        let s = self.shift.clamp(1, MAX_SHIFT);
        let r = acc.wrapping_add(1i64 << (s - 1)) >> s;
        r.clamp(-127, 127) as i8
    }
}
