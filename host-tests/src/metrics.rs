//! Quality and timing numbers.

use runtime::dsp::HOP;

/// Scale-invariant SDR in dB of `est` against `reference` (same length, zero-mean not assumed).
pub fn si_sdr(reference: &[f32], est: &[f32]) -> f64 {
    let n = reference.len().min(est.len());
    let (r, e) = (reference.get(..n).unwrap_or(&[]), est.get(..n).unwrap_or(&[]));
    let dot: f64 = r.iter().zip(e).map(|(a, b)| f64::from(*a) * f64::from(*b)).sum();
    let rr: f64 = r.iter().map(|a| f64::from(*a).powi(2)).sum::<f64>().max(1e-20);
    let alpha = dot / rr;
    let (mut target, mut noise) = (0.0f64, 0.0f64);
    for (a, b) in r.iter().zip(e) {
        let t = alpha * f64::from(*a);
        target += t * t;
        noise += (f64::from(*b) - t).powi(2);
    }
    10.0 * (target.max(1e-20) / noise.max(1e-20)).log10()
}

fn to_f32(x: &[i16]) -> Vec<f32> {
    x.iter().map(|&s| f32::from(s) / 32768.0).collect()
}

/// SI-SDR of a denoiser output, which lags its input by one hop (see `runtime::dsp`).
pub fn si_sdr_out(clean: &[i16], out: &[i16]) -> f64 {
    let out = out.get(HOP..).unwrap_or(&[]);
    si_sdr(&to_f32(clean), &to_f32(out))
}

/// SI-SDR of the unprocessed input.
pub fn si_sdr_in(clean: &[i16], noisy: &[i16]) -> f64 {
    si_sdr(&to_f32(clean), &to_f32(noisy))
}

/// (min, median, max) of per-frame counts; zeros when empty.
pub fn min_med_max(v: &[u32]) -> (u32, u32, u32) {
    let mut s = v.to_vec();
    s.sort_unstable();
    let med = s.get(s.len() / 2).copied().unwrap_or(0);
    (s.first().copied().unwrap_or(0), med, s.last().copied().unwrap_or(0))
}

/// Real-time factor: time to process a hop at `clock_hz` (one instruction per cycle assumed;
/// QEMU counts instructions, not cycles) over the hop's duration (16 ms).
pub fn rt_factor(instructions_per_hop: u32, clock_hz: f64) -> f64 {
    let hop_s = HOP as f64 / f64::from(runtime::dsp::SAMPLE_RATE);
    f64::from(instructions_per_hop) / clock_hz / hop_s
}

/// Largest absolute difference and the count of differing samples.
pub fn diff(a: &[i16], b: &[i16]) -> (u32, usize) {
    let mut max = 0u32;
    let mut n = 0usize;
    for (x, y) in a.iter().zip(b) {
        let d = (i32::from(*x) - i32::from(*y)).unsigned_abs();
        max = max.max(d);
        n += usize::from(d != 0);
    }
    (max, n + a.len().abs_diff(b.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn si_sdr_is_scale_invariant_and_drops_with_noise() {
        let r: Vec<f32> = (0..4000).map(|i| (i as f32 * 0.05).sin()).collect();
        let half: Vec<f32> = r.iter().map(|v| 0.5 * v).collect();
        assert!(si_sdr(&r, &half) > 100.0);
        let noisy: Vec<f32> = r.iter().enumerate().map(|(i, v)| v + if i % 2 == 0 { 0.1 } else { -0.1 }).collect();
        let s = si_sdr(&r, &noisy);
        // Signal power 0.5, noise power 0.01: 10·log10(50) ≈ 17 dB.
        assert!((s - 17.0).abs() < 0.5, "{s}");
    }

    #[test]
    fn output_metric_undoes_the_one_hop_delay() {
        let clean: Vec<i16> = (0..2000).map(|i| ((i as f32 * 0.1).sin() * 8000.0) as i16).collect();
        let mut out = vec![0i16; HOP];
        out.extend_from_slice(&clean);
        assert!(si_sdr_out(&clean, &out) > 60.0);
    }

    #[test]
    fn stats_and_rt_factor() {
        assert_eq!(min_med_max(&[5, 1, 9, 3, 7]), (1, 5, 9));
        assert_eq!(min_med_max(&[]), (0, 0, 0));
        // 1.28 M instructions in a 16 ms hop at 80 MHz is exactly real time.
        assert!((rt_factor(1_280_000, 80e6) - 1.0).abs() < 1e-9);
        assert_eq!(diff(&[1, 2, 3], &[1, 4, 3]), (2, 1));
    }
}
