//! The corpus split: each file goes to train, validation or test by a stable hash of its path
//! relative to the corpus root, so the split is the same on every machine and in every release.

/// Which part of the corpus a file belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    Train,
    Val,
    Test,
}

/// FNV-1a, 64 bit.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3))
}

/// 80% train, 10% validation, 10% test: `fnv1a(rel_path) % 100` in 0..80, 80..90, 90..100.
/// `rel_path` uses `/` as separator.
pub fn split_of(rel_path: &str) -> Split {
    match fnv1a(rel_path.as_bytes()) % 100 {
        0..=79 => Split::Train,
        80..=89 => Split::Val,
        _ => Split::Test,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_reference_values() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn split_by_hash_modulo_100() {
        // fnv1a("en/6.wav") % 100 = 35, "en/1.wav" → 86, "a" → 96.
        assert_eq!(split_of("en/6.wav"), Split::Train);
        assert_eq!(split_of("en/1.wav"), Split::Val);
        assert_eq!(split_of("a"), Split::Test);
    }

    #[test]
    fn split_is_stable_and_roughly_80_10_10() {
        let n = 10_000;
        let mut c = [0usize; 3];
        for i in 0..n {
            match split_of(&format!("en/file-{i}.wav")) {
                Split::Train => c[0] += 1,
                Split::Val => c[1] += 1,
                Split::Test => c[2] += 1,
            }
        }
        assert!(c[0] > 7700 && c[0] < 8300 && c[1] > 800 && c[2] > 800, "{c:?}");
    }
}
