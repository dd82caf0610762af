//! The blob format (FORMAT.md), one file per entry, each with its field offsets, its decoder
//! (`read`: the checks that need only the entry) and its encoder (`encode`, used by
//! `crate::writer`): [`header`], [`frontend`] (version 5), [`tensor`] (with the [`packed`] view
//! and the bit-width-table rule, and [`weights`], the regions in place), [`node`] (version 5,
//! and the ops), [`layer`] (versions 1–4), [`int_params`] (the weighted-layer block) and
//! [`int_ops`] (the other ops' constants). `Model::parse` checks how the entries fit together.

mod crc32;
pub mod frontend;
pub mod header;
pub mod int_ops;
pub mod int_params;
pub mod layer;
pub mod node;
pub mod packed;
pub mod tensor;
pub mod version;
pub mod weights;

pub use crate::layout::{lane_bit, lane_column, lane_level, Layout, LANE_BLOCK};
pub use frontend::{Features, FrontEnd, Output};
pub(crate) use header::len32;
pub use header::{
    checksum, Header, CRC_START, FLAG_HAS_INT, FRONT_END_LEN, HEADER_LEN, LAYER_ENTRY_LEN, MAX_LAYERS, MAX_NODES,
    MAX_TENSORS, NODE_ENTRY_LEN, OPERAND_LEN, TENSOR_ENTRY_LEN,
};
pub use int_ops::{
    check_block, ActTail, Requant, ACT_TAIL_LEN, MAX_ADD_M, MAX_CONCAT_M, MAX_ELEMENTWISE_SHIFT, MAX_MUL_M,
};
pub use int_params::{int_block_len, int_linear_len, BiasQ, IntParams, INT_LINEAR_FIXED, INT_LUT_LEN};
pub use layer::{BufferSizes, Layer};
pub use node::{Act, Node, Op, MAX_DILATION, MAX_INPUTS, MAX_KERNEL, MAX_STRIDE_T, NO_TENSOR, PREVIOUS};
pub use packed::{bits_table_len, bits_width_for, GroupBits, Packed, MAX_GROUP};
pub use tensor::{Kind, TensorEntry};
pub use version::{GRAPH_VERSION, I16_BIAS_VERSION, INT_BIAS_VERSION, MAGIC, MIN_VERSION, ROW_PAIRS_VERSION, VERSION};
pub use weights::{Bias, Tensor, Weights};
