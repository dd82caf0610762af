//! The blob format (FORMAT.md), one file per entry, each with its field offsets, its decoder
//! (`read`: the checks that need only the entry) and its encoder (`encode`, used by
//! `crate::writer`): [`header`], [`tensor`] (with the [`packed`] view and the bit-width-table
//! rule, and [`weights`], the regions in place), [`layer`], [`int_params`]. `Model::parse`
//! checks how the entries fit together.

pub mod header;
pub mod int_params;
pub mod layer;
pub mod packed;
pub mod tensor;
pub mod version;
pub mod weights;

pub use crate::layout::Layout;
pub(crate) use header::len32;
pub use header::{
    checksum, Header, CRC_START, FLAG_HAS_INT, HEADER_LEN, LAYER_ENTRY_LEN, MAX_LAYERS, MAX_TENSORS, TENSOR_ENTRY_LEN,
};
pub use int_params::{int_block_len, int_linear_len, BiasQ, IntParams, INT_LINEAR_FIXED, INT_LUT_LEN};
pub use layer::{BufferSizes, Layer, Op, MAX_DILATION, MAX_KERNEL, NO_TENSOR};
pub use packed::{bits_table_len, bits_width_for, GroupBits, Packed, MAX_GROUP};
pub use tensor::{Kind, TensorEntry};
pub use version::{I16_BIAS_VERSION, INT_BIAS_VERSION, MAGIC, MIN_VERSION, ROW_PAIRS_VERSION, VERSION};
pub use weights::{Bias, Tensor, Weights};
