//! Decode → encode is the identity: every tensor, layer or node, front end, operand list and
//! integer-constant block of a blob is decoded through the public API (`Model`,
//! `format::TensorEntry`, `format::IntParams`), encoded again with the format's encoders and laid
//! out by the writer (`writer::assemble`, `writer::assemble_graph`), and the result is the
//! original blob byte for byte. Run on the shipped model, the golden blobs of versions 5, 4, 3
//! and 1, and the fuzz seeds (every op, bit widths 1..=15, row pairs, f16/f32, v5 graphs).

use diffq_runtime::format::{Header, TensorEntry, HEADER_LEN, PREVIOUS, TENSOR_ENTRY_LEN};
use diffq_runtime::writer::{assemble, assemble_graph, LayerPart, NodePart, TensorPart};
use diffq_runtime::{Model, Weights};

const DIR: &str = env!("CARGO_MANIFEST_DIR");

/// The blob rebuilt from its decoded entries; checks each entry's encoding on the way.
fn reencode(blob: &[u8]) -> Vec<u8> {
    let m = Model::parse(blob).unwrap();
    let h: Header = *m.header();
    assert_eq!(h.encode()[..], blob[..HEADER_LEN], "header");
    let mut tensors = Vec::new();
    for i in 0..m.n_tensors() {
        let entry = TensorEntry::read(blob, &h, i).unwrap();
        let at = h.tensor_entry_offset(i);
        assert_eq!(entry.encode()[..], blob[at..at + TENSOR_ENTRY_LEN], "tensor entry {i}");
        let (bits_table, data) = match m.tensor(i).unwrap().weights {
            Weights::F32(d) | Weights::F16(d) => (&[][..], d),
            Weights::Packed(p) => (p.bits_table, p.data),
        };
        tensors.push(TensorPart { entry, bits_table, data });
    }
    if h.is_graph() {
        return reencode_graph(&m, &tensors);
    }
    let mut blocks = Vec::new();
    for i in 0..m.n_layers() {
        let l = m.layer(i).unwrap();
        let at = h.node_entry_offset(i);
        assert_eq!(l.encode()[..], blob[at..at + h.node_entry_len()], "layer entry {i}");
        let raw = m.int_block(i).unwrap();
        let block = if m.has_int() && l.op.has_weights() {
            let mut v = Vec::new();
            m.int_params(i).unwrap().encode_into(&mut v);
            assert_eq!(v, raw, "integer constants of layer {i}");
            v
        } else {
            raw.to_vec() // a sigmoid/tanh table, or nothing
        };
        blocks.push((l, block));
    }
    let layers: Vec<LayerPart> = blocks.iter().map(|(layer, b)| LayerPart { layer: *layer, int_block: b }).collect();
    assemble(h, &tensors, &layers).unwrap()
}

/// A version 5 blob rebuilt from its front end, nodes, operand list and constants.
fn reencode_graph(m: &Model<'_>, tensors: &[TensorPart<'_>]) -> Vec<u8> {
    let (blob, h) = (m.bytes(), *m.header());
    let fe = m.front_end().unwrap();
    assert_eq!(fe.encode()[..], blob[HEADER_LEN..h.tensor_table_offset()], "front end");
    let (mut nodes, mut operands) = (Vec::new(), Vec::new());
    for i in 0..m.n_nodes() {
        let n = m.node(i).unwrap();
        let at = h.node_entry_offset(i);
        assert_eq!(n.encode()[..], blob[at..at + h.node_entry_len()], "node entry {i}");
        if n.operands != PREVIOUS {
            operands.extend_from_slice(m.inputs(i).unwrap().as_slice());
        }
        nodes.push((n, m.int_block(i).unwrap()));
    }
    let parts: Vec<NodePart> = nodes.iter().map(|&(node, int_block)| NodePart { node, int_block }).collect();
    assemble_graph(h, &fe, tensors, &parts, &operands).unwrap()
}

fn check(path: &str) {
    let blob = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let again = reencode(&blob);
    assert_eq!(again.len(), blob.len(), "{path}: length");
    let first = again.iter().zip(&blob).position(|(a, b)| a != b);
    assert!(first.is_none(), "{path}: first differing byte at {first:?}");
}

#[test]
fn default_model_reencodes_byte_for_byte() {
    check(&format!("{DIR}/../models/conv8k.dqem"));
}

#[test]
fn golden_blobs_reencode_byte_for_byte() {
    for v in ["v5", "v4", "v3", "v1"] {
        check(&format!("{DIR}/tests/golden/{v}_small.bin"));
    }
}

#[test]
fn fuzz_seeds_reencode_byte_for_byte() {
    let mut n = 0;
    for e in std::fs::read_dir(format!("{DIR}/fuzz/seeds/parse_and_step")).unwrap() {
        check(e.unwrap().path().to_str().unwrap());
        n += 1;
    }
    assert!(n >= 12, "{n} seeds");
}
