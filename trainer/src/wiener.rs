//! Classic baseline, no training: Wiener gain with a decision-directed a-priori SNR and a
//! minimum-statistics noise estimate, on the same STFT.

use crate::features::{self, Spectra, Stft};
use anyhow::Result;

/// Parameters of the baseline.
#[derive(Clone, Copy, Debug)]
pub struct Params {
    /// Power smoothing before the minimum search.
    pub alpha_s: f32,
    /// Frames of the minimum search (64 frames ≈ 1 s).
    pub win: usize,
    /// Sub-window length.
    pub sub: usize,
    /// Minimum-statistics bias compensation.
    pub bias: f32,
    /// Decision-directed smoothing.
    pub alpha_dd: f32,
    /// Gain floor.
    pub g_min: f32,
}

impl Default for Params {
    fn default() -> Self {
        // picked on the validation split (see `wiener_tune`)
        Params { alpha_s: 0.7, win: 64, sub: 8, bias: 2.0, alpha_dd: 0.9, g_min: 0.2 }
    }
}

/// Gains `(T, bins)` for the spectra of a noisy signal.
pub fn gains(specs: &Spectra) -> Vec<f32> {
    gains_with(specs, Params::default())
}

/// Gains with explicit parameters.
pub fn gains_with(specs: &Spectra, p: Params) -> Vec<f32> {
    let Params { alpha_s, win, sub, bias, alpha_dd, g_min } = p;
    let (sub, bins) = (sub.max(1), specs.stft.bins());
    let mut smooth = vec![0f32; bins];
    let mut sub_min = vec![f32::INFINITY; bins];
    let mut mins: Vec<Vec<f32>> = Vec::new();
    let mut prev_clean = vec![0f32; bins];
    let mut out = Vec::with_capacity(specs.len() * bins);
    for (t, s) in specs.frames().enumerate() {
        let pw: Vec<f32> = s.iter().map(|c| c.re * c.re + c.im * c.im).collect();
        for ((sm, mn), &pk) in smooth.iter_mut().zip(sub_min.iter_mut()).zip(&pw) {
            *sm = if t == 0 { pk } else { alpha_s * *sm + (1.0 - alpha_s) * pk };
            *mn = mn.min(*sm);
        }
        if t % sub == sub - 1 || t == 0 {
            mins.push(std::mem::replace(&mut sub_min, vec![f32::INFINITY; bins]));
            if mins.len() > win / sub {
                mins.remove(0);
            }
        }
        let mut floor = sub_min.clone();
        for m in &mins {
            floor.iter_mut().zip(m).for_each(|(f, v)| *f = f.min(*v));
        }
        for ((&pk, fl), pc) in pw.iter().zip(&floor).zip(prev_clean.iter_mut()) {
            let noise = (bias * fl).max(1e-10);
            let gamma = pk / noise;
            let xi = (alpha_dd * *pc / noise + (1.0 - alpha_dd) * (gamma - 1.0).max(0.0)).max(1e-3);
            let g = (xi / (1.0 + xi)).max(g_min);
            *pc = g * g * pk;
            out.push(g);
        }
    }
    out
}

/// Enhances a noisy signal with the Wiener baseline.
pub fn enhance(noisy: &[f32], stft: Stft) -> Result<Vec<f32>> {
    let specs = features::spectra(stft, noisy);
    features::synthesize(&specs, &gains(&specs), noisy.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tuning aid on the validation split: `WIENER=alpha_s,win,sub,bias,alpha_dd,g_min cargo test -p
    /// trainer --release wiener_tune -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn wiener_tune() {
        let sel = crate::data::DataSel::dirs(
            std::path::Path::new(crate::data::DEFAULT_SPEECH),
            std::path::Path::new(crate::data::DEFAULT_NOISE),
        );
        let c = crate::data::Corpus::load(&sel, crate::data::Split::Val, None).unwrap();
        let mixes = crate::data::test_set(&c, 25, 4.0, 1234);
        let v: Vec<f32> =
            std::env::var("WIENER").unwrap_or_default().split(',').filter_map(|x| x.parse().ok()).collect();
        let p = if v.len() == 6 {
            Params { alpha_s: v[0], win: v[1] as usize, sub: v[2] as usize, bias: v[3], alpha_dd: v[4], g_min: v[5] }
        } else {
            Params::default()
        };
        let r = crate::eval::evaluate(&mixes, |x| {
            let s = crate::features::spectra(crate::features::Stft::Narrowband, x);
            crate::features::synthesize(&s, &gains_with(&s, p), x.len())
        })
        .unwrap();
        println!("{p:?}: SI-SDRi {:.3}", r.si_sdri);
    }

    #[test]
    fn silence_and_noise_get_floor_gains() {
        let x: Vec<f32> = (0..8000).map(|i| ((i * 7919 % 101) as f32 / 101.0 - 0.5) * 0.1).collect();
        let y = enhance(&x, Stft::Narrowband).unwrap();
        assert_eq!(y.len(), x.len());
        let e_in: f32 = x.iter().map(|v| v * v).sum();
        let e_out: f32 = y.iter().map(|v| v * v).sum();
        assert!(e_out < 0.5 * e_in, "stationary noise is attenuated: {e_out} vs {e_in}");
    }
}
