//! Scale-invariant signal-to-distortion ratio (SI-SDR; Le Roux, Wisdom, Erdogan, Hershey,
//! "SDR – half-baked or well done?", ICASSP 2019).

/// SI-SDR in dB of `estimate` against `reference`: both made zero-mean, the estimate projected on
/// the reference (`target = α·reference`, `α = ⟨estimate, reference⟩ / ‖reference‖²`), then
/// `10·log10(‖target‖² / ‖estimate − target‖²)`. Accumulates in f64; signals of different lengths
/// are compared over their common prefix. `None` for an empty or silent (constant) reference.
pub fn si_sdr(reference: &[f32], estimate: &[f32]) -> Option<f64> {
    let n = estimate.len().min(reference.len());
    if n == 0 {
        return None;
    }
    let (r, e) = (reference.get(..n)?, estimate.get(..n)?);
    let mean = |x: &[f32]| x.iter().map(|&v| f64::from(v)).sum::<f64>() / n as f64;
    let (me, mr) = (mean(e), mean(r));
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
    let (mut target, mut residual) = (0f64, 0f64);
    for (&a, &b) in e.iter().zip(r) {
        let t = alpha * (f64::from(b) - mr);
        let d = f64::from(a) - me - t;
        target += t * t;
        residual += d * d;
    }
    Some(10.0 * ((target + 1e-20) / (residual + 1e-20)).log10())
}

#[cfg(test)]
mod tests {
    use super::*;

    // r is zero-mean; n is zero-mean and orthogonal to r; both have power 1 per sample.
    const R: [f32; 4] = [1.0, -1.0, 1.0, -1.0];
    const N: [f32; 4] = [1.0, 1.0, -1.0, -1.0];

    fn mix(a: f32, b: f32) -> Vec<f32> {
        R.iter().zip(&N).map(|(r, n)| a * r + b * n).collect()
    }

    #[test]
    fn hand_computed_values() {
        // estimate = r + n: target r (power 4), residual n (power 4): 0 dB.
        assert!(si_sdr(&R, &mix(1.0, 1.0)).unwrap().abs() < 1e-12);
        // estimate = 2r + n: target 2r (power 16), residual n (power 4): 10·log10(4) dB.
        let s = si_sdr(&R, &mix(2.0, 1.0)).unwrap();
        assert!((s - 10.0 * 4f64.log10()).abs() < 1e-12, "{s}");
        // estimate = r + 3n: 10·log10(4 / 36) dB.
        let s = si_sdr(&R, &mix(1.0, 3.0)).unwrap();
        assert!((s - 10.0 * (1.0f64 / 9.0).log10()).abs() < 1e-12, "{s}");
    }

    #[test]
    fn scale_and_offset_invariant() {
        // A scaled copy is perfect, up to the 1e-20 guard: 10·log10(1 / 1e-20) = 200 dB.
        assert!(si_sdr(&R, &mix(-0.5, 0.0)).unwrap() > 199.0);
        // Zero-mean: a constant offset on either signal changes nothing.
        let shifted: Vec<f32> = R.iter().map(|v| v + 2.0).collect();
        assert!(si_sdr(&R, &shifted).unwrap() > 200.0);
        let est = mix(2.0, 1.0);
        let est_shifted: Vec<f32> = est.iter().map(|v| v - 0.25).collect();
        let ref_scaled: Vec<f32> = R.iter().map(|v| 3.0 * v + 1.0).collect();
        let s = si_sdr(&ref_scaled, &est_shifted).unwrap();
        assert!((s - 10.0 * 4f64.log10()).abs() < 1e-9, "{s}");
    }

    #[test]
    fn common_prefix_and_degenerate_inputs() {
        let mut long = mix(2.0, 1.0);
        long.extend_from_slice(&[100.0, -100.0]);
        assert_eq!(si_sdr(&R, &long), si_sdr(&R, &mix(2.0, 1.0)));
        assert!(si_sdr(&[0.5; 4], &R).is_none(), "constant reference");
        assert!(si_sdr(&[], &R).is_none());
        assert!(si_sdr(&R, &[]).is_none());
    }

    #[test]
    fn longer_signals_match_their_power_ratio() {
        // A sine against a cosine of equal power at the same frequency (orthogonal over whole periods).
        let r: Vec<f32> = (0..1000).map(|i| (i as f32 * std::f32::consts::PI / 50.0).sin()).collect();
        let n: Vec<f32> = (0..1000).map(|i| (i as f32 * std::f32::consts::PI / 50.0).cos()).collect();
        let est: Vec<f32> = r.iter().zip(&n).map(|(a, b)| a + 0.1 * b).collect();
        let s = si_sdr(&r, &est).unwrap();
        assert!((s - 20.0).abs() < 0.01, "{s}");
    }
}
