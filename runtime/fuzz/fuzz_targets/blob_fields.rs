//! Fuzz target with a field-aware mutator: each mutation rewrites one field of the header, of a
//! tensor or layer entry, or of a layer's integer constants, with a value chosen near the
//! field's limits (or, one time in four, is libFuzzer's own byte mutation), then rewrites
//! `total_len` and the CRC. Every input the target sees is thus a blob whose checksum holds and
//! whose fields are mostly valid: the mutations reach the structural checks and the executor.
#![no_main]

use libfuzzer_sys::{fuzz_mutator, fuzz_target, fuzzer_mutate};
use runtime_fuzz::{exercise, fields, fix_len_crc};

fuzz_target!(|data: &[u8]| exercise(data));

fuzz_mutator!(|data: &mut [u8], size: usize, max_size: usize, seed: u32| {
    let mut rng = fields::Rng::new(seed);
    let size = if rng.below(4) == 0 || size < runtime::format::HEADER_LEN {
        fuzzer_mutate(data, size, max_size)
    } else {
        for _ in 0..=rng.below(3) {
            fields::edit(&mut data[..size], &mut rng);
        }
        size
    };
    fix_len_crc(&mut data[..size]);
    size
});
