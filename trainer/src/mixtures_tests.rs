use super::*;
use crate::cli::ScoreArgs;

fn tone(n: usize, f: f32) -> Vec<f32> {
    (0..n).map(|i| 0.3 * (i as f32 * f).sin()).collect()
}

/// A mixtures directory of two files by hand: clean tones, noisy = clean + a square wave.
fn set(dir: &Path) -> Vec<(Vec<f32>, Vec<f32>)> {
    let mut csv = format!("{HEADER}\n");
    let mut out = Vec::new();
    for (k, (kind, snr)) in [("babble", -5.0f32), ("white", 5.0)].iter().enumerate() {
        let clean = tone(1600, 0.05 + 0.02 * k as f32);
        let noisy: Vec<f32> = clean.iter().enumerate().map(|(i, c)| c + if i % 40 < 20 { 0.1 } else { -0.1 }).collect();
        let name = format!("{k:03}-{kind}-{snr:+}dB");
        write_f32(&dir.join("clean").join(format!("{name}.wav")), 16000, &clean).unwrap();
        write_f32(&dir.join("noisy").join(format!("{name}.wav")), 16000, &noisy).unwrap();
        csv.push_str(&format!("{name},{kind},{snr},16000\n"));
        out.push((clean, noisy));
    }
    std::fs::write(dir.join(TABLE), csv).unwrap();
    out
}

#[test]
fn score_measures_each_file_and_reports_by_kind_and_snr() {
    let d = tempfile::tempdir().unwrap();
    let (mix, enh) = (d.path().join("m"), d.path().join("e"));
    for sub in ["m/clean", "m/noisy", "e"] {
        std::fs::create_dir_all(d.path().join(sub)).unwrap();
    }
    let pairs = set(&mix);
    let rows = read_table(&mix).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!((rows[0].kind, rows[0].snr_db, rows[0].rate), (NoiseType::Babble, -5.0, 16000));
    // "denoised": the noise halved
    for (r, (c, n)) in rows.iter().zip(&pairs) {
        let y: Vec<f32> = c.iter().zip(n).map(|(c, n)| c + 0.5 * (n - c)).collect();
        write_f32(&enh.join(format!("{}.wav", r.name)), 16000, &y).unwrap();
    }
    let a = ScoreArgs { mixtures: mix.clone(), enhanced: enh.clone(), json: false };
    let Scores { rate, files, report } = score(&a).unwrap();
    assert_eq!(rate, 16000);
    for f in &files {
        assert!((f.si_sdri - 6.0).abs() < 0.5, "{f:?}");
    }
    assert_eq!(report.per_noise.len(), 2);
    assert!((report.si_sdri - (files[0].si_sdri + files[1].si_sdri) / 2.0).abs() < 1e-9);

    // a file too short, a missing file, a bad table: errors that name them
    write_f32(&enh.join(format!("{}.wav", rows[1].name)), 16000, &[0.1; 100]).unwrap();
    let e = format!("{:#}", score(&a).unwrap_err());
    assert!(e.contains(&rows[1].name) && e.contains("100 samples"), "{e}");
    std::fs::remove_file(enh.join(format!("{}.wav", rows[1].name))).unwrap();
    let e = format!("{:#}", score(&a).unwrap_err());
    assert!(e.contains(&rows[1].name), "{e}");
    std::fs::write(mix.join(TABLE), format!("{HEADER}\nx,thunder,0,16000\n")).unwrap();
    let e = format!("{:#}", read_table(&mix).unwrap_err());
    assert!(e.contains("mixtures.csv:2") && e.contains("thunder"), "{e}");
    std::fs::write(mix.join(TABLE), "name,snr\n").unwrap();
    assert!(format!("{:#}", read_table(&mix).unwrap_err()).contains("mixtures.csv:1"));
}
