//! Fuzz target: `Model::parse` on arbitrary bytes, then, for whatever parses, a few streaming
//! steps on both paths and the caller-error paths (`runtime_fuzz::exercise`).
//!
//! Each input is tried twice: as is, and with `total_len` and the CRC rewritten to match, so
//! mutations of the seed blobs get past the checksum and exercise the validator itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use runtime_fuzz::{exercise, fix_len_crc};

fuzz_target!(|data: &[u8]| {
    exercise(data);
    if data.len() >= 16 {
        let mut fixed = data.to_vec();
        fix_len_crc(&mut fixed);
        exercise(&fixed);
    }
});
