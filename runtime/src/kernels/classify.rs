//! A classifier's outputs: softmax (f32) and the winning class (f32 or int8 scores).

use crate::error::Error;

/// Softmax in place: `x_i ← exp(x_i − max) / Σ_j exp(x_j − max)` with [`super::exp_f32`] (the
/// same on every machine); an empty slice is left as it is.
pub fn softmax_f32(x: &mut [f32]) {
    let m = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0f32;
    for v in x.iter_mut() {
        *v = super::exp_f32(*v - m);
        sum += *v;
    }
    x.iter_mut().for_each(|v| *v /= sum);
}

/// Index of the largest score, ties to the lowest index; NaN never wins (all NaN: 0).
/// `Error::KernelShape` for no scores.
pub fn argmax_f32(x: &[f32]) -> Result<usize, Error> {
    let (mut best, mut at) = (x.first().copied().ok_or(Error::KernelShape)?, 0);
    for (i, v) in x.iter().enumerate().skip(1) {
        if *v > best || (best.is_nan() && !v.is_nan()) {
            (best, at) = (*v, i);
        }
    }
    Ok(at)
}

/// Index of the largest int8 score, ties to the lowest index; `Error::KernelShape` for none.
pub fn argmax_i8(x: &[i8]) -> Result<usize, Error> {
    let (mut best, mut at) = (x.first().copied().ok_or(Error::KernelShape)?, 0);
    for (i, v) in x.iter().enumerate().skip(1) {
        if *v > best {
            (best, at) = (*v, i);
        }
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::test_util::Rng;

    #[test]
    fn softmax_matches_f64() {
        let mut rng = Rng::new(101);
        for n in [1usize, 2, 10, 33] {
            let x = rng.f32s(n, 20.0);
            let mut y = x.clone();
            softmax_f32(&mut y);
            let m = x.iter().fold(f64::MIN, |a, b| a.max(f64::from(*b)));
            let s: f64 = x.iter().map(|v| (f64::from(*v) - m).exp()).sum();
            for (a, v) in y.iter().zip(&x) {
                let want = (f64::from(*v) - m).exp() / s;
                assert!((f64::from(*a) - want).abs() < 1e-6, "{a} vs {want}");
            }
            assert!((y.iter().map(|v| f64::from(*v)).sum::<f64>() - 1.0).abs() < 1e-5);
        }
    }

    #[test]
    fn argmax_ties_go_to_the_lowest_index() {
        assert_eq!(argmax_f32(&[1.0, 3.0, 3.0, -1.0]), Ok(1));
        assert_eq!(argmax_f32(&[f32::NAN, 2.0, 5.0, f32::NAN]), Ok(2));
        assert_eq!(argmax_f32(&[-0.5]), Ok(0));
        assert_eq!(argmax_f32(&[]), Err(Error::KernelShape));
        assert_eq!(argmax_i8(&[-3, 7, 7, 2]), Ok(1));
        assert_eq!(argmax_i8(&[-128, -127]), Ok(1));
        assert_eq!(argmax_i8(&[]), Err(Error::KernelShape));
        let mut rng = Rng::new(102);
        let x = rng.i8s(50);
        let m = *x.iter().max().unwrap();
        assert_eq!(argmax_i8(&x), Ok(x.iter().position(|v| *v == m).unwrap()));
    }
}
