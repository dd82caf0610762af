//! A measurement, not a kernel for the runtime: how fast can a mixed-bit integer row go when
//! the per-group cost is taken out of the inner loop? Per row it keeps one i32 sum per bit
//! width (`Σ_g m(b_g)·A_g = Σ_b m(b)·Σ_{g: b_g = b} A_g`, exact in integers) and multiplies by
//! the i64 constants once per row, and unpacks 2/3/4-bit groups from whole words. Its output
//! is checked against `Model::step_i8` (must be identical) before it is timed.

use runtime::format::Packed;
use runtime::kernels::IntParams;

/// `Σ x_i·level_i` over one 16-level group of `B` bits (`2·B` bytes).
#[inline(always)]
fn dot16<const B: usize>(x: &[i8], p: &[u8]) -> i32 {
    let mask = (1u32 << B) - 1;
    let mut acc = 0i32;
    // Two runs of 8 levels, each `B` bytes (≤ 32 bits) read as one word.
    for (xs, ps) in x.chunks_exact(8).zip(p.chunks_exact(B)) {
        let mut w = 0u32;
        for (i, b) in ps.iter().enumerate() {
            w |= u32::from(*b) << (8 * i);
        }
        for (j, xv) in xs.iter().enumerate() {
            acc += i32::from(*xv) * ((w >> (B * j)) & mask) as i32;
        }
    }
    acc
}

fn le_i64(b: &[u8], n: usize) -> i64 {
    b.get(8 * n..8 * n + 8)
        .and_then(|s| <[u8; 8]>::try_from(s).ok())
        .map_or(0, i64::from_le_bytes)
}

/// One linear layer (single tap, group size 16, widths 2..=4). `None` if the layer is outside
/// what the prototype handles.
pub fn linear_var(p: &Packed<'_>, params: &IntParams<'_>, x: &[i8], out: &mut [i8]) -> Option<()> {
    if p.group_size != 16 || !x.len().is_multiple_of(16) {
        return None;
    }
    let sum_q: i64 = x.iter().map(|&v| i64::from(v)).sum();
    let min_term = i64::from(params.m_min) * sum_q;
    let m = |b: u8| i64::from(params.m_bits.get(usize::from(b) - 1).copied().unwrap_or(0));
    let (m2, m3, m4) = (m(2), m(3), m(4));
    let mut bits = p.bits_iter();
    let mut data = p.data;
    let half = 1i64 << (params.shift - 1);
    for (n, y) in out.iter_mut().enumerate() {
        let (mut a2, mut a3, mut a4) = (0i32, 0i32, 0i32);
        for xg in x.chunks_exact(16) {
            match bits.next()? {
                2 => {
                    a2 += dot16::<2>(xg, data.get(..4)?);
                    data = data.get(4..)?;
                }
                3 => {
                    a3 += dot16::<3>(xg, data.get(..6)?);
                    data = data.get(6..)?;
                }
                4 => {
                    a4 += dot16::<4>(xg, data.get(..8)?);
                    data = data.get(8..)?;
                }
                _ => return None,
            }
        }
        let acc = min_term
            + le_i64(params.bias, n)
            + m2 * i64::from(a2)
            + m3 * i64::from(a3)
            + m4 * i64::from(a4);
        *y = ((acc + half) >> params.shift).clamp(-127, 127) as i8;
    }
    Some(())
}
