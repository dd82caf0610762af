//! The one `unsafe` call of the trainer: `gemm::gemm` (candle's own CPU matrix multiply) on
//! strided views of slices, behind a wrapper that checks every view against its slice.

use gemm::Parallelism;

/// A strided matrix view into a slice: element `(i, j)` is at `offset + i·rs + j·cs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct View {
    pub offset: usize,
    pub rows: usize,
    pub cols: usize,
    pub rs: usize,
    pub cs: usize,
}

impl View {
    /// A row-major block: `rows × cols` starting at row `row0` of a matrix with row stride `rs`
    /// (its columns start at `col0`).
    pub fn rows(row0: usize, rows: usize, col0: usize, cols: usize, rs: usize) -> View {
        View { offset: row0 * rs + col0, rows, cols, rs, cs: 1 }
    }

    /// The transpose of this view (no data moves).
    pub fn t(self) -> View {
        View { rows: self.cols, cols: self.rows, rs: self.cs, cs: self.rs, ..self }
    }

    /// Whether every element lies inside a slice of `len` (an empty view always does).
    fn fits(&self, len: usize) -> bool {
        if self.rows == 0 || self.cols == 0 {
            return true;
        }
        let last = (self.rows - 1)
            .checked_mul(self.rs)
            .and_then(|a| (self.cols - 1).checked_mul(self.cs).and_then(|b| a.checked_add(b)))
            .and_then(|a| a.checked_add(self.offset));
        last.is_some_and(|l| l < len)
    }

    fn strides(&self) -> Option<(isize, isize)> {
        Some((isize::try_from(self.rs).ok()?, isize::try_from(self.cs).ok()?))
    }
}

/// A view that does not fit its slice or shapes that do not chain.
#[derive(Debug, thiserror::Error)]
#[error("matrix views do not fit their slices or do not chain: {0}")]
pub struct ViewError(String);

/// `dst (+)= lhs · rhs` over the views (added to `dst` with `accumulate`, else written), with
/// `threads` threads of rayon's global pool.
pub fn matmul(
    (dst, dv): (&mut [f32], View),
    (lhs, lv): (&[f32], View),
    (rhs, rv): (&[f32], View),
    accumulate: bool,
    threads: usize,
) -> Result<(), ViewError> {
    let shapes_chain = dv.rows == lv.rows && dv.cols == rv.cols && lv.cols == rv.rows;
    let strides = (dv.strides(), lv.strides(), rv.strides());
    let err =
        || ViewError(format!("dst {dv:?} of {}, lhs {lv:?} of {}, rhs {rv:?} of {}", dst.len(), lhs.len(), rhs.len()));
    let (Some((d_rs, d_cs)), Some((l_rs, l_cs)), Some((r_rs, r_cs))) = strides else { return Err(err()) };
    // A destination whose distinct (i, j) could share an element would race between threads.
    let dst_distinct = dv.rows <= 1 || dv.cols <= 1 || (dv.cs >= 1 && dv.rs >= dv.cols * dv.cs);
    if !(shapes_chain && dst_distinct && dv.fits(dst.len()) && lv.fits(lhs.len()) && rv.fits(rhs.len())) {
        return Err(err());
    }
    if dv.rows == 0 || dv.cols == 0 {
        return Ok(());
    }
    if lv.cols == 0 {
        if !accumulate {
            for i in 0..dv.rows {
                for j in 0..dv.cols {
                    if let Some(x) = dst.get_mut(dv.offset + i * dv.rs + j * dv.cs) {
                        *x = 0.0;
                    }
                }
            }
        }
        return Ok(());
    }
    let par = if threads > 1 { Parallelism::Rayon(threads) } else { Parallelism::None };
    // SAFETY: the three views were checked above to lie inside their slices (every index
    // `offset + i·rs + j·cs` with i < rows, j < cols is below the slice's length, computed
    // without overflow), so the offsets stay in bounds and every pointer gemm forms points into
    // its slice; the shapes chain (m × k times k × n into m × n); `dst` is borrowed mutably,
    // so it aliases neither input, and its view maps distinct (i, j) to distinct elements, so
    // the threads gemm splits the output between write disjoint elements. With `accumulate`
    // false gemm does not read `dst` (read_dst = false).
    unsafe {
        gemm::gemm(
            dv.rows,
            dv.cols,
            lv.cols,
            dst.as_mut_ptr().add(dv.offset),
            d_cs,
            d_rs,
            accumulate,
            lhs.as_ptr().add(lv.offset),
            l_cs,
            l_rs,
            rhs.as_ptr().add(rv.offset),
            r_cs,
            r_rs,
            1.0,
            1.0,
            false,
            false,
            false,
            par,
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: &[f32], av: View, b: &[f32], bv: View) -> Vec<f32> {
        let mut out = vec![0f32; av.rows * bv.cols];
        for i in 0..av.rows {
            for j in 0..bv.cols {
                for k in 0..av.cols {
                    out[i * bv.cols + j] += a[av.offset + i * av.rs + k * av.cs] * b[bv.offset + k * bv.rs + j * bv.cs];
                }
            }
        }
        out
    }

    #[test]
    fn strided_views_multiply_like_the_naive_product() {
        let a: Vec<f32> = (0..60).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..80).map(|i| (i as f32 * 0.11).cos()).collect();
        let av = View::rows(1, 4, 2, 5, 10); // 4 × 5 block of a 6 × 10 matrix
        let bv = View::rows(0, 6, 3, 5, 8).t(); // 5 × 6: transpose of a 6 × 5 block
        let want = naive(&a, av, &b, bv);
        for threads in [1, 2] {
            let mut d = vec![1f32; 4 * 6];
            matmul((&mut d, View::rows(0, 4, 0, 6, 6)), (&a, av), (&b, bv), false, threads).unwrap();
            for (x, y) in d.iter().zip(&want) {
                assert!((x - y).abs() < 1e-5, "{x} {y}");
            }
            matmul((&mut d, View::rows(0, 4, 0, 6, 6)), (&a, av), (&b, bv), true, threads).unwrap();
            for (x, y) in d.iter().zip(&want) {
                assert!((x - 2.0 * y).abs() < 1e-5, "{x} {y}");
            }
        }
    }

    #[test]
    fn views_outside_their_slices_are_refused() {
        let a = vec![0f32; 20];
        let mut d = vec![0f32; 16];
        let v = View::rows(0, 4, 0, 4, 4);
        assert!(matmul((&mut d, v), (&a, v), (&a, View::rows(2, 4, 0, 4, 4)), false, 1).is_err());
        assert!(matmul((&mut d, v), (&a, v), (&a, View::rows(0, 3, 0, 4, 4)), false, 1).is_err());
        assert!(matmul((&mut d, v), (&a, v), (&a, v), false, 1).is_ok());
        let overlapping = View { rs: 2, ..v };
        assert!(matmul((&mut d, overlapping), (&a, v), (&a, v), false, 1).is_err());
    }
}
