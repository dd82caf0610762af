//! Which blobs this runtime reads: the magic bytes and the range of format versions.

pub const MAGIC: [u8; 4] = *b"DQEM";
/// Newest format version this runtime reads and writes (2 adds the row-pair layout, 3 stores
/// the integer path's bias constants as i16 with a shift instead of i64, 4 keeps the biases of
/// a blob with integer constants only there: both paths read them from the constants).
pub const VERSION: u16 = 4;
/// Oldest version still read: a v1 blob is a v2 blob whose tensors all use the row layout.
pub const MIN_VERSION: u16 = 1;
