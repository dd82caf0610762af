use super::*;
use crate::data::manifest::{build, parse, SPEECH_FOLDERS};

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
    let text = build(&speech, &noise).unwrap();
    let sp = pins(&text, Source::Speech);
    assert_eq!(sp.len(), 3, "the French folder is not part of the pinned set");
    assert_eq!(pins(&text, Source::Noise).len(), 2);
    let found = list_wavs(&speech, "--speech").unwrap();
    let l = pinned_listing(&speech, Source::Speech, &found, &sp).unwrap();
    assert_eq!((l.files.len(), l.unlisted, l.pinned), (3, 1, true));
    assert!(l.files.iter().all(|f| !f.rel.starts_with("fr_")));
    for f in &l.files {
        assert_eq!(f.split, split_of(&f.rel));
        load_file(f).unwrap();
    }

    // same size, other content: the load names the file and the manifest
    let victim = speech.join("it_IT_m_Carlo/a.wav");
    let mut bytes = std::fs::read(&victim).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x55;
    std::fs::write(&victim, &bytes).unwrap();
    let l = pinned_listing(&speech, Source::Speech, &found, &sp).unwrap();
    let f = l.files.iter().find(|f| f.rel == "it_IT_m_Carlo/a.wav").unwrap();
    let e = load_file(f).err().unwrap().to_string();
    assert!(e.contains("it_IT_m_Carlo/a.wav") && e.contains(MANIFEST_PATH) && e.contains("hash"), "{e}");
    // another size, or gone: the listing names it
    std::fs::write(&victim, &bytes[..100]).unwrap();
    let e = pinned_listing(&speech, Source::Speech, &found, &sp).err().unwrap().to_string();
    assert!(e.contains("it_IT_m_Carlo/a.wav") && e.contains("100 bytes"), "{e}");
    std::fs::remove_file(&victim).unwrap();
    let e = pinned_listing(&speech, Source::Speech, &found, &sp).err().unwrap().to_string();
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
    assert_eq!(unused_noise(Path::new("/n")).to_string(), "noise: not used (--noise-kinds without recorded)");
}

#[test]
fn the_default_directories_load_the_pinned_test_split() {
    let sel = DataSel::dirs(Path::new(crate::data::DEFAULT_SPEECH), Path::new(crate::data::DEFAULT_NOISE));
    if !sel.speech.is_dir() || !sel.noise.is_dir() {
        eprintln!("skipped: the Asterisk sound packages are not installed");
        return;
    }
    let c = Corpus::load(&sel, Split::Test, Some(10)).unwrap();
    let pinned_test = crate::data::manifest::pinned(Source::Speech)
        .unwrap()
        .into_iter()
        .filter(|e| e.split == Split::Test)
        .map(|e| e.path)
        .collect::<HashSet<_>>();
    assert!(c.summary.iter().all(|s| s.pinned && s.split == "test"), "{:?}", c.summary);
    assert!(c.speech_files.iter().all(|(r, _)| pinned_test.contains(r)));
    assert!(c.noise_files.iter().all(|(r, _)| !manifest::is_macroform(r)) && !c.noise_files.is_empty());
}
