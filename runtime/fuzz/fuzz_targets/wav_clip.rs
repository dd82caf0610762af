//! Fuzz target: the firmware's no_std WAV reader (`demo_core::Clip`, built for the host as
//! host-tests builds it) on arbitrary bytes. Nothing may panic; a clip it accepts holds a whole,
//! non-empty number of samples, all inside the input, and yields exactly that many.
#![no_main]

use demo_core::Clip;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(clip) = Clip::parse(data) else { return };
    assert!(!clip.is_empty() && 2 * clip.len() + 44 <= data.len());
    assert_eq!(clip.samples().count(), clip.len());
});
