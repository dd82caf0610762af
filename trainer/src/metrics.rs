//! Scale-invariant signal-to-distortion ratio.

/// SI-SDR in dB of `est` against `reference` (both made zero-mean; f64 accumulation).
/// Returns `None` for an empty or silent reference.
pub fn si_sdr(est: &[f32], reference: &[f32]) -> Option<f64> {
    let n = est.len().min(reference.len());
    if n == 0 {
        return None;
    }
    let (e, r) = (est.get(..n)?, reference.get(..n)?);
    let me = e.iter().map(|&v| f64::from(v)).sum::<f64>() / n as f64;
    let mr = r.iter().map(|&v| f64::from(v)).sum::<f64>() / n as f64;
    let (mut dot, mut rr) = (0f64, 0f64);
    for (&a, &b) in e.iter().zip(r) {
        let (a, b) = (f64::from(a) - me, f64::from(b) - mr);
        dot += a * b;
        rr += b * b;
    }
    if rr <= 0.0 {
        return None;
    }
    let alpha = dot / rr;
    let (mut num, mut den) = (0f64, 0f64);
    for (&a, &b) in e.iter().zip(r) {
        let t = alpha * (f64::from(b) - mr);
        let d = f64::from(a) - me - t;
        num += t * t;
        den += d * d;
    }
    Some(10.0 * ((num + 1e-20) / (den + 1e-20)).log10())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_values() {
        let r: Vec<f32> = (0..1000).map(|i| (i as f32 * 0.1).sin()).collect();
        // scaled copy: perfect (capped by the epsilon)
        let s: Vec<f32> = r.iter().map(|v| v * 0.3).collect();
        assert!(si_sdr(&s, &r).unwrap() > 100.0);
        // orthogonal noise of equal power: 0 dB
        let n: Vec<f32> = (0..1000).map(|i| (i as f32 * 0.1).cos()).collect();
        let mix: Vec<f32> = r.iter().zip(&n).map(|(a, b)| a + b).collect();
        assert!(si_sdr(&mix, &r).unwrap().abs() < 0.1);
        assert!(si_sdr(&mix, &[0.0; 1000]).is_none());
        assert!(si_sdr(&[], &[]).is_none());
    }
}
