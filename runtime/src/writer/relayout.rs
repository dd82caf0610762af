//! [`relayout`]: a blob with its row-pair tensors stored in the other pair layout (FORMAT.md,
//! layouts 1 and 2). The groups, their widths, the levels and every offset stay as they are;
//! only the bits inside each pair group move, so the blob has the same size and computes the
//! same outputs on both paths, bit for bit.

use super::assemble::relay_regions;
use super::tensor::lane_pair_groups;
use super::WriteError;
use crate::format::{
    checksum, lane_level, Header, Layout, TensorEntry, Weights, HEADER_LEN, LANE_BLOCK, TENSOR_ENTRY_LEN,
};
use crate::layout::pack_lane_blocks;
use crate::quant::{group_bytes, pack_levels, unpack_levels};
use crate::Model;
use alloc::vec;
use alloc::vec::Vec;
use std::format;

/// Whether the kernels built for `target` (a Rust target triple) read lane pairs faster than row
/// pairs: the Armv7E-M cores (`thumbv7em-*`: Cortex-M4, M7), whose dual 16-bit multiply-accumulates
/// the lane-pair bodies use, and RV32 (`riscv32*`), whose product pairs do both MACs of a lane
/// pair with one multiply (the 8 kHz demo's integer frame 23% fewer instructions than in row
/// pairs). Other cores (Armv6-M) take row pairs.
pub fn lanes_for_target(target: &str) -> bool {
    target.starts_with("thumbv7em") || target.starts_with("riscv32")
}

/// `blob` with every row-pair tensor in lane pairs (`lanes`; those whose groups are not a
/// multiple of 64 stay row pairs) or every lane-pair tensor back in row pairs (`!lanes`), and
/// how many tensors changed; its data regions in the writer's order (lane-pair levels, then the
/// row-pair levels of whole-word groups, on 4-byte offsets where the other regions allow, else
/// table order). Validated by [`Model::parse`]
/// before it is returned.
pub fn relayout(blob: &[u8], lanes: bool) -> Result<(Vec<u8>, usize), WriteError> {
    let m = Model::parse(blob).map_err(WriteError::Source)?;
    let h = *m.header();
    let mut out = blob.to_vec();
    let mut changed = 0;
    for i in 0..m.n_tensors() {
        let e = TensorEntry::read(blob, &h, i).map_err(WriteError::Source)?;
        let Layout::RowPairs { row_len, lanes: was } = e.layout else { continue };
        let gs = usize::from(e.group_size);
        if was == lanes || gs % (2 * LANE_BLOCK) != 0 {
            continue;
        }
        let Weights::Packed(p) = m.tensor(i).map_err(WriteError::Source)?.weights else { continue };
        let mut at = e.data_offset as usize;
        let mut levels = vec![0u16; gs];
        for g in 0..lane_pair_groups(Layout::RowPairs { row_len, lanes: true }, e.count as usize, gs) {
            let b = p.group_bits(g);
            let n = group_bytes(gs, b);
            let fail = || WriteError::Value(format!("tensor {i}: group {g} lies outside the blob"));
            let src = blob.get(at..at + n).ok_or_else(fail)?;
            if was {
                let block = 4 * usize::from(b);
                for (c, l) in levels.iter_mut().enumerate() {
                    *l = lane_level(src.get(c / LANE_BLOCK * block..).unwrap_or_default(), b, c % LANE_BLOCK);
                }
            } else {
                unpack_levels(src, b, &mut levels).ok_or_else(fail)?;
            }
            let dst = out.get_mut(at..at + n).ok_or_else(fail)?;
            let packed = if lanes { pack_lane_blocks(&levels, b, dst) } else { pack_levels(&levels, b, dst) };
            packed.ok_or_else(fail)?;
            at += n;
        }
        let entry = TensorEntry { layout: Layout::RowPairs { row_len, lanes }, ..e };
        let off = h.tensor_entry_offset(i);
        out.get_mut(off..off + TENSOR_ENTRY_LEN)
            .ok_or_else(|| WriteError::Value(format!("tensor {i}: entry outside the blob")))?
            .copy_from_slice(&entry.encode());
        changed += 1;
    }
    let mut header = h; // the same fields but the CRC, set here
    header.crc32 = 0;
    put_header(&mut out, &header);
    header.crc32 = checksum(&out);
    put_header(&mut out, &header);
    Model::parse(&out).map_err(WriteError::SelfCheck)?;
    Ok((relay_regions(&out)?, changed))
}

fn put_header(out: &mut [u8], h: &Header) {
    if let Some(b) = out.get_mut(..HEADER_LEN) {
        b.copy_from_slice(&h.encode());
    }
}
