//! The firmware's no_std WAV reader (`demo_core::Clip`) and the host tools' (`audio_tools`, on
//! hound) agree on a corpus of odd files: whenever one of them accepts a file, the other either
//! reads the very same samples or refuses it too. (The firmware is stricter on the format: it
//! plays 16-bit mono 8 kHz PCM only.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // tests

use demo_core::{Clip, WavError};

fn chunk(id: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut c = id.to_vec();
    c.extend_from_slice(&(body.len() as u32).to_le_bytes());
    c.extend_from_slice(body);
    if body.len() % 2 == 1 {
        c.push(0); // RIFF pad byte
    }
    c
}

fn fmt(rate: u32, channels: u16, bits: u16) -> Vec<u8> {
    let align = channels * bits / 8;
    let mut b = Vec::new();
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&channels.to_le_bytes());
    b.extend_from_slice(&rate.to_le_bytes());
    b.extend_from_slice(&(rate * u32::from(align)).to_le_bytes());
    b.extend_from_slice(&align.to_le_bytes());
    b.extend_from_slice(&bits.to_le_bytes());
    chunk(b"fmt ", &b)
}

fn pcm(samples: &[i16]) -> Vec<u8> {
    samples.iter().flat_map(|s| s.to_le_bytes()).collect()
}

fn riff(chunks: &[Vec<u8>]) -> Vec<u8> {
    let body: Vec<u8> = chunks.concat();
    let mut f = b"RIFF".to_vec();
    f.extend_from_slice(&(body.len() as u32 + 4).to_le_bytes());
    f.extend_from_slice(b"WAVE");
    f.extend_from_slice(&body);
    f
}

fn host_samples(dir: &std::path::Path, name: &str, bytes: &[u8]) -> Option<Vec<i16>> {
    let path = dir.join(format!("{}.wav", name.replace(' ', "_")));
    std::fs::write(&path, bytes).unwrap();
    audio_tools::read_i16(&path, 8000).ok()
}

/// (name, file) pairs covering the chunk layouts both readers must handle alike.
fn corpus() -> Vec<(&'static str, Vec<u8>)> {
    let a = pcm(&[1, -2, 300, -32768, 32767, 0]);
    let b = pcm(&[9, 9, 9]);
    let f = fmt(8000, 1, 16);
    let mut truncated = riff(&[f.clone(), chunk(b"data", &a)]);
    truncated.truncate(truncated.len() - 3);
    let mut long_riff = riff(&[f.clone(), chunk(b"data", &a)]);
    long_riff[4..8].copy_from_slice(&1_000_000u32.to_le_bytes());
    vec![
        ("plain", riff(&[f.clone(), chunk(b"data", &a)])),
        (
            "list before fmt and before data",
            riff(&[chunk(b"LIST", b"INFOabcd"), f.clone(), chunk(b"LIST", &[7; 6]), chunk(b"data", &a)]),
        ),
        ("fact chunk", riff(&[f.clone(), chunk(b"fact", &6u32.to_le_bytes()), chunk(b"data", &a)])),
        ("two data chunks", riff(&[f.clone(), chunk(b"data", &a), chunk(b"data", &b)])),
        ("odd chunk after data", riff(&[f.clone(), chunk(b"data", &a), chunk(b"junk", &[1, 2, 3])])),
        ("odd chunk before data", riff(&[f.clone(), chunk(b"junk", &[1, 2, 3]), chunk(b"data", &a)])),
        ("odd data length", riff(&[f.clone(), chunk(b"data", &[1, 2, 3])])),
        ("empty data", riff(&[f.clone(), chunk(b"data", &[])])),
        ("data before fmt", riff(&[chunk(b"data", &a), f.clone()])),
        ("no data", riff(&[f.clone(), chunk(b"LIST", b"INFO")])),
        ("no fmt", riff(&[chunk(b"data", &a)])),
        ("truncated data", truncated),
        ("RIFF size past the end", long_riff),
        ("stereo", riff(&[fmt(8000, 2, 16), chunk(b"data", &a)])),
        ("16 kHz", riff(&[fmt(16000, 1, 16), chunk(b"data", &a)])),
        ("not RIFF", b"RIFX\0\0\0\0WAVE".to_vec()),
        ("too short", b"RIFF".to_vec()),
    ]
}

#[test]
fn firmware_and_host_readers_agree() {
    let dir = tempfile::tempdir().unwrap();
    let mut both = 0;
    for (name, file) in corpus() {
        let chip = Clip::parse(&file).map(|c| c.samples().collect::<Vec<i16>>()).ok();
        let host = host_samples(dir.path(), name, &file);
        match (&chip, &host) {
            (Some(c), Some(h)) => {
                assert_eq!(c, h, "{name}: the readers play different samples");
                both += 1;
            }
            (Some(_), None) => panic!("{name}: the firmware plays a file the host refuses"),
            (None, Some(_)) => panic!("{name}: the host plays a file the firmware refuses"),
            (None, None) => {}
        }
    }
    assert_eq!(both, 6, "files both readers accept");
}

#[test]
fn the_first_data_chunk_plays_and_odd_files_give_their_reason() {
    let files: std::collections::HashMap<_, _> = corpus().into_iter().collect();
    let first = Clip::parse(&files["two data chunks"]).unwrap();
    assert_eq!(first.samples().collect::<Vec<_>>(), vec![1, -2, 300, -32768, 32767, 0]);
    assert!(matches!(Clip::parse(&files["odd chunk before data"]), Err(WavError::OddChunk { len: 3, .. })));
    assert!(matches!(Clip::parse(&files["odd data length"]), Err(WavError::BadData(3))));
    assert!(matches!(Clip::parse(&files["empty data"]), Err(WavError::BadData(0))));
    assert!(matches!(Clip::parse(&files["data before fmt"]), Err(WavError::MissingChunk("fmt "))));
    assert!(matches!(Clip::parse(&files["no data"]), Err(WavError::MissingChunk("data"))));
    assert!(matches!(Clip::parse(&files["truncated data"]), Err(WavError::Truncated { .. })));
    assert!(matches!(Clip::parse(&files["stereo"]), Err(WavError::Unsupported { channels: 2, .. })));
    assert!(Clip::parse(&files["odd chunk after data"]).is_ok());
    // hound alone would read this file's data one byte off; the host tools refuse it too.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("odd.wav");
    std::fs::write(&path, &files["odd chunk before data"]).unwrap();
    let e = audio_tools::read_i16(&path, 8000).unwrap_err();
    assert!(matches!(e, audio_tools::WavError::OddChunk { len: 3, .. }), "{e}");
    assert!(Clip::parse(&files["RIFF size past the end"]).is_ok());
}
