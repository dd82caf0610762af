//! `simd-test`: `diffq-simd32`'s functions, the Armv7E-M assembly on the M4 and M7 builds (its
//! portable code elsewhere), against its portable code on edge cases and random inputs.

use qemu_support::semihosting;

use diffq_simd32::{
    halves_pairs_w1_i8, halves_pairs_w2_i8, halves_pairs_w4_i8, halves_rows2_w1_i8, halves_rows2_w2_i8,
    halves_rows2_w4_i8, lane_run_w2_i8, lane_run_w3_i8, lane_run_w4_i8, portable, radix4_dif_i32, radix4_dit_i32,
    smlad, sum_i8, sxtb16, sxtb16_ror8, Cpx, Twiddle, Twiddle3, NATIVE,
};

/// Inputs checked after the edge cases.
const RANDOM: u32 = 100_000;
/// Random runs of lane-pair blocks checked at each width.
const BLOCKS: u32 = 2_000;
/// Random blocks of row pairs checked at each width (1, 2, 4 bits).
const PAIRS: u32 = 600;
/// Random runs of int8 values summed (lengths 0–99 from starts 0–3).
const SUMS: u32 = 800;
/// Random 256-point buffers each radix-4 pass (both directions, `Q` = 4, 16, 64) is checked on.
const PASSES: u32 = 40;

/// Where the assembly and the portable code first disagree.
pub enum Mismatch {
    /// The single instructions, at these `(a, b, acc)`.
    Dual(u32, u32, i32),
    /// The run of lane-pair blocks of this width, in this round.
    Block { bits: u32, round: u32 },
    /// The row pairs of this width, in this round.
    Halves { bits: u32, round: u32 },
    /// The sum of int8 values, in this round.
    Sum { round: u32 },
    /// The radix-4 pass of this quarter length (`dif`: decimation in frequency), in this round.
    Radix4 { q: u32, dif: bool, round: u32 },
}

/// The number of inputs and blocks checked, or the first disagreement.
pub fn run() -> Result<u32, Mismatch> {
    let edges = [0, 1, 0x7FFF_7FFF, 0x8000_8000, 0xFFFF_FFFF, 0x8080_8080, 0x7F7F_7F7F, 0x0001_FFFF];
    let mut s = 0x2545_F491u32;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        s
    };
    let mut n = 0;
    let mut check = |a: u32, b: u32, acc: i32| {
        n += 1;
        let same = smlad(a, b, acc) == portable::smlad(a, b, acc)
            && sxtb16(a) == portable::sxtb16(a)
            && sxtb16_ror8(a) == portable::sxtb16(a.rotate_right(8));
        if same {
            Ok(())
        } else {
            Err(Mismatch::Dual(a, b, acc))
        }
    };
    for a in edges {
        for b in edges {
            for acc in [0, i32::MAX, i32::MIN, -1] {
                check(a, b, acc)?;
            }
        }
    }
    for _ in 0..RANDOM {
        let (a, b, acc) = (next(), next(), next() as i32);
        check(a, b, acc)?;
    }
    // Runs of 1–4 lane-pair blocks from a random start: random input pairs (every eighth round
    // all −128) and random level bytes (any bytes are a valid block).
    for round in 0..BLOCKS {
        let xp: [[u32; 16]; 4] =
            core::array::from_fn(|_| core::array::from_fn(|_| if round % 8 == 0 { 0xFF80_FF80 } else { next() }));
        let mut ab = [0u8; 128];
        ab.iter_mut().for_each(|v| *v = next() as u8);
        let (xp, acc) = (xp.get(..1 + round as usize % 4).unwrap_or(&[]), (next() as i32, next() as i32));
        let same = |bits: u32| match bits {
            2 => lane_run_w2_i8(xp, &ab, acc) == portable::lane_run_w2_i8(xp, &ab, acc),
            3 => lane_run_w3_i8(xp, &ab, acc) == portable::lane_run_w3_i8(xp, &ab, acc),
            _ => lane_run_w4_i8(xp, &ab, acc) == portable::lane_run_w4_i8(xp, &ab, acc),
        };
        for bits in 2..=4 {
            if !same(bits) {
                return Err(Mismatch::Block { bits, round });
            }
            n += 1;
        }
    }
    n += halves(&mut next)?;
    n += radix4(&mut next)?;
    n += sums(&mut next)?;
    defmt::info!("simd32 self-test: native assembly {=bool}", NATIVE);
    Ok(n)
}

/// Runs [`run`], logs the outcome and ends the program: status 0 when the assembly and the
/// portable code agree, 1 at the first disagreement (named on stderr).
pub fn run_and_exit() -> ! {
    match run() {
        Ok(n) => defmt::info!("simd32 self-test: {=u32} inputs, assembly and portable code equal", n),
        Err(Mismatch::Dual(a, b, acc)) => {
            defmt::error!("simd32 self-test: differs at a={=u32:#x} b={=u32:#x} acc={=i32}", a, b, acc);
            semihosting::eprintln!("qemu-demo: simd32 self-test failed at a={a:#x} b={b:#x} acc={acc}");
            semihosting::process::exit(1);
        }
        Err(Mismatch::Block { bits, round }) => {
            defmt::error!("simd32 self-test: the {=u32}-bit lane block differs in round {=u32}", bits, round);
            semihosting::eprintln!("qemu-demo: simd32 self-test failed: {bits}-bit lane block, round {round}");
            semihosting::process::exit(1);
        }
        Err(Mismatch::Halves { bits, round }) => {
            defmt::error!("simd32 self-test: the {=u32}-bit row pairs differ in round {=u32}", bits, round);
            semihosting::eprintln!("qemu-demo: simd32 self-test failed: {bits}-bit row pairs, round {round}");
            semihosting::process::exit(1);
        }
        Err(Mismatch::Sum { round }) => {
            defmt::error!("simd32 self-test: the int8 sum differs in round {=u32}", round);
            semihosting::eprintln!("qemu-demo: simd32 self-test failed: int8 sum, round {round}");
            semihosting::process::exit(1);
        }
        Err(Mismatch::Radix4 { q, dif, round }) => {
            defmt::error!(
                "simd32 self-test: the radix-4 pass q={=u32} dif={=bool} differs in round {=u32}",
                q,
                dif,
                round
            );
            semihosting::eprintln!("qemu-demo: simd32 self-test failed: radix-4 pass q={q} dif={dif}, round {round}");
            semihosting::process::exit(1);
        }
    }
    semihosting::process::exit(0);
}

/// Blocks of 1–4 row pairs of 1–4 packed words per row at 1, 2 and 4 bits, and one row pair on
/// its own: random input pairs (every eighth round all −128) and random level bytes, each width
/// against the portable kernels: the number checked, or the first disagreement.
fn halves(next: &mut impl FnMut() -> u32) -> Result<u32, Mismatch> {
    type Kernel = fn(&[u32], &[u8], &mut [[i32; 2]]);
    type Pair = fn(&[u32], &[u8], &[u8]) -> (i32, i32);
    let kernels: [(u32, Kernel, Kernel, Pair, Pair); 3] = [
        (1, halves_pairs_w1_i8, portable::halves_pairs_w1_i8, halves_rows2_w1_i8, portable::halves_rows2_w1_i8),
        (2, halves_pairs_w2_i8, portable::halves_pairs_w2_i8, halves_rows2_w2_i8, portable::halves_rows2_w2_i8),
        (4, halves_pairs_w4_i8, portable::halves_pairs_w4_i8, halves_rows2_w4_i8, portable::halves_rows2_w4_i8),
    ];
    let mut n = 0;
    for round in 0..PAIRS {
        let xw: [u32; 64] = core::array::from_fn(|_| if round % 8 == 0 { 0xFF80_FF80 } else { next() });
        let mut rows = [0u8; 128];
        rows.iter_mut().for_each(|v| *v = next() as u8);
        let (words, pairs) = (1 + round as usize % 4, 1 + (round as usize / 4) % 4);
        for (bits, native, reference, pair, pair_reference) in kernels {
            let xw = xw.get(..words * 16 / bits as usize).unwrap_or(&[]);
            let (mut a, mut b) = ([[0i32; 2]; 4], [[1i32; 2]; 4]);
            native(xw, &rows, a.get_mut(..pairs).unwrap_or_default());
            reference(xw, &rows, b.get_mut(..pairs).unwrap_or_default());
            // One pair on its own: rows `words` words apart, row b running on to the end.
            let (ra, rb) = rows.split_at(4 * words);
            if a.get(..pairs) != b.get(..pairs) || pair(xw, ra, rb) != pair_reference(xw, ra, rb) {
                return Err(Mismatch::Halves { bits, round });
            }
            n += 1;
        }
    }
    Ok(n)
}

/// Sums of int8 values (every fifth round all −128, every fifth all 127, the rest random), each
/// length 0–99 from each start 0–3 (unaligned words), against the portable sum: the number
/// checked, or the first disagreement.
fn sums(next: &mut impl FnMut() -> u32) -> Result<u32, Mismatch> {
    for round in 0..SUMS {
        let x: [i8; 103] = core::array::from_fn(|_| match round % 5 {
            0 => -128,
            1 => 127,
            _ => next() as i8,
        });
        let (start, len) = (round as usize % 4, round as usize / 4 % 100);
        let x = x.get(start..start + len).unwrap_or(&[]);
        if sum_i8(x) != portable::sum_i8(x) {
            return Err(Mismatch::Sum { round });
        }
    }
    Ok(SUMS)
}

/// The radix-4 passes over 256 random points (every fourth round within the FFT's ±2^30, the
/// rest any words: both wrap alike) with random twiddles, each `Q` and direction against the
/// portable pass: the number checked, or the first disagreement.
fn radix4(next: &mut impl FnMut() -> u32) -> Result<u32, Mismatch> {
    let mut n = 0;
    for round in 0..PASSES {
        let mut word = || if round % 4 == 0 { (next() as i32) >> 2 } else { next() as i32 };
        let buf: [Cpx; 256] = core::array::from_fn(|_| Cpx { re: word(), im: word() });
        let mut twiddle = || Twiddle { c: next() as i32, s: next() as i32 };
        let tw: [Twiddle3; 64] = core::array::from_fn(|_| Twiddle3 { w1: twiddle(), w2: twiddle(), w3: twiddle() });
        for (q, dif) in [(4, false), (16, false), (64, false), (4, true), (16, true), (64, true)] {
            let same = match q {
                4 => pass_same::<4>(&buf, &tw, dif),
                16 => pass_same::<16>(&buf, &tw, dif),
                _ => pass_same::<64>(&buf, &tw, dif),
            };
            if !same {
                return Err(Mismatch::Radix4 { q, dif, round });
            }
            n += 1;
        }
    }
    Ok(n)
}

/// Whether the radix-4 pass of quarter length `Q` (`dif`: decimation in frequency) changes `buf`
/// and computes the same points as the portable pass.
fn pass_same<const Q: usize>(buf: &[Cpx; 256], tw: &[Twiddle3], dif: bool) -> bool {
    let (mut native, mut reference) = (*buf, *buf);
    if dif {
        radix4_dif_i32::<Q>(&mut native, tw);
        portable::radix4_dif_i32::<Q>(&mut reference, tw);
    } else {
        radix4_dit_i32::<Q>(&mut native, tw);
        portable::radix4_dit_i32::<Q>(&mut reference, tw);
    }
    native == reference && native != *buf
}
