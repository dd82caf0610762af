//! Quality and timing numbers.

use audio_tools::{i16_to_f32, si_sdr};
use runtime::dsp::HOP;

/// SI-SDR (`audio_tools::si_sdr`) of 16-bit audio `x` against `clean`; `None` for an empty or
/// silent reference.
pub fn pcm_si_sdr(clean: &[i16], x: &[i16]) -> Option<f64> {
    let f = |s: &[i16]| -> Vec<f32> { s.iter().copied().map(i16_to_f32).collect() };
    si_sdr(&f(clean), &f(x))
}

/// A denoiser's output at `rate` lined up with its input: the output lags by one hop (half the
/// rate's frame, see `runtime::dsp`).
pub fn aligned(out: &[i16], rate: u32) -> &[i16] {
    out.get(latency(rate)..).unwrap_or(&[])
}

/// The pipeline's latency at `rate` in samples: one hop (the 8 kHz hop for an unknown rate).
pub fn latency(rate: u32) -> usize {
    runtime::dsp::frame_at(rate).map_or(HOP, |f| f / 2)
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
    fn pcm_metric_is_si_sdr_of_the_samples() {
        let clean: Vec<i16> = (0..4000).map(|i| ((i as f32 * 0.05).sin() * 8000.0) as i16).collect();
        let noisy: Vec<i16> = clean.iter().enumerate().map(|(i, v)| v + if i % 2 == 0 { 800 } else { -800 }).collect();
        // Signal power ≈ 8000²/2, noise power 800²: 10·log10(50) ≈ 17 dB.
        let s = pcm_si_sdr(&clean, &noisy).unwrap();
        assert!((s - 17.0).abs() < 0.5, "{s}");
        assert!(pcm_si_sdr(&[0; 100], &noisy).is_none());
    }

    #[test]
    fn output_metric_undoes_the_one_hop_delay() {
        let clean: Vec<i16> = (0..2000).map(|i| ((i as f32 * 0.1).sin() * 8000.0) as i16).collect();
        let mut out = vec![0i16; HOP];
        out.extend_from_slice(&clean);
        assert_eq!(aligned(&out, 8000), clean);
        assert!(pcm_si_sdr(&clean, aligned(&out, 8000)).unwrap() > 60.0);
        let mut wide = vec![0i16; 2 * HOP];
        wide.extend_from_slice(&clean);
        assert_eq!(aligned(&wide, 16000), clean);
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
