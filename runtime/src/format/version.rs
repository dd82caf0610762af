//! Which blobs this runtime reads: the magic bytes, the range of format versions, and what each
//! version implies about the bytes after the header (the parser cross-checks them all: a blob
//! whose version and contents disagree is rejected with `Error::VersionMismatch`).

/// The first four bytes of every blob.
pub const MAGIC: [u8; 4] = *b"DQEM";
/// Newest format version this runtime reads and writes: the node graph (FORMAT.md, version 5).
pub const VERSION: u16 = 5;
/// Oldest version still read: a v1 blob is a v2 blob whose tensors all use the row layout.
pub const MIN_VERSION: u16 = 1;
/// First version with the row-pair layout; the chain writer writes it only for a blob that uses it.
pub const ROW_PAIRS_VERSION: u16 = 2;
/// First version with i16 bias constants (and the bias shift `L` in byte 1 of the shift word);
/// versions 3 and 4 hold a blob only with integer constants.
pub const I16_BIAS_VERSION: u16 = 3;
/// First version that keeps the biases of a blob with integer constants in the constants only;
/// the last chain version (a layer table), the one `writer::BlobWriter` writes with integer
/// constants.
pub const INT_BIAS_VERSION: u16 = 4;
/// First version with the node graph, the front-end record and the whole-blob CRC.
pub const GRAPH_VERSION: u16 = 5;
