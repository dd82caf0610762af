//! The same operations in portable Rust (built everywhere, for the tests).

/// [`crate::smlad`].
#[inline(always)]
pub fn smlad(a: u32, b: u32, acc: i32) -> i32 {
    let lo = i32::from(a as i16) * i32::from(b as i16);
    let hi = i32::from((a >> 16) as i16) * i32::from((b >> 16) as i16);
    acc.wrapping_add(lo).wrapping_add(hi)
}

/// [`crate::sxtb16`].
#[inline(always)]
pub fn sxtb16(x: u32) -> u32 {
    let lo = u32::from(x as u8 as i8 as i16 as u16);
    let hi = u32::from((x >> 16) as u8 as i8 as i16 as u16);
    lo | (hi << 16)
}

/// [`crate::lane_block_w2_i8`].
#[inline(always)]
pub fn lane_block_w2_i8(xp: &[u32; 16], ab: &[u8; 16]) -> (i32, i32) {
    block::<2>(xp, ab)
}

/// [`crate::lane_block_w3_i8`].
#[inline(always)]
pub fn lane_block_w3_i8(xp: &[u32; 16], ab: &[u8; 24]) -> (i32, i32) {
    block::<3>(xp, ab)
}

/// [`crate::lane_block_w4_i8`].
#[inline(always)]
pub fn lane_block_w4_i8(xp: &[u32; 16], ab: &[u8; 32]) -> (i32, i32) {
    block::<4>(xp, ab)
}

/// [`crate::lane_run_w2_i8`].
#[inline(always)]
pub fn lane_run_w2_i8(xp: &[[u32; 16]], ab: &[u8], acc: (i32, i32)) -> (i32, i32) {
    run::<2>(xp, ab, acc)
}

/// [`crate::lane_run_w3_i8`].
#[inline(always)]
pub fn lane_run_w3_i8(xp: &[[u32; 16]], ab: &[u8], acc: (i32, i32)) -> (i32, i32) {
    run::<3>(xp, ab, acc)
}

/// [`crate::lane_run_w4_i8`].
#[inline(always)]
pub fn lane_run_w4_i8(xp: &[[u32; 16]], ab: &[u8], acc: (i32, i32)) -> (i32, i32) {
    run::<4>(xp, ab, acc)
}

/// `acc` plus the [`block`] sums of `xp`'s blocks that `ab` holds whole (`8·B` bytes each),
/// wrapping.
#[inline(always)]
fn run<const B: usize>(xp: &[[u32; 16]], ab: &[u8], acc: (i32, i32)) -> (i32, i32) {
    xp.iter().zip(ab.chunks_exact(8 * B)).fold(acc, |(sa, sb), (xp, ab)| {
        let (a, b) = block::<B>(xp, ab);
        (sa.wrapping_add(a), sb.wrapping_add(b))
    })
}

/// The block sums at width `B` in portable Rust (`B` = 2, 3 or 4; `xp`: the input pairs, see
/// [`crate::lane_block_w2_i8`]; `ab`: row a's `4·B` bytes, then row b's): each row's
/// `Σ x·level`, wrapping.
#[inline(always)]
fn block<const B: usize>(xp: &[u32; 16], ab: &[u8]) -> (i32, i32) {
    let (l, mask) = (16 / B, ((1u32 << B) - 1) * 0x0001_0001);
    let word = |p: &[u8], j: usize| {
        p.get(4 * j..4 * j + 4).and_then(|w| <[u8; 4]>::try_from(w).ok()).map_or(0, u32::from_le_bytes)
    };
    // The 3-bit spare pair: bit 15 (and 31) of word j is the level's bit j.
    let spare = |p: &[u8]| (0..B).fold(0, |v, j| v | (((word(p, j) >> 15) & 0x0001_0001) << j));
    let (a, b) = ab.split_at(ab.len() / 2);
    let (mut sa, mut sb) = (0i32, 0i32);
    for (k, &xp) in xp.iter().enumerate() {
        let (la, lb) = if k < B * l {
            let s = (k % l) * B;
            ((word(a, k / l) >> s) & mask, (word(b, k / l) >> s) & mask)
        } else {
            (spare(a), spare(b))
        };
        sa = smlad(la, xp, sa);
        sb = smlad(lb, xp, sb);
    }
    (sa, sb)
}
