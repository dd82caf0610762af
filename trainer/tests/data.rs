//! The data options: which files a split uses (`--split`), which noise kinds are mixed in
//! (`--noise-kinds`), the summary of what was loaded, conversions, and the test-set fingerprint.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use trainer::data::{self, split_of, Corpus, DataSel, Split, SplitMode};
use trainer::noise::NoiseType;

fn sel(c: &common::Corpus) -> DataSel {
    DataSel::dirs(&c.speech, &c.noise)
}

/// Two noise names that both hash to the training side (neither named `macroform-*`).
fn train_side_names() -> Vec<String> {
    (0..).map(|k| format!("track-{k}.wav")).filter(|n| split_of(n) != Split::Test).take(2).collect()
}

#[test]
fn split_all_uses_every_file_and_the_summary_counts_them() {
    let c = common::make("data-all");
    let names: Vec<String> = std::fs::read_dir(c.speech.join("en"))
        .unwrap()
        .map(|e| format!("en/{}", e.unwrap().file_name().to_string_lossy()))
        .collect();
    let n_test = names.iter().filter(|n| split_of(n) == Split::Test).count();
    assert!(n_test > 0 && n_test < names.len());
    let test = Corpus::load(&sel(&c), Split::Test, None).unwrap();
    let (sp, nz) = (&test.summary[0], &test.summary[1]);
    assert_eq!((sp.split, sp.files, sp.listed, sp.pinned), ("test", n_test, names.len(), false));
    assert_eq!((nz.split, nz.files, nz.listed), ("test", 1, 2));
    assert!(test.speech_files.iter().all(|(r, _)| split_of(r) == Split::Test));
    assert_eq!(test.noise_files[0].0, "other-synth.wav");
    assert!(sp.seconds > n_test as f64 && sp.to_string().contains(&format!("{n_test} files")), "{sp}");

    let all = DataSel { split: SplitMode::All, ..sel(&c) };
    let every = Corpus::load(&all, Split::Test, None).unwrap();
    assert_eq!((every.summary[0].files, every.summary[1].files, every.summary[0].split), (names.len(), 2, "all"));
    let all_of = format!("(all of {} listed", names.len());
    assert!(every.summary[0].to_string().contains(&all_of), "{}", every.summary[0]);
}

#[test]
fn noise_tracks_that_all_hash_to_training_are_an_error_not_a_fallback() {
    let c = common::make("data-noise");
    for e in std::fs::read_dir(&c.noise).unwrap() {
        std::fs::remove_file(e.unwrap().path()).unwrap();
    }
    let track: Vec<f32> = (0..16000).map(|i| ((i * 7919) % 200) as f32 / 400.0 - 0.25).collect();
    for n in train_side_names() {
        trainer::audio::write_wav(&c.noise.join(n), &track).unwrap();
    }
    let e = Corpus::load(&sel(&c), Split::Test, None).err().unwrap().to_string();
    assert!(e.contains("no noise track of the test side") && e.contains("--split all"), "{e}");
    // the training side has both tracks
    assert_eq!(Corpus::load(&sel(&c), Split::Train, None).unwrap().noise.len(), 2);
    // every track with --split all
    let all = DataSel { split: SplitMode::All, ..sel(&c) };
    assert_eq!(Corpus::load(&all, Split::Test, None).unwrap().noise.len(), 2);
    // or no recorded noise at all: the noise directory is not used
    let synth = DataSel { kinds: vec![NoiseType::White, NoiseType::Hum], ..sel(&c) };
    let corpus = Corpus::load(&synth, Split::Test, None).unwrap();
    assert!(corpus.noise.is_empty() && corpus.summary[1].split == "unused");
    let kinds: Vec<NoiseType> = data::test_set(&corpus, 10, 0.5, 1).iter().map(|m| m.noise).collect();
    assert!(kinds.iter().all(|k| [NoiseType::White, NoiseType::Hum].contains(k)), "{kinds:?}");
    assert!(kinds.contains(&NoiseType::White) && kinds.contains(&NoiseType::Hum));
}

#[test]
fn a_split_with_no_speech_file_is_an_error_that_says_why() {
    let c = common::make("data-empty");
    let dir = c.root.join("one");
    std::fs::create_dir_all(&dir).unwrap();
    let name = (0..).map(|k| format!("u{k}.wav")).find(|n| split_of(n) == Split::Train).unwrap();
    trainer::audio::write_wav(&dir.join(&name), &vec![0.1; 8000]).unwrap();
    let s = DataSel::dirs(&dir, &c.noise);
    let e = Corpus::load(&s, Split::Test, None).err().unwrap().to_string();
    assert!(e.contains("no speech file of the test split") && e.contains("--split all"), "{e}");
    let every = Corpus::load(&DataSel { split: SplitMode::All, ..s }, Split::Test, None).unwrap();
    assert_eq!(every.speech.len(), 1);
}

#[test]
fn files_at_other_rates_and_channel_counts_are_converted_and_counted() {
    let c = common::make("data-convert");
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 16000,
        bits_per_sample: 24,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(c.speech.join("en/stereo-16k.wav"), spec).unwrap();
    for i in 0..32000 {
        let v = (0.3 * (i as f32 * 0.05).sin() * 8_388_607.0) as i32;
        w.write_sample(v).unwrap();
        w.write_sample(v).unwrap();
    }
    w.finalize().unwrap();
    let all = DataSel { split: SplitMode::All, ..sel(&c) };
    let corpus = Corpus::load(&all, Split::Train, None).unwrap();
    let s = &corpus.summary[0];
    assert_eq!(s.converted, 1);
    assert_eq!(s.first_conversion.as_deref(), Some("16000 Hz stereo → 8000 Hz mono (channels averaged) (resampled)"));
    assert!(s.to_string().contains("1 converted"), "{s}");
    let k = corpus.speech_files.iter().position(|(r, _)| r == "en/stereo-16k.wav").unwrap();
    assert_eq!(corpus.speech[k].len(), 16000);
}

#[test]
fn the_fingerprint_follows_the_files_and_the_seed() {
    let c = common::make("data-fp");
    let fp = |seed: u64| {
        let corpus = Corpus::load(&sel(&c), Split::Test, None).unwrap();
        data::test_set_fingerprint(&corpus, 2, 1.0, seed)
    };
    let a = fp(1);
    assert_eq!(a.len(), 16);
    assert_eq!(a, fp(1));
    assert_ne!(a, fp(2));
    // a test file with other content changes it
    let corpus = Corpus::load(&sel(&c), Split::Test, None).unwrap();
    let rel = &corpus.speech_files[0].0;
    trainer::audio::write_wav(&c.speech.join(rel), &vec![0.2; 9000]).unwrap();
    assert_ne!(a, fp(1));
}
