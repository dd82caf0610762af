//! The graph executor's entry to the kernels of the ops it does not run yet: one function per
//! op and path, each answering [`Error::Unsupported`] for its node until its kernel is called
//! here (the arguments are what the kernel needs: the node, its constants through `m`, its
//! input, its streaming state and the frame, its output).

use super::Model;
use crate::error::{Error, Part};
use crate::format::Node;

fn unsupported(i: u16) -> Result<(), Error> {
    Err(Error::Unsupported(Part::Node(i)))
}

/// conv1d with `groups > 1`, f32 path.
pub(super) fn conv1d_grouped_f32(
    _: &Model<'_>,
    _: &Node,
    i: u16,
    _: &[f32],
    _: (&mut [f32], u64),
    _: &mut [f32],
) -> Result<(), Error> {
    unsupported(i)
}

/// conv1d with `groups > 1`, integer path.
pub(super) fn conv1d_grouped_i8(
    _: &Model<'_>,
    _: &Node,
    i: u16,
    _: &[i8],
    _: (&mut [i8], u64),
    _: &mut [i8],
) -> Result<(), Error> {
    unsupported(i)
}

/// gru, f32 path: `h` in the state, `y` the output followed by `6H` of scratch.
pub(super) fn gru_f32(_: &Model<'_>, _: &Node, i: u16, _: &[f32], _: &mut [f32], _: &mut [f32]) -> Result<(), Error> {
    unsupported(i)
}

/// gru, integer path: `h` as i16 byte pairs in the state, `y` the output followed by `6H` of scratch.
pub(super) fn gru_i8(_: &Model<'_>, _: &Node, i: u16, _: &[i8], _: &mut [i8], _: &mut [i8]) -> Result<(), Error> {
    unsupported(i)
}

/// conv2d, f32 path.
pub(super) fn conv2d_f32(
    _: &Model<'_>,
    _: &Node,
    i: u16,
    _: &[f32],
    _: (&mut [f32], u64),
    _: &mut [f32],
) -> Result<(), Error> {
    unsupported(i)
}

/// conv2d, integer path.
pub(super) fn conv2d_i8(
    _: &Model<'_>,
    _: &Node,
    i: u16,
    _: &[i8],
    _: (&mut [i8], u64),
    _: &mut [i8],
) -> Result<(), Error> {
    unsupported(i)
}

/// avgpool / maxpool (`n.op`), f32 path: a ring of `kernel_t` frames in the state.
pub(super) fn pool_f32(_: &Node, i: u16, _: &[f32], _: (&mut [f32], u64), _: &mut [f32]) -> Result<(), Error> {
    unsupported(i)
}

/// avgpool / maxpool (`n.op`), integer path.
pub(super) fn pool_i8(_: &Node, i: u16, _: &[i8], _: (&mut [i8], u64), _: &mut [i8]) -> Result<(), Error> {
    unsupported(i)
}

/// add, integer path (`Model::int_block` holds `S`, `m_a`, `m_b`: `format::Requant`).
pub(super) fn add_i8(_: &Model<'_>, _: &Node, i: u16, _: &[&[i8]], _: &mut [i8]) -> Result<(), Error> {
    unsupported(i)
}

/// mul, integer path.
pub(super) fn mul_i8(_: &Model<'_>, _: &Node, i: u16, _: &[&[i8]], _: &mut [i8]) -> Result<(), Error> {
    unsupported(i)
}

/// concat, integer path (one `m_k` per input).
pub(super) fn concat_i8(_: &Model<'_>, _: &Node, i: u16, _: &[&[i8]], _: &mut [i8]) -> Result<(), Error> {
    unsupported(i)
}
