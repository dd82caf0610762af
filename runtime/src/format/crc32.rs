//! The blob's CRC-32 (CRC-32/ISO-HDLC: reflected polynomial 0xEDB88320, initial value and final
//! XOR all ones) over the pieces a version covers ([`crc32_of`]).
//!
//! On bare-metal targets four bits at a time from a 64-byte table: the checksum runs once per
//! parse, where flash counts for more than time (two table steps, about 8 Cortex-M4 instructions
//! per byte: an estimated 2–3 ms for a 20 KB blob at 100 MHz), and the `crc` crate's bit-by-bit
//! code is larger than this table and loop together.
//! Elsewhere the crate's 1 KiB table, for the tests that parse blobs by the hundred thousand.
//! The same checksum either way (tested against the crate below).

/// The algorithm, one definition for both implementations (the crate's catalogue entry).
const ALGORITHM: crc::Algorithm<u32> = crc::CRC_32_ISO_HDLC;
/// Its polynomial, bit-reversed (the algorithm is reflected: LSB first).
const POLY: u32 = ALGORITHM.poly.reverse_bits();
const _: () = assert!(ALGORITHM.refin && ALGORITHM.refout, "the nibble code is for a reflected CRC");

/// `NIBBLE[n]`: the register after shifting the 4-bit value `n` out of it.
#[cfg_attr(not(any(target_os = "none", test)), allow(dead_code))]
#[allow(clippy::indexing_slicing)] // a const: an out-of-range index fails the build, not the chip
const NIBBLE: [u32; 16] = {
    let mut t = [0u32; 16];
    let mut n = 0;
    while n < 16 {
        let mut c = n as u32;
        let mut k = 0;
        while k < 4 {
            c = if c & 1 == 1 { (c >> 1) ^ POLY } else { c >> 1 };
            k += 1;
        }
        t[n] = c;
        n += 1;
    }
    t
};

/// The CRC register after `bytes`, four bits at a time.
#[cfg_attr(not(any(target_os = "none", test)), allow(dead_code))]
fn update_nibbles(mut c: u32, bytes: &[u8]) -> u32 {
    for &b in bytes {
        c ^= u32::from(b);
        for _ in 0..2 {
            c = (c >> 4) ^ NIBBLE.get((c & 15) as usize).copied().unwrap_or(0);
        }
    }
    c
}

/// The CRC-32 of the concatenation of `parts`, four bits at a time.
#[cfg_attr(not(any(target_os = "none", test)), allow(dead_code))]
fn crc32_by_nibbles(parts: &[&[u8]]) -> u32 {
    parts.iter().fold(ALGORITHM.init, |c, p| update_nibbles(c, p)) ^ ALGORITHM.xorout
}

/// The CRC-32 of the concatenation of `parts`.
#[cfg(target_os = "none")]
pub(super) fn crc32_of(parts: &[&[u8]]) -> u32 {
    crc32_by_nibbles(parts)
}

/// The CRC-32 of the concatenation of `parts`.
#[cfg(not(target_os = "none"))]
pub(super) fn crc32_of(parts: &[&[u8]]) -> u32 {
    const CRC: crc::Crc<u32, crc::Table<1>> = crc::Crc::<u32, crc::Table<1>>::new(&ALGORITHM);
    let mut d = CRC.digest();
    for p in parts {
        d.update(p);
    }
    d.finalize()
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;

    /// The bare-metal nibble code against the crate's table on the check string and on random
    /// pieces of every length up to 300 bytes.
    #[test]
    fn nibbles_equal_the_crate() {
        let nibbles = crc32_by_nibbles;
        assert_eq!(nibbles(&[b"123456789"]), ALGORITHM.check);
        let mut s = 0x2545_F491_u32;
        let bytes: std::vec::Vec<u8> = (0..300)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                s as u8
            })
            .collect();
        for n in 0..bytes.len() {
            let (a, b) = bytes[..n].split_at(n / 3);
            assert_eq!(nibbles(&[a, b]), crc32_of(&[a, b]), "{n} bytes");
        }
    }
}
