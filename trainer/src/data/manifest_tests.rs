use super::*;

#[test]
fn the_built_in_manifests_pin_todays_split_and_no_other_language() {
    for corpus in [NARROWBAND, WIDEBAND] {
        let all = parse(corpus.text).unwrap();
        let speech: Vec<&Entry> = all.iter().filter(|e| e.source == Source::Speech).collect();
        let noise: Vec<&Entry> = all.iter().filter(|e| e.source == Source::Noise).collect();
        assert!(
            speech.len() > 1000 && noise.len() >= 2,
            "{}: {} speech, {} noise",
            corpus.path,
            speech.len(),
            noise.len()
        );
        for e in &speech {
            assert_eq!(e.split, split_of(&split_key(&e.path)), "{}", e.path);
            assert!(SPEECH_FOLDERS.iter().any(|f| e.path.starts_with(&format!("{f}/"))), "{}", e.path);
        }
        let both = has_both_sides(noise.iter().map(|e| e.path.as_str()));
        for e in &noise {
            assert_eq!(e.split, noise_side(&e.path, both), "{}", e.path);
        }
        for e in speech.iter().chain(&noise) {
            assert!(e.path.ends_with(&format!(".{}", corpus.ext)), "{}: {}", corpus.path, e.path);
        }
        for side in [Split::Train, Split::Test] {
            assert!(noise.iter().any(|e| e.split == side), "no noise track of the {side:?} side");
        }
        for split in [Split::Train, Split::Val, Split::Test] {
            assert!(speech.iter().any(|e| e.split == split), "no speech file of the {split:?} split");
        }
    }
}

#[test]
fn both_rates_pin_the_same_prompts_and_tracks_in_the_same_splits() {
    let key = |c: &Pinned| -> Vec<(Source, String, Split)> {
        let mut v: Vec<_> =
            parse(c.text).unwrap().into_iter().map(|e| (e.source, split_key(&e.path), e.split)).collect();
        v.sort_by(|a, b| (a.0.name(), &a.1).cmp(&(b.0.name(), &b.1)));
        v
    };
    assert_eq!(key(&WIDEBAND), key(&NARROWBAND));
    assert_eq!(split_key("en/a-b.g722"), "en/a-b.wav");
    assert_eq!(split_key("en/a.WAV"), "en/a.WAV");
    assert_eq!(Pinned::for_rate(16_000).unwrap(), WIDEBAND);
    assert_eq!(Pinned::for_rate(8000).unwrap(), NARROWBAND);
    let e = Pinned::for_rate(44_100).unwrap_err().to_string();
    assert!(e.contains("44100") && e.contains("manifest-16k.tsv"), "{e}");
}

#[test]
fn manifest_lines_round_trip_and_bad_lines_are_named() {
    let text = "# comment\nspeech\ten/a.wav\t12\t00000000000000ff\ttest\nnoise\tm.wav\t3\tab\ttrain\n";
    let e = parse(text).unwrap();
    assert_eq!(
        e[0],
        Entry { source: Source::Speech, path: "en/a.wav".into(), bytes: 12, hash: 255, split: Split::Test }
    );
    assert_eq!((e[1].source, e[1].hash, e[1].split), (Source::Noise, 0xab, Split::Train));
    let err = parse("speech\ta.wav\t12\tzz\ttest\n").unwrap_err().to_string();
    assert!(err.contains("line 1") && err.contains("hash"), "{err}");
    let err = parse("speech\ta.wav\t12\n").unwrap_err().to_string();
    assert!(err.contains("5 tab-separated"), "{err}");
    let err = parse("speech\ta.wav\t12\t1\tdev\n").unwrap_err().to_string();
    assert!(err.contains("dev"), "{err}");
}

#[test]
fn noise_sides_follow_the_names_then_the_hash() {
    assert!(has_both_sides(["macroform-a.wav", "other.wav"].into_iter()));
    assert_eq!(noise_side("macroform-a.wav", true), Split::Train);
    assert_eq!(noise_side("sub/other.wav", true), Split::Test);
    assert!(!has_both_sides(["x.wav", "y.wav"].into_iter()));
    // without both kinds of names: not the test split of the hash = train side
    assert_eq!(noise_side("a", false), Split::Test); // split_of("a") is Test
    assert_eq!(noise_side("en/6.wav", false), Split::Train);
}

#[test]
fn the_installed_packages_match_the_built_in_manifests() {
    let (speech, noise) = (Path::new(DEFAULT_SPEECH), Path::new(DEFAULT_NOISE));
    for corpus in [NARROWBAND, WIDEBAND] {
        let first = parse(corpus.text).unwrap().into_iter().next().unwrap();
        if !speech.join(&first.path).is_file() {
            eprintln!("skipped: {} not installed", corpus.packages);
            continue;
        }
        // what `trainer data-manifest` would write today is what the trainer was built with
        assert_eq!(parse(&build(&corpus, speech, noise).unwrap()).unwrap(), parse(corpus.text).unwrap());
    }
}
