//! The lane-pair layout (FORMAT.md, layout 2) on the shipped models: `writer::relayout` stores
//! every row-pair tensor with groups of a multiple of 64 as lane pairs, the blob keeps its size
//! and parses, computes the same outputs on both paths bit for bit, and relays back to the very
//! same bytes, the levels of every lane-pair tensor at an offset that is a multiple of 4; the writer
//! stores lane pairs after regions of any length (their levels still on 4-byte offsets), and those of
//! one width of 2 to 4 bits as lane pairs (their integer outputs those of the row layout);
//! malformed lane-pair entries are rejected with what and where.

use super::convert::{assert_close_frames, assert_same_frames};
use diffq_runtime::format::{checksum, Layout, TensorEntry};
use diffq_runtime::writer::{relayout, BlobWriter, IntCalibration, WriteError};
use diffq_runtime::{Error, Model, Part, Weights};

const DIR: &str = env!("CARGO_MANIFEST_DIR");

fn model(name: &str) -> Vec<u8> {
    std::fs::read(format!("{DIR}/../models/{name}")).unwrap()
}

fn layouts(blob: &[u8]) -> Vec<Layout> {
    let m = Model::parse(blob).unwrap();
    (0..m.n_tensors()).map(|i| TensorEntry::read(blob, m.header(), i).unwrap().layout).collect()
}

/// The data offsets of a blob's lane-pair tensors.
fn lane_offsets(blob: &[u8]) -> Vec<u32> {
    let m = Model::parse(blob).unwrap();
    let entries = (0..m.n_tensors()).map(|i| TensorEntry::read(blob, m.header(), i).unwrap());
    entries.filter(|e| matches!(e.layout, Layout::RowPairs { lanes: true, .. })).map(|e| e.data_offset).collect()
}

#[test]
fn the_shipped_models_as_lane_pairs_compute_the_same_and_relay_back() {
    for (name, want_changed, frames) in [("conv8k.dqem", 4, 200), ("gru16k.dqem", 1, 60)] {
        let rows = model(name);
        let (lanes, changed) = relayout(&rows, true).unwrap();
        assert_eq!((changed, lanes.len()), (want_changed, rows.len()), "{name}");
        let pairs = |b: &[u8], l: bool| {
            layouts(b).iter().filter(|t| matches!(t, Layout::RowPairs { lanes, .. } if *lanes == l)).count()
        };
        assert_eq!(pairs(&lanes, true), want_changed, "{name}: lane-pair tensors");
        assert_eq!(lane_offsets(&lanes).iter().filter(|&&o| o % 4 == 0).count(), want_changed, "{name}: word offsets");
        assert_same_frames(&rows, &lanes, frames);
        let (back, n) = relayout(&lanes, false).unwrap();
        assert_eq!(n, want_changed);
        assert!(back == rows, "{name}: relaid back, the bytes differ");
        // Already in lane pairs: nothing to do, the same bytes.
        assert_eq!(relayout(&lanes, true).unwrap(), (lanes.clone(), 0));
    }
}

#[test]
fn the_writer_stores_lane_pairs_at_any_offset_and_both_layouts_compute_the_same() {
    // 65 rows of 64 inputs (a lone last row), groups of 64 at 2, 3 and 4 bits.
    let bits: Vec<u8> = (0..65).map(|g| [3u8, 2, 4][g % 3]).collect();
    let levels: Vec<u16> = (0..65 * 64).map(|i| ((i * 7 + i / 3) % (1 << bits[i / 64])) as u16).collect();
    let blob = |lanes: bool, pad: usize| {
        let mut w = BlobWriter::new(64);
        if pad > 0 {
            w.f16_tensor(&vec![0.5; pad]).unwrap(); // the levels at other offsets
        }
        let t = w.packed_tensor_in(Layout::RowPairs { row_len: 64, lanes }, &levels, &bits, 64, -1.0, 1.0).unwrap();
        w.linear(t, None, 64, 65).unwrap();
        w.finish().unwrap()
    };
    for pad in [0, 1, 3] {
        let (rows, lanes) = (blob(false, pad), blob(true, pad));
        let m = Model::parse(&lanes).unwrap();
        let i = m.n_tensors() - 1;
        let e = TensorEntry::read(&lanes, m.header(), i).unwrap();
        assert_eq!(e.layout, Layout::RowPairs { row_len: 64, lanes: true });
        let Weights::Packed(p) = m.tensor(i).unwrap().weights else { panic!("packed") };
        assert_eq!(p.data.len(), bits.iter().map(|&b| 8 * usize::from(b)).sum::<usize>());
        assert_eq!(lane_offsets(&lanes)[0] % 4, 0, "pad {pad}: the levels on a word offset");
        assert_same_frames(&rows, &lanes, 3);
    }
    // Lane pairs need groups of a multiple of 64.
    let mut w = BlobWriter::new(64);
    let e =
        w.packed_tensor_in(Layout::RowPairs { row_len: 64, lanes: true }, &vec![0; 64 * 64], &[2; 128], 32, 0.0, 1.0);
    assert!(matches!(e, Err(WriteError::Shape(ref m)) if m.contains("lane-pair") && m.contains("64")), "{e:?}");
}

#[test]
fn a_lane_pair_tensor_of_one_width_stays_lane_pairs_from_2_to_4_bits_and_computes_as_its_rows() {
    // 64 rows of 128 inputs, groups of 64, every group at `b` bits; both paths (the one-width
    // row kernel against the lane-pair one).
    for b in 1u8..=5 {
        let levels: Vec<u16> = (0..64 * 128).map(|i| ((i * 5 + i / 7) % (1 << b)) as u16).collect();
        let blob = |lanes: bool| {
            let mut w = BlobWriter::new(128);
            let layout = Layout::RowPairs { row_len: 128, lanes };
            let t = w.packed_tensor_in(layout, &levels, &[b; 128], 64, -1.0, 1.0).unwrap();
            w.linear(t, None, 128, 64).unwrap();
            w.finish_with_int(&IntCalibration { input_scale: 1.0 / 64.0, out_scales: vec![1.0 / 16.0] }).unwrap()
        };
        let (rows, lanes) = (blob(false), blob(true));
        let m = Model::parse(&lanes).unwrap();
        let e = TensorEntry::read(&lanes, m.header(), 0).unwrap();
        let want = if (2..=4).contains(&b) { Layout::RowPairs { row_len: 128, lanes: true } } else { Layout::Rows };
        assert_eq!(e.layout, want, "{b} bits");
        assert_eq!(TensorEntry::read(&rows, Model::parse(&rows).unwrap().header(), 0).unwrap().layout, Layout::Rows);
        assert_eq!(lanes.len(), rows.len(), "{b} bits: the same bytes");
        // The integer sums are exact: bit for bit; the f32 sums run in another order.
        assert_close_frames(&rows, &lanes, 4, 1e-5);
    }
}

/// A small lane-pair blob with the integer path: a conv1d of 3 taps over 64 channels (rows of
/// 192) and a linear layer of 65 rows (a lone last row), widths 1 to 8 and 11, the seed of the
/// fuzz targets' lane-pair parser and kernels (`--ignored write_fuzz_seeds`).
fn lane_pair_seed() -> Vec<u8> {
    let mut w = BlobWriter::new(64);
    let bits: Vec<u8> = (0..64 * 3).map(|g| [1u8, 2, 3, 4, 5, 6, 7, 8, 11][g % 9]).collect();
    let levels: Vec<u16> = (0..64 * 192).map(|i| ((i * 37 + i / 5) % (1 << bits[i / 64])) as u16).collect();
    let conv =
        w.packed_tensor_in(Layout::RowPairs { row_len: 192, lanes: true }, &levels, &bits, 64, -0.3, 0.4).unwrap();
    w.conv1d(conv, None, 64, 64, 3, 2).unwrap();
    let bits: Vec<u8> = (0..65).map(|g| [3u8, 2, 4][g % 3]).collect();
    let levels: Vec<u16> = (0..65 * 64).map(|i| ((i * 7 + i / 3) % (1 << bits[i / 64])) as u16).collect();
    let lin = w.packed_tensor_in(Layout::RowPairs { row_len: 64, lanes: true }, &levels, &bits, 64, -1.0, 1.0).unwrap();
    w.linear(lin, None, 64, 65).unwrap();
    w.finish_with_int(&IntCalibration { input_scale: 1.0 / 127.0, out_scales: vec![0.05, 0.1] }).unwrap()
}

#[test]
fn the_lane_pair_seed_runs_as_its_row_pair_twin() {
    let lanes = lane_pair_seed();
    let (rows, n) = relayout(&lanes, false).unwrap();
    assert_eq!(n, 2);
    assert_same_frames(&rows, &lanes, 20);
}

#[test]
#[ignore = "writes runtime/fuzz/seeds/parse_and_step/lane_pairs_int.bin"]
fn write_fuzz_seeds_lane_pairs() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/seeds/parse_and_step");
    std::fs::write(format!("{dir}/lane_pairs_int.bin"), lane_pair_seed()).unwrap();
}

#[test]
fn malformed_lane_pair_entries_are_rejected_with_what_and_where() {
    let (blob, _) = relayout(&model("conv8k.dqem"), true).unwrap();
    let m = Model::parse(&blob).unwrap();
    let entry = |i: u16| m.header().tensor_entry_offset(i);
    let edited = |edit: &dyn Fn(&mut Vec<u8>)| {
        let mut b = blob.clone();
        edit(&mut b);
        let c = checksum(&b);
        b[12..16].copy_from_slice(&c.to_le_bytes());
        Model::parse(&b).map(|_| ())
    };
    let set16 = |b: &mut Vec<u8>, at: usize, v: u16| b[at..at + 2].copy_from_slice(&v.to_le_bytes());
    let cases: Vec<(&str, Box<dyn Fn(&mut Vec<u8>)>, Error)> = vec![
        // Groups of 48 (a multiple of 16, not of 64): a row pair could have them, a lane pair not.
        ("groups of 48", Box::new(move |b| set16(b, entry(0) + 4, 48)), Error::InvalidField(Part::Tensor(0))),
        ("row length 0", Box::new(move |b| set16(b, entry(1) + 6, 0)), Error::InvalidField(Part::Tensor(1))),
        ("row length 16", Box::new(move |b| set16(b, entry(1) + 6, 16)), Error::InvalidField(Part::Tensor(1))),
        ("layout 3", Box::new(move |b| b[entry(2) + 3] = 3), Error::InvalidField(Part::Tensor(2))),
        ("version 1", Box::new(|b| b[4] = 1), Error::VersionMismatch { version: 1, part: Part::Tensor(0) }),
    ];
    let mut failures = Vec::new();
    for (name, edit, want) in &cases {
        match edited(edit.as_ref()) {
            Err(e) if e == *want => {}
            got => failures.push(format!("{name}: got {got:?}, want {want:?}")),
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
