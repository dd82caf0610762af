//! The f32 front end's FFTs: a complex FFT of `FRAME/2` points (radix 2, decimation in time,
//! input in bit-reversed order) and the frame's real FFT built on it (the even and odd samples as
//! one complex sequence, then a split pass; [`super::irfft`] runs the inverse on the same
//! transform). Every twiddle is read from the window, which is `sin(πi/F)` (`F` = `FRAME`):
//! `sin(2πm/F) = w[2m]` and `cos(2πm/F) = w[F/2 − 2m]` for `m ≤ F/4`, so the FFTs keep no table
//! of their own, and their loops are rolled (one body per kind of pass, whatever the size).

use super::{Bins, Complex32, FrameSize, Hop};

/// Where point `m` of `n` (a power of two) goes in bit-reversed order.
#[inline(always)]
pub(super) fn bit_reversed(m: usize, n: usize) -> usize {
    m.reverse_bits().checked_shr(usize::BITS - n.trailing_zeros()).unwrap_or(0)
}

/// `(a, b) ← (a + W·b, a − W·b)` for the twiddle `W = c − i·s`.
#[inline(always)]
fn butterfly(a: &mut Complex32, b: &mut Complex32, c: f32, s: f32) {
    let t = Complex32::new(b.re * c + b.im * s, b.im * c - b.re * s);
    (*a, *b) = (*a + t, *a - t);
}

/// `buf ← DFT(buf)` (no scaling) for `buf` in bit-reversed order; the output is in natural
/// order. A first pass without multiplications ([`first_pass`]: one stage or two, so that an
/// even number is left), then the stages two at a time ([`dit_stage_pair`]).
pub(super) fn dit<Z: FrameSize>(buf: &mut Hop<Z, Complex32>) {
    let x = buf.as_mut();
    if first_pass::<Z>() == 4 {
        for quad in x.chunks_exact_mut(4) {
            if let [a, b, c, d] = quad {
                (*a, *b, *c, *d) = dft4(*a, *b, *c, *d);
            }
        }
    } else {
        for group in x.chunks_exact_mut(8) {
            if let Ok(g) = <&mut [Complex32; 8]>::try_from(group) {
                *g = dft8(*g);
            }
        }
    }
    dit_passes::<Z>(x);
}

/// The points of [`dit`]'s first pass, whose twiddles need no multiplication or one by √½:
/// 4 (stages of lengths 2 and 4) when `log2(FRAME/2)` is even, 8 (lengths 2, 4 and 8) when it is
/// odd, so that an even number of stages is left.
#[inline(always)]
const fn first_pass<Z: FrameSize>() -> usize {
    if Z::HOP.trailing_zeros() % 2 == 0 {
        4
    } else {
        8
    }
}

/// The DFT of eight points given in bit-reversed order: the DFTs of the even and odd points
/// ([`dft4`]) joined with `W_8^k` (1, `√½·(1 − i)`, −i, `−√½·(1 + i)`).
#[inline(always)]
fn dft8([p0, p1, p2, p3, p4, p5, p6, p7]: [Complex32; 8]) -> [Complex32; 8] {
    let h = core::f32::consts::FRAC_1_SQRT_2;
    let (e0, e1, e2, e3) = dft4(p0, p1, p2, p3);
    let (o0, o1, o2, o3) = dft4(p4, p5, p6, p7);
    let o1 = Complex32::new((o1.re + o1.im) * h, (o1.im - o1.re) * h);
    let o2 = Complex32::new(o2.im, -o2.re);
    let o3 = Complex32::new((o3.im - o3.re) * h, -(o3.re + o3.im) * h);
    [e0 + o0, e1 + o1, e2 + o2, e3 + o3, e0 - o0, e1 - o1, e2 - o2, e3 - o3]
}

/// The DFT of four points given in bit-reversed order (`x0, x2, x1, x3`).
#[inline(always)]
fn dft4(a: Complex32, b: Complex32, c: Complex32, d: Complex32) -> (Complex32, Complex32, Complex32, Complex32) {
    let (s0, d0, s1, d1) = (a + b, a - b, c + d, c - d);
    let d1 = Complex32::new(d1.im, -d1.re); // −i·d1
    (s0 + s1, d0 + d1, s0 - s1, d0 - d1)
}

/// [`dit`] after its first pass: the remaining stages (an even number), two at a time.
fn dit_passes<Z: FrameSize>(x: &mut [Complex32]) {
    // Stage lengths as powers of two (`L = 2^s`): shifts, not divisions, in the passes.
    let mut s = first_pass::<Z>().trailing_zeros() + 1;
    while (2usize << s) <= x.len() {
        dit_stage_pair::<Z>(x, s);
        s += 2;
    }
}

/// The twiddles `W_L^k = e^(−2πik/L)` of the stage of length `L = 2^s` as `(sin, cos)` for
/// `k = 0, 1, …` up to a quarter turn (`k < L/4`), from the window: `sin(2πk/L) = w[2kF/L]`, the cosines the same read from the
/// window's middle back (chunks of the window, so the loops that zip them count one index).
#[inline(always)]
fn quarter_twiddles<Z: FrameSize>(s: u32) -> impl Iterator<Item = (f32, f32)> {
    let (w, step) = (Z::window().as_ref(), (2 * Z::FRAME).checked_shr(s).unwrap_or(0).max(1));
    let first = |c: &[f32]| c.first().copied().unwrap_or_default();
    let last = |c: &[f32]| c.last().copied().unwrap_or_default();
    w.chunks_exact(step).map(first).zip(w.rchunks_exact(step).map(last))
}

/// The twiddles of the real FFT's split pass and its inverse: `W_F^k` as `(sin, cos)` for
/// `k = 1 .. F/4` (the stage of length `F` of [`quarter_twiddles`], its first left out).
#[inline(always)]
pub(super) fn split_twiddles<Z: FrameSize>() -> impl Iterator<Item = (f32, f32)> {
    quarter_twiddles::<Z>(Z::FRAME.trailing_zeros()).skip(1)
}

/// Stages `L = 2^s` and `2L` at once (radix 2²): in each block of `2L` points the four points `a, b, c,
/// d` at `k, k + L/2, k + L, k + 3L/2` (`k < L/2`) go through stage `L`'s butterflies `(a, b)`,
/// `(c, d)` with `W_L^k` and then stage `2L`'s `(a, c)` with `W_2L^k`, `(b, d)` with
/// `W_2L^(k+L/2) = −i·W_2L^k`: each point loaded and stored once for the two stages.
#[inline(never)] // one copy for every length (inlined, LLVM peeled the first length into a second copy)
fn dit_stage_pair<Z: FrameSize>(x: &mut [Complex32], s: u32) {
    #[inline(always)]
    fn quad(
        a: &mut Complex32,
        b: &mut Complex32,
        c: &mut Complex32,
        d: &mut Complex32,
        (c1, s1): (f32, f32),
        (s2, c2): (f32, f32),
    ) {
        butterfly(a, b, c1, s1);
        butterfly(c, d, c1, s1);
        butterfly(a, c, c2, s2);
        butterfly(b, d, -s2, c2);
    }
    let len = 1usize.checked_shl(s).unwrap_or(0);
    let q = len / 4;
    for block in x.chunks_exact_mut((2 * len).max(1)) {
        let Some((ab, cd)) = block.split_at_mut_checked(len) else { continue };
        let (Some((a, b)), Some((c, d))) = (ab.split_at_mut_checked(2 * q), cd.split_at_mut_checked(2 * q)) else {
            continue;
        };
        let halves = (
            a.split_at_mut_checked(q),
            b.split_at_mut_checked(q),
            c.split_at_mut_checked(q),
            d.split_at_mut_checked(q),
        );
        let (Some((a0, a1)), Some((b0, b1)), Some((c0, c1)), Some((d0, d1))) = halves else { continue };
        let first = quarter_twiddles::<Z>(s).zip(quarter_twiddles::<Z>(s + 1));
        let points = a0.iter_mut().zip(b0.iter_mut()).zip(c0.iter_mut().zip(d0.iter_mut()));
        for (((a, b), (c, d)), ((s1, k1), w2)) in points.zip(first) {
            quad(a, b, c, d, (k1, s1), w2);
        }
        // k + L/4: W_L turns by −i; W_2L's angles go on past the first L/4.
        let second = quarter_twiddles::<Z>(s).zip(quarter_twiddles::<Z>(s + 1).skip(q));
        let points = a1.iter_mut().zip(b1.iter_mut()).zip(c1.iter_mut().zip(d1.iter_mut()));
        for (((a, b), (c, d)), ((s1, k1), w2)) in points.zip(second) {
            quad(a, b, c, d, (-s1, k1), w2);
        }
    }
}

/// The spectrum of a real frame (`spec`: bins `0..=FRAME/2`). With M = `FRAME/2`, `z[m] =
/// x[2m] + i·x[2m+1]` and `Z = DFT_M(z)`, the bins are (W = e^(−2πi/F), k = 0..M)
///
/// ```text
/// E[k] = (Z[k] + conj Z[M−k]) / 2,   O[k] = −i·(Z[k] − conj Z[M−k]) / 2,
/// X[k] = E[k] + W^k·O[k],            X[M−k] = conj(E[k] − W^k·O[k]),
/// ```
///
/// so bins `k` and `M − k` come from the same two points; `X[0]` and `X[M]` are
/// `Re Z[0] ± Im Z[0]`, `X[M/2] = conj Z[M/2]`. `half` is the transform's work buffer.
/// `point(m)` gives `z[m] = (x[2m], x[2m+1])`: the caller's frame need not be in memory as one
/// array (the analysis windows its two hops as they are read).
pub(super) fn rfft<Z: FrameSize>(
    point: impl Fn(usize) -> Complex32,
    half: &mut Hop<Z, Complex32>,
    spec: &mut Bins<Z, Complex32>,
) {
    // The first pass fused with the load: group `t` (of 4 or 8) of the bit-reversed order holds
    // the points `r + jM/4` (`r + jM/8`), `j` in bit-reversed order, `r` the bit reversal of `t`
    // among the groups.
    let m = Z::HOP;
    let size = first_pass::<Z>();
    let (q, e) = (m / 4, m / 8);
    for (t, group) in half.as_mut().chunks_exact_mut(size).enumerate() {
        let r = bit_reversed(t, m / size);
        if let [a, b, c, d] = group {
            (*a, *b, *c, *d) = dft4(point(r), point(r + 2 * q), point(r + q), point(r + 3 * q));
        } else if let Ok(g) = <&mut [Complex32; 8]>::try_from(group) {
            let p = |j: usize| point(r + j * e);
            *g = dft8([p(0), p(4), p(2), p(6), p(1), p(5), p(3), p(7)]);
        }
    }
    dit_passes::<Z>(half.as_mut());
    let (z, x) = (half.as_ref(), spec.as_mut());
    let q = m / 2;
    let z0 = z.first().copied().unwrap_or_default();
    let zq = z.get(q).copied().unwrap_or_default();
    let Some((lo, hi)) = x.split_at_mut_checked(q + 1) else { return };
    // lo = X[0..=q], hi = X[q+1..=M]: their ends apart from the pairs between.
    let (Some((x0, lo)), Some((xm, hi))) = (lo.split_first_mut(), hi.split_last_mut()) else { return };
    let Some((xq, lo)) = lo.split_last_mut() else { return };
    (*x0, *xm) = (Complex32::new(z0.re + z0.im, 0.0), Complex32::new(z0.re - z0.im, 0.0));
    *xq = zq.conj();
    let points = z.get(1..q).unwrap_or_default().iter().zip(z.get(q + 1..m).unwrap_or_default().iter().rev());
    let bins = lo.iter_mut().zip(hi.iter_mut().rev());
    for (((xk, xmk), (a, b)), (s, c)) in bins.zip(points).zip(split_twiddles::<Z>()) {
        let b = b.conj();
        let (e, d) = ((*a + b) * 0.5, (*a - b) * 0.5);
        // O = −i·d; W^k·O with W^k = c − i·s.
        let (or, oi) = (d.im, -d.re);
        let o = Complex32::new(c * or + s * oi, c * oi - s * or);
        (*xk, *xmk) = (e + o, (e - o).conj());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::{Array, Narrowband};
    use std::vec::Vec;

    /// The one-sided DFT of a real frame, in f64.
    fn dft(x: &[f32]) -> Vec<(f64, f64)> {
        let n = x.len();
        (0..=n / 2)
            .map(|k| {
                x.iter().enumerate().fold((0.0, 0.0), |(re, im), (t, v)| {
                    let th = 2.0 * core::f64::consts::PI * ((k * t) % n) as f64 / n as f64;
                    (re + f64::from(*v) * th.cos(), im - f64::from(*v) * th.sin())
                })
            })
            .collect()
    }

    /// The real FFT against the f64 DFT of random frames in [−1, 1), within f32 rounding over
    /// `log2 FRAME` stages; bins 0 and `FRAME/2` come out real.
    fn check<Z: FrameSize>(seed: u32) {
        let mut r = seed;
        let mut frame = Z::Frame::<f32>::filled(0.0);
        for v in frame.as_mut() {
            r = r.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            *v = (r >> 8) as f32 / (1u32 << 23) as f32 - 1.0;
        }
        let want = dft(frame.as_ref());
        let mut half = Hop::<Z, Complex32>::filled(Complex32::default());
        let mut spec = Bins::<Z, Complex32>::filled(Complex32::new(f32::NAN, f32::NAN));
        let point = |m: usize| Complex32::new(frame.as_ref()[2 * m], frame.as_ref()[2 * m + 1]);
        rfft::<Z>(point, &mut half, &mut spec);
        let got = spec.as_ref();
        assert_eq!((got[0].im, got[Z::HOP].im), (0.0, 0.0));
        let err = got
            .iter()
            .zip(&want)
            .map(|(g, (re, im))| (f64::from(g.re) - re).hypot(f64::from(g.im) - im))
            .fold(0.0, f64::max);
        // |X_k| ~ sqrt(F/3): 9 at 256 points, 13 at 512.
        assert!(err < 2e-4, "{} points: max error {err}", Z::FRAME);
    }

    #[test]
    fn real_fft_matches_the_f64_dft() {
        for seed in 0..4 {
            check::<Narrowband>(seed);
            #[cfg(feature = "wideband")]
            check::<crate::dsp::Wideband>(seed);
        }
    }

    #[test]
    fn bit_reversal_of_every_point() {
        assert_eq!((0..8).map(|m| bit_reversed(m, 8)).collect::<Vec<_>>(), [0, 4, 2, 6, 1, 5, 3, 7]);
        assert_eq!((bit_reversed(1, 128), bit_reversed(127, 128), bit_reversed(0, 1)), (64, 127, 0));
    }
}
