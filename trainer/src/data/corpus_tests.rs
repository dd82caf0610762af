use super::*;
use crate::data::manifest::{build, parse, MANIFEST_PATH, NARROWBAND, SPEECH_FOLDERS, WIDEBAND};

/// A default-like tree: one file per speech folder plus a French one, and two noise tracks.
fn tree(root: &Path) -> (PathBuf, PathBuf) {
    let (speech, noise) = (root.join("sounds"), root.join("moh"));
    let tone = |f: f32| (0..4000).map(|i| 0.3 * (f * i as f32 / 8000.0).sin()).collect::<Vec<f32>>();
    for (k, folder) in SPEECH_FOLDERS.iter().chain(&["fr_FR_f_Sonia"]).enumerate() {
        std::fs::create_dir_all(speech.join(folder)).unwrap();
        crate::audio::write_wav(&speech.join(folder).join("a.wav"), &tone(100.0 + k as f32 * 50.0)).unwrap();
    }
    std::fs::create_dir_all(&noise).unwrap();
    crate::audio::write_wav(&noise.join("macroform-x.wav"), &tone(900.0)).unwrap();
    crate::audio::write_wav(&noise.join("other.wav"), &tone(700.0)).unwrap();
    (speech, noise)
}

fn pins(text: &str, source: Source) -> Vec<Entry> {
    parse(text).unwrap().into_iter().filter(|e| e.source == source).collect()
}

#[test]
fn a_pinned_listing_ignores_and_counts_unlisted_files_and_names_missing_or_changed_ones() {
    let dir = tempfile::tempdir().unwrap();
    let (speech, noise) = tree(dir.path());
    let text = build(&NARROWBAND, &speech, &noise).unwrap();
    let sp = pins(&text, Source::Speech);
    assert_eq!(sp.len(), 3, "the French folder is not part of the pinned set");
    assert_eq!(pins(&text, Source::Noise).len(), 2);
    let found = list_files(&speech, "--speech", &["wav"]).unwrap();
    let l = pinned_listing(&speech, Source::Speech, &found, &sp, &NARROWBAND).unwrap();
    assert_eq!((l.files.len(), l.unlisted, l.pinned), (3, 1, true));
    assert!(l.files.iter().all(|f| !f.rel.starts_with("fr_")));
    for f in &l.files {
        assert_eq!(f.split, split_of(&f.rel));
        load_file(f, 8000).unwrap();
    }

    // same size, other content: the load names the file and the manifest
    let victim = speech.join("it_IT_m_Carlo/a.wav");
    let mut bytes = std::fs::read(&victim).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x55;
    std::fs::write(&victim, &bytes).unwrap();
    let l = pinned_listing(&speech, Source::Speech, &found, &sp, &NARROWBAND).unwrap();
    let f = l.files.iter().find(|f| f.rel == "it_IT_m_Carlo/a.wav").unwrap();
    let e = load_file(f, 8000).err().unwrap().to_string();
    assert!(e.contains("it_IT_m_Carlo/a.wav") && e.contains(MANIFEST_PATH) && e.contains("hash"), "{e}");
    // another size, or gone: the listing names it
    std::fs::write(&victim, &bytes[..100]).unwrap();
    let e = pinned_listing(&speech, Source::Speech, &found, &sp, &NARROWBAND).err().unwrap().to_string();
    assert!(e.contains("it_IT_m_Carlo/a.wav") && e.contains("100 bytes"), "{e}");
    std::fs::remove_file(&victim).unwrap();
    let e = pinned_listing(&speech, Source::Speech, &found, &sp, &NARROWBAND).err().unwrap().to_string();
    assert!(e.contains("it_IT_m_Carlo/a.wav") && e.contains("missing"), "{e}");
}

#[test]
fn the_summary_line_says_what_was_used() {
    let s = SourceSummary {
        source: "speech",
        dir: PathBuf::from("/d"),
        split: "test",
        files: 3,
        seconds: 12.34,
        rate: 8000,
        listed: 30,
        pinned: true,
        unlisted_ignored: 2,
        silent_dropped: 1,
        converted: 2,
        first_conversion: Some("16000 Hz stereo → 8000 Hz mono".into()),
    };
    assert_eq!(
        s.to_string(),
        "speech: 3 files, 12.3 s (test split of 30 listed, pinned by data/manifest.tsv, 2 unlisted ignored) under /d; \
         1 silent files left out; 2 converted (16000 Hz stereo → 8000 Hz mono, …)"
    );
    assert_eq!(unused_noise(Path::new("/n"), 8000).to_string(), "noise: not used (--noise-kinds without recorded)");
}

#[test]
fn the_default_directories_load_the_pinned_test_split() {
    let sel = DataSel::dirs(Path::new(crate::data::DEFAULT_SPEECH), Path::new(crate::data::DEFAULT_NOISE));
    if !sel.speech.is_dir() || !sel.noise.is_dir() {
        eprintln!("skipped: the Asterisk sound packages are not installed");
        return;
    }
    let c = Corpus::load(&sel, Split::Test, Some(10)).unwrap();
    let pinned_test = crate::data::manifest::pinned(&NARROWBAND, Source::Speech)
        .unwrap()
        .into_iter()
        .filter(|e| e.split == Split::Test)
        .map(|e| e.path)
        .collect::<HashSet<_>>();
    assert!(c.summary.iter().all(|s| s.pinned && s.split == "test"), "{:?}", c.summary);
    assert!(c.speech_files.iter().all(|(r, _)| pinned_test.contains(r)));
    assert!(c.noise_files.iter().all(|(r, _)| !manifest::is_macroform(r)) && !c.noise_files.is_empty());
}

#[test]
fn the_summary_names_the_manifest_of_its_rate() {
    let mut s = unused_noise(Path::new("/n"), 16_000);
    (s.split, s.pinned, s.files, s.listed) = ("test", true, 1, 2);
    assert!(s.to_string().contains("pinned by data/manifest-16k.tsv"), "{s}");
}

/// `x` (at 16 kHz) encoded as G.722.
fn g722_bytes(x: &[f32]) -> Vec<u8> {
    use audio_codec::Encoder as _;
    let pcm: Vec<i16> = x.iter().map(|v| (v * 32767.0) as i16).collect();
    let mut out = vec![0u8; pcm.len() / 2 + 1];
    let n = audio_codec::g722::G722Encoder::new().encode_into(&pcm, &mut out).unwrap();
    out.truncate(n);
    out
}

#[test]
fn at_16_khz_a_g722_file_stands_for_the_wav_of_the_same_name_and_takes_its_split() {
    let dir = tempfile::tempdir().unwrap();
    let speech = dir.path().join("speech");
    std::fs::create_dir_all(&speech).unwrap();
    let tone = |rate: f32, n: usize| {
        (0..n).map(|i| 0.3 * (1000.0 * std::f32::consts::TAU * i as f32 / rate).sin()).collect::<Vec<f32>>()
    };
    // names of every split, each as a WAV (8 kHz) and as G.722 (16 kHz); one WAV alone
    let names: Vec<String> = (0..40).map(|k| format!("p{k}")).collect();
    for n in &names {
        crate::audio::write_wav(&speech.join(format!("{n}.wav")), &tone(8000.0, 4000)).unwrap();
        std::fs::write(speech.join(format!("{n}.g722")), g722_bytes(&tone(16_000.0, 8000))).unwrap();
    }
    crate::audio::write_wav(&speech.join("lonely.wav"), &tone(8000.0, 4000)).unwrap();
    let wide = audio_files(&speech, Source::Speech, 16_000).unwrap();
    assert_eq!(wide.len(), names.len() + 1);
    assert!(wide.iter().filter(|(r, _)| r.ends_with(".g722")).count() == names.len());
    let narrow = audio_files(&speech, Source::Speech, 8000).unwrap();
    assert!(narrow.len() == names.len() + 1 && narrow.iter().all(|(r, _)| r.ends_with(".wav")));
    let sel = DataSel { kinds: vec![NoiseType::White], ..DataSel::dirs(&speech, Path::new("/nonexistent")) };
    for split in [Split::Train, Split::Val, Split::Test] {
        let c16 = Corpus::load_at(&sel, split, None, 16_000).unwrap();
        let c8 = Corpus::load_at(&sel, split, None, 8000).unwrap();
        let keys = |c: &Corpus| c.speech_files.iter().map(|(r, _)| split_key(r)).collect::<Vec<_>>();
        assert_eq!(keys(&c16), keys(&c8), "{split:?}: the same prompts at both rates");
        assert!((c16.rate, c8.rate, c16.summary[0].rate) == (16_000, 8000, 16_000));
        // G.722 decodes to 16 kHz as is; the lonely WAV is resampled
        for ((r, _), x) in c16.speech_files.iter().zip(&c16.speech) {
            assert_eq!(x.len(), 8000, "{r}");
        }
        let n = (0.5 * 16_000.0) as usize;
        assert!(crate::data::test_set(&c16, 1, 0.5, 1).iter().all(|m| m.clean.len() == n));
    }
    assert!(Corpus::load_at(&sel, Split::Train, None, 22_050).is_err());
}

#[test]
fn the_default_directories_load_the_pinned_16_khz_test_split() {
    let sel = DataSel::dirs(Path::new(crate::data::DEFAULT_SPEECH), Path::new(crate::data::DEFAULT_NOISE));
    let first = parse(WIDEBAND.text).unwrap().into_iter().next().unwrap();
    if !sel.speech.join(&first.path).is_file() {
        eprintln!("skipped: {} not installed", WIDEBAND.packages);
        return;
    }
    let c = Corpus::load_at(&sel, Split::Test, Some(6), 16_000).unwrap();
    assert!(c.summary.iter().all(|s| s.pinned && s.split == "test" && s.rate == 16_000), "{:?}", c.summary);
    assert!(c.speech_files.iter().all(|(r, _)| r.ends_with(".g722") && split_of(&split_key(r)) == Split::Test));
    assert!(c.noise_files.iter().all(|(r, _)| !manifest::is_macroform(r)) && !c.noise_files.is_empty());
    assert!(c.summary[0].to_string().contains("manifest-16k.tsv"), "{}", c.summary[0]);
}
