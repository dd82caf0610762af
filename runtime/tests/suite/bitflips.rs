//! Corrupted shipped blobs: every single-bit flip of the shipped models (`models/gru16k.dqem`,
//! `models/conv8k.dqem`) and of the golden blobs (versions 1, 3, 4 and 5), and every value of
//! each of header bytes 0..16 (which the CRC of versions 1–4 does not cover), is rejected by
//! `Model::parse` with the error of the check that protects that byte (FORMAT.md, "What each
//! check protects").

use diffq_runtime::format::{CRC_START, GRAPH_VERSION, MIN_VERSION, VERSION};
use diffq_runtime::{Error, Model, Part};
use std::collections::BTreeMap;

const DIR: &str = env!("CARGO_MANIFEST_DIR");

fn read(path: &str) -> Vec<u8> {
    std::fs::read(format!("{DIR}/{path}")).unwrap()
}

/// The shipped blobs: the two shipped models and the golden blobs of each format version.
fn shipped() -> Vec<(&'static str, Vec<u8>)> {
    [
        "../models/conv8k.dqem",
        "tests/golden/v1_small.bin",
        "tests/golden/v3_small.bin",
        "tests/golden/v4_small.bin",
        "tests/golden/v5_small.bin",
        "../models/gru16k.dqem",
    ]
    .into_iter()
    .map(|p| (p, read(p)))
    .collect()
}

/// The variant's name (`Checksum` of `Checksum { .. }`).
fn variant(e: &Error) -> String {
    format!("{e:?}").chars().take_while(|c| c.is_alphanumeric()).collect()
}

/// The checks that may catch a flip of `bit` of byte `at`: each field before the CRC has its
/// own; a version this runtime reads is cross-checked against the contents (a version 1–4
/// blob's) or changes the CRC the parser checks (to or from version 5); the CRC catches every
/// flip of the bytes it covers (version 5: all but its own, and it catches those too).
fn expected(blob: &[u8], at: usize, bit: usize) -> &'static [&'static str] {
    let graph = u16::from_le_bytes([blob[4], blob[5]]) >= GRAPH_VERSION;
    match at {
        0..4 => &["BadMagic"],
        4..6 => {
            let mut v = [blob[4], blob[5]];
            v[at - 4] ^= 1 << bit;
            let v = u16::from_le_bytes(v);
            if !(MIN_VERSION..=VERSION).contains(&v) {
                &["UnsupportedVersion"]
            } else if graph || v >= GRAPH_VERSION {
                &["Checksum"]
            } else {
                &["VersionMismatch", "RegionsMismatch"]
            }
        }
        6 if bit == 0 && graph => &["Checksum"],
        6 if bit == 0 => &["FlagMismatch"],
        6..8 => &["UnknownFlags"],
        8..12 => &["LengthMismatch"],
        _ => &["Checksum"],
    }
}

/// Flips every bit of `blob` once: counts the errors by variant, lists the flips that parsed
/// and those rejected by another check than [`expected`].
fn sweep(blob: &[u8]) -> (BTreeMap<String, usize>, Vec<String>, Vec<String>) {
    let (mut counts, mut parsed, mut unexpected) = (BTreeMap::new(), Vec::new(), Vec::new());
    let mut f = blob.to_vec();
    for at in 0..blob.len() {
        for bit in 0..8 {
            f[at] ^= 1 << bit;
            match Model::parse(&f) {
                Ok(_) => parsed.push(format!("byte {at} bit {bit}: {:#04x} -> {:#04x}", blob[at], f[at])),
                Err(e) => {
                    let v = variant(&e);
                    if !expected(blob, at, bit).contains(&v.as_str()) {
                        unexpected.push(format!("byte {at} bit {bit}: {e:?}"));
                    }
                    *counts.entry(v).or_insert(0) += 1;
                }
            }
            f[at] ^= 1 << bit;
        }
    }
    (counts, parsed, unexpected)
}

/// (19,599 + 21,523) × 8 parses of the shipped models (about 2 s with the test profile's opt-level 1).
#[test]
fn every_bit_flip_of_the_shipped_blobs_is_rejected() {
    let mut failures = Vec::new();
    for (name, blob) in shipped() {
        Model::parse(&blob).unwrap();
        let t = std::time::Instant::now();
        let (counts, parsed, unexpected) = sweep(&blob);
        let n: usize = counts.values().sum::<usize>() + parsed.len();
        eprintln!("{name}: {n} flips in {:.1?}, rejected by {counts:?}", t.elapsed());
        assert_eq!(n, 8 * blob.len());
        if !parsed.is_empty() {
            failures.push(format!("{name}: {} flips parsed: {parsed:#?}", parsed.len()));
        }
        if !unexpected.is_empty() {
            failures.push(format!("{name}: caught by another check than expected: {unexpected:#?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The bytes the CRC does not cover, each set to every other value (the CRC left as stored):
/// a changed version, flag, length or checksum never yields a blob that parses.
#[test]
fn every_value_of_the_unchecksummed_header_bytes_is_rejected() {
    let mut failures = Vec::new();
    for (name, blob) in shipped() {
        let mut parsed = Vec::new();
        for at in 0..CRC_START {
            for v in 0..=255u8 {
                let mut f = blob.clone();
                if v == blob[at] {
                    continue;
                }
                f[at] = v;
                if Model::parse(&f).is_ok() {
                    parsed.push(format!("byte {at}: {:#04x} -> {v:#04x}", blob[at]));
                }
            }
        }
        if !parsed.is_empty() {
            failures.push(format!("{name}: {parsed:#?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `blob` with the 16-bit header field at `at` set to `v` (the CRC does not cover it).
fn with_u16(blob: &[u8], at: usize, v: u16) -> Vec<u8> {
    let mut f = blob.to_vec();
    f[at..at + 2].copy_from_slice(&v.to_le_bytes());
    f
}

/// A version or flag that disagrees with the contents is rejected with the error that names it,
/// at the first part where the disagreement shows.
#[test]
fn version_and_flag_disagreements_name_what_disagrees() {
    let blobs = shipped();
    let (conv8k, v1) = (&blobs[0].1, &blobs[1].1);
    let no_int = std::fs::read(format!("{DIR}/fuzz/seeds/parse_and_step/plain_f32_f16.bin")).unwrap();
    assert_eq!((no_int[4], no_int[6]), (1, 0));
    let vm = |version, part| Error::VersionMismatch { version, part };
    let m = Model::parse(v1).unwrap();
    let v1_area = (v1.len() - m.header().data_start()) as u32;
    let weighted = (0..m.n_layers()).map(|i| m.layer(i).unwrap()).filter(|l| l.op.has_weights());
    let v1_int_outputs: u32 = weighted.map(|l| u32::from(l.out_len)).sum();
    let cases = [
        // v4 → v3: no bias tensors, but nonzero bias constants (the f32 path would drop them).
        (with_u16(conv8k, 4, 3), vm(3, Part::Layer(0))),
        (with_u16(conv8k, 4, 2), vm(2, Part::Layer(0))),
        (with_u16(v1, 4, 2), vm(2, Part::TensorTable)),
        // v1 → v3: the i64 constants (8 bytes per output) read as i16 ones (2 bytes).
        (with_u16(v1, 4, 3), Error::RegionsMismatch { regions: v1_area - 6 * v1_int_outputs, area: v1_area }),
        (with_u16(&no_int, 4, 3), vm(3, Part::Header)),
        (with_u16(&no_int, 4, 4), vm(4, Part::Header)),
        (with_u16(conv8k, 6, 0), Error::FlagMismatch(Part::Header)),
        (with_u16(&no_int, 6, 1), Error::FlagMismatch(Part::Header)),
        (with_u16(conv8k, 6, 3), Error::UnknownFlags(3)),
        (with_u16(&no_int, 6, 0x8000), Error::UnknownFlags(0x8000)),
    ];
    for (i, (blob, want)) in cases.iter().enumerate() {
        let got = Model::parse(blob).unwrap_err();
        assert_eq!(&got, want, "case {i}");
    }
}
