//! Pooling: over the last `w` frames (time) and over a frame's second axis (global average).
//!
//! Time pooling reads its window as taps, the convention of the conv kernels: `taps[j]` is the
//! frame of `w − 1 − j` steps ago, `None` before the stream start, which counts as a frame of
//! zeros (for max pooling too, as for a conv's left padding). The caller keeps the last `w − 1`
//! frames as it does a conv's history. Pooling keeps the scale: the int8 versions need no
//! constants.

use crate::error::Error;

/// Checks `1..` taps of `out.len()` values each.
fn check_taps<T>(taps: &[Option<&[T]>], len: usize) -> Result<(), Error> {
    if !taps.is_empty() && taps.iter().flatten().all(|t| t.len() == len) {
        Ok(())
    } else {
        Err(Error::KernelShape)
    }
}

/// `out[c] = (Σ_j taps[j][c]) / w`, `w = taps.len()` (summed in tap order, one f32 division).
pub fn avg_pool_f32(taps: &[Option<&[f32]>], out: &mut [f32]) -> Result<(), Error> {
    check_taps(taps, out.len())?;
    out.fill(0.0);
    for t in taps.iter().flatten() {
        for (o, x) in out.iter_mut().zip(t.iter()) {
            *o += *x;
        }
    }
    let w = taps.len() as f32;
    out.iter_mut().for_each(|o| *o /= w);
    Ok(())
}

/// `out[c] = max_j taps[j][c]` (a `None` tap is zeros).
pub fn max_pool_f32(taps: &[Option<&[f32]>], out: &mut [f32]) -> Result<(), Error> {
    check_taps(taps, out.len())?;
    let first = taps.first().copied().flatten();
    for (c, o) in out.iter_mut().enumerate() {
        *o = first.and_then(|t| t.get(c)).copied().unwrap_or(0.0);
    }
    for t in taps.iter().skip(1) {
        for (c, o) in out.iter_mut().enumerate() {
            *o = o.max(t.and_then(|t| t.get(c)).copied().unwrap_or(0.0));
        }
    }
    Ok(())
}

/// `round(s / n)`, halves away from zero (`n ≥ 1`).
#[inline]
fn div_round(s: i32, n: i32) -> i32 {
    let q = (s.unsigned_abs() + n.unsigned_abs() / 2) / n.unsigned_abs();
    if s < 0 {
        -(q as i32)
    } else {
        q as i32
    }
}

/// Integer [`avg_pool_f32`]: `out[c] = round(Σ_j taps[j][c] / w)`, halves away from zero,
/// clamped to −127..=127.
pub fn avg_pool_i8(taps: &[Option<&[i8]>], out: &mut [i8]) -> Result<(), Error> {
    check_taps(taps, out.len())?;
    let w = i32::try_from(taps.len()).map_err(|_| Error::KernelShape)?;
    for (c, o) in out.iter_mut().enumerate() {
        let s: i32 = taps.iter().flatten().map(|t| t.get(c).map_or(0, |&v| i32::from(v))).sum();
        *o = div_round(s, w).clamp(-127, 127) as i8;
    }
    Ok(())
}

/// Integer [`max_pool_f32`].
pub fn max_pool_i8(taps: &[Option<&[i8]>], out: &mut [i8]) -> Result<(), Error> {
    check_taps(taps, out.len())?;
    for (c, o) in out.iter_mut().enumerate() {
        *o = taps.iter().map(|t| t.and_then(|t| t.get(c)).copied().unwrap_or(0)).max().unwrap_or(0);
    }
    Ok(())
}

/// Global average: `x` is `[out.len()][n]`, `out[r]` the mean of row `r` (summed in order,
/// one f32 division).
pub fn global_avg_f32(x: &[f32], out: &mut [f32]) -> Result<(), Error> {
    let n = row_len(x.len(), out.len())?;
    for (o, row) in out.iter_mut().zip(x.chunks_exact(n)) {
        *o = row.iter().sum::<f32>() / n as f32;
    }
    Ok(())
}

/// Integer [`global_avg_f32`]: rounded halves away from zero.
pub fn global_avg_i8(x: &[i8], out: &mut [i8]) -> Result<(), Error> {
    let n = row_len(x.len(), out.len())?;
    let nn = i32::try_from(n).map_err(|_| Error::KernelShape)?;
    if nn > (1 << 23) {
        return Err(Error::KernelShape); // the row sum must fit i32
    }
    for (o, row) in out.iter_mut().zip(x.chunks_exact(n)) {
        let s: i32 = row.iter().map(|&v| i32::from(v)).sum();
        *o = div_round(s, nn).clamp(-127, 127) as i8;
    }
    Ok(())
}

/// The length of each of `rows` rows in `len` values (`Error::KernelShape` unless whole, ≥ 1).
fn row_len(len: usize, rows: usize) -> Result<usize, Error> {
    if rows == 0 || len == 0 || len % rows != 0 {
        return Err(Error::KernelShape);
    }
    Ok(len / rows)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::kernels::test_util::Rng;
    use std::vec::Vec;

    fn taps_of<T>(v: &[Option<Vec<T>>]) -> Vec<Option<&[T]>> {
        v.iter().map(|t| t.as_deref()).collect()
    }

    #[test]
    fn time_pooling_matches_f64() {
        let mut rng = Rng::new(91);
        for (w, c, none) in [(1, 5, false), (3, 7, true), (4, 16, false), (8, 3, true)] {
            let xf: Vec<Option<Vec<f32>>> = (0..w).map(|j| (!none || j > 0).then(|| rng.f32s(c, 3.0))).collect();
            let (mut avg, mut mx) = (std::vec![0.0f32; c], std::vec![0.0f32; c]);
            avg_pool_f32(&taps_of(&xf), &mut avg).unwrap();
            max_pool_f32(&taps_of(&xf), &mut mx).unwrap();
            let xi: Vec<Option<Vec<i8>>> = (0..w).map(|j| (!none || j > 0).then(|| rng.i8s(c))).collect();
            let (mut ai, mut mi) = (std::vec![0i8; c], std::vec![0i8; c]);
            avg_pool_i8(&taps_of(&xi), &mut ai).unwrap();
            max_pool_i8(&taps_of(&xi), &mut mi).unwrap();
            for k in 0..c {
                let col = |v: &[Option<Vec<f32>>]| -> Vec<f64> {
                    v.iter().map(|t| t.as_ref().map_or(0.0, |t| f64::from(t[k]))).collect()
                };
                let vals = col(&xf);
                let mean = vals.iter().sum::<f64>() / w as f64;
                assert!((f64::from(avg[k]) - mean).abs() < 1e-6, "avg {} vs {mean}", avg[k]);
                assert_eq!(f64::from(mx[k]), vals.iter().fold(f64::MIN, |a, b| a.max(*b)));
                let qs: Vec<i64> = xi.iter().map(|t| t.as_ref().map_or(0, |t| i64::from(t[k]))).collect();
                let exact = qs.iter().sum::<i64>() as f64 / w as f64;
                let want = (exact.abs() + 0.5).floor().copysign(exact);
                assert_eq!(f64::from(ai[k]), want, "i8 avg of {qs:?}");
                assert_eq!(i64::from(mi[k]), *qs.iter().max().unwrap());
            }
        }
    }

    #[test]
    fn halves_round_away_from_zero() {
        let (a, b) = ([3i8, -3, 1, -1], [4i8, -4, 0, 0]);
        let mut out = [0i8; 4];
        avg_pool_i8(&[Some(&a[..]), Some(&b[..])], &mut out).unwrap();
        assert_eq!(out, [4, -4, 1, -1]);
        global_avg_i8(&[1, 2, -1, -2, 5, 0], &mut out[..3]).unwrap();
        assert_eq!(out[..3], [2, -2, 3]);
    }

    #[test]
    fn global_average_matches_f64() {
        let mut rng = Rng::new(92);
        let x = rng.f32s(6 * 9, 2.0);
        let mut out = [0.0f32; 6];
        global_avg_f32(&x, &mut out).unwrap();
        for (r, o) in out.iter().enumerate() {
            let m = x[r * 9..(r + 1) * 9].iter().map(|&v| f64::from(v)).sum::<f64>() / 9.0;
            assert!((f64::from(*o) - m).abs() < 1e-6);
        }
    }

    #[test]
    fn bad_lengths_are_kernel_shape_errors() {
        let (a, b) = ([1.0f32; 4], [1.0f32; 3]);
        let mut out = [0.0f32; 4];
        assert_eq!(avg_pool_f32(&[Some(&a[..]), Some(&b[..])], &mut out), Err(Error::KernelShape));
        assert_eq!(max_pool_f32(&[], &mut out), Err(Error::KernelShape));
        assert_eq!(global_avg_f32(&a[..3], &mut out[..2]), Err(Error::KernelShape));
        assert_eq!(global_avg_i8(&[1, 2, 3], &mut [0i8; 0]), Err(Error::KernelShape));
        assert_eq!(avg_pool_i8(&[Some(&[1i8, 2][..])], &mut [0i8; 3]), Err(Error::KernelShape));
    }
}
