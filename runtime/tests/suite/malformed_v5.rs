//! Crafted version 5 blobs: each edit of the golden v5 blob (CRC rewritten so the validator
//! runs past it) is rejected with the error naming what and where: the arena plan, operands,
//! node fields, the front end, integer constants, the header's v5 fields, layout 2.

use crate::golden_v5::golden_v5_blob;
use diffq_runtime::format::checksum;
use diffq_runtime::{Error, Model, Part};

/// Node table entry `i` of the golden blob (three tensors).
const fn node(i: usize) -> usize {
    80 + 32 * 3 + 40 * i
}
const OPERANDS: usize = node(5);

fn edited(edit: impl Fn(&mut Vec<u8>)) -> Result<(), Error> {
    let mut b = golden_v5_blob();
    edit(&mut b);
    let c = checksum(&b);
    b[12..16].copy_from_slice(&c.to_le_bytes());
    Model::parse(&b).map(|_| ())
}

fn set16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}
fn set32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

#[test]
fn each_v5_edit_is_rejected_with_what_and_where() {
    let u32_at = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
    let g = golden_v5_blob();
    let add_block = u32_at(&g, node(2) + 32) as usize;
    let area = (g.len() - (OPERANDS + 8)) as u32;
    let cases: Vec<(&str, Box<dyn Fn(&mut Vec<u8>)>, Error)> = vec![
        // The arena plan: the add's output placed on value 1, which it reads.
        ("overlap", Box::new(|b| set32(b, node(2) + 36, 128)), Error::ArenaOverlap { node: 2, with: 1 }),
        ("overlap with the input", Box::new(|b| set32(b, node(0) + 36, 100)), Error::ArenaOverlap { node: 0, with: 0 }),
        ("later operand", Box::new(|b| set16(b, OPERANDS, 4)), Error::BadOperand { node: 2, operand: 0, value: 4 }),
        ("operands out of order", Box::new(|b| set16(b, node(3) + 4, 0)), Error::InvalidField(Part::Node(3))),
        ("previous with two inputs", Box::new(|b| set16(b, node(2) + 4, 0xFFFF)), Error::InvalidField(Part::Node(2))),
        ("linear with 2 taps", Box::new(|b| b[node(0) + 18] = 2), Error::InvalidField(Part::Node(0))),
        ("op 14", Box::new(|b| b[node(0)] = 14), Error::InvalidField(Part::Node(0))),
        ("act on an add", Box::new(|b| b[node(2) + 1] = 1), Error::InvalidField(Part::Node(2))),
        ("reserved node byte", Box::new(|b| b[node(1) + 26] = 1), Error::Reserved(Part::Node(1))),
        ("add of two shapes", Box::new(|b| set16(b, OPERANDS + 2, 0)), Error::ShapeMismatch(Part::Node(2))),
        ("concat channels", Box::new(|b| set16(b, node(3) + 6, 17)), Error::ShapeMismatch(Part::Node(3))),
        ("44.1 kHz", Box::new(|b| set16(b, 64, 44100)), Error::InvalidField(Part::FrontEnd)),
        ("64 log-power bands", Box::new(|b| set16(b, 74, 64)), Error::InvalidField(Part::FrontEnd)),
        ("band gains, no filterbank", Box::new(|b| b[76] = 1), Error::InvalidField(Part::FrontEnd)),
        ("bin gains, 4 outputs", Box::new(|b| b[76] = 0), Error::ShapeMismatch(Part::FrontEnd)),
        ("reserved front-end byte", Box::new(|b| b[77] = 1), Error::Reserved(Part::FrontEnd)),
        ("add shift 0", Box::new(move |b| b[add_block] = 0), Error::InvalidField(Part::Node(2))),
        ("add m_a 2^22", Box::new(move |b| set32(b, add_block + 4, 1 << 22)), Error::InvalidField(Part::Node(2))),
        // The fused sigmoid dropped: its block is 260 bytes shorter than the data holds.
        ("int block length", Box::new(|b| b[node(4) + 1] = 0), Error::RegionsMismatch { regions: area - 260, area }),
        // Lane pairs of a row-major tensor (no row length, groups not of a multiple of 64).
        ("layout 2", Box::new(|b| b[80 + 3] = 2), Error::InvalidField(Part::Tensor(0))),
        ("input height 2", Box::new(|b| set16(b, 54, 2)), Error::InvalidField(Part::Header)),
        ("reserved header byte", Box::new(|b| b[60] = 1), Error::Reserved(Part::Header)),
        ("arena length", Box::new(|b| set32(b, 32, 137)), Error::SizeMismatch),
        ("i8 arena length", Box::new(|b| set32(b, 40, 128)), Error::SizeMismatch),
        ("129 nodes", Box::new(|b| set16(b, 18, 129)), Error::InvalidField(Part::Header)),
    ];
    let mut failures = Vec::new();
    for (name, edit, want) in &cases {
        match edited(edit) {
            Err(e) if e == *want => {}
            got => failures.push(format!("{name}: got {got:?}, want {want:?}")),
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    // The messages name what and where.
    let e = Error::ArenaOverlap { node: 2, with: 1 }.to_string();
    assert!(e.contains("node 2") && e.contains("value 1"), "{e}");
    let e = Error::BadOperand { node: 2, operand: 0, value: 4 }.to_string();
    assert!(e.contains("node 2") && e.contains("value 4"), "{e}");
    assert!(Error::InvalidField(Part::FrontEnd).to_string().contains("front-end record"));
}

/// Without the edit the blob parses, and a version 5 blob's CRC covers its header too.
#[test]
fn the_v5_crc_covers_the_header() {
    let mut b = golden_v5_blob();
    Model::parse(&b).unwrap();
    b[20] ^= 1; // input_len
    assert!(matches!(Model::parse(&b), Err(Error::Checksum { .. })));
}

/// Writes the version 5 fuzz seeds (FORMAT.md's graph: add, concat, fused activations, a gru,
/// a conv2d with a pool, strided conv1d layers) into `runtime/fuzz/seeds/parse_and_step/`:
/// `cargo test -p diffq-runtime --features std --test suite -- --ignored write_v5_fuzz_seeds`.
#[test]
#[ignore]
fn write_v5_fuzz_seeds() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/seeds/parse_and_step");
    let mut r = crate::common::rng(0x5EED5);
    let mut g = crate::graphs::G::new();
    let a = g.weighted(&mut r, 0, 16, (0, 0), diffq_runtime::Act::Relu);
    let b = g.weighted(&mut r, a, 16, (3, 2), diffq_runtime::Act::None);
    let c = g.add(b, a);
    let d = g.concat(&[c, a]);
    g.weighted(&mut r, d, 4, (0, 0), diffq_runtime::Act::Sigmoid);
    let seeds = [
        ("golden_v5", golden_v5_blob()),
        ("v5_add_concat_f32", g.w.finish().unwrap()),
        ("v5_gru_int", crate::graph::gru_blob()),
        ("v5_conv2d_int", crate::graph::conv2d_blob()),
        ("v5_conv1d_stride_f32", crate::graphs::G::finish_f32(crate::stride::strided_graph(3))),
    ];
    for (name, blob) in seeds {
        Model::parse(&blob).unwrap();
        std::fs::write(format!("{dir}/{name}.bin"), blob).unwrap();
    }
}
