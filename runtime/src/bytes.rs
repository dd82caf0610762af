//! Bounds-checked little-endian reads and writes: the only place blob bytes are decoded or
//! encoded field by field.

use crate::error::{Error, Part};

pub(crate) fn slice(b: &[u8], off: usize, len: usize, part: Part) -> Result<&[u8], Error> {
    let end = off.checked_add(len).ok_or(Error::OutOfBounds(part))?;
    b.get(off..end).ok_or(Error::OutOfBounds(part))
}

/// The `N` bytes at `off` as an array reference: an entry of fixed length, whose fields the
/// readers below then take at constant offsets without a check each (the length is known).
pub(crate) fn entry<const N: usize>(b: &[u8], off: usize, part: Part) -> Result<&[u8; N], Error> {
    slice(b, off, N, part)?.try_into().map_err(|_| Error::OutOfBounds(part))
}

pub(crate) fn arr<const N: usize>(b: &[u8], off: usize, part: Part) -> Result<[u8; N], Error> {
    let s = slice(b, off, N, part)?;
    let mut a = [0u8; N];
    a.copy_from_slice(s);
    Ok(a)
}

pub(crate) fn u8_at(b: &[u8], off: usize, part: Part) -> Result<u8, Error> {
    b.get(off).copied().ok_or(Error::OutOfBounds(part))
}

pub(crate) fn u16_at(b: &[u8], off: usize, part: Part) -> Result<u16, Error> {
    Ok(u16::from_le_bytes(arr(b, off, part)?))
}

pub(crate) fn u32_at(b: &[u8], off: usize, part: Part) -> Result<u32, Error> {
    Ok(u32::from_le_bytes(arr(b, off, part)?))
}

pub(crate) fn i32_at(b: &[u8], off: usize, part: Part) -> Result<i32, Error> {
    Ok(i32::from_le_bytes(arr(b, off, part)?))
}

pub(crate) fn i64_at(b: &[u8], off: usize, part: Part) -> Result<i64, Error> {
    Ok(i64::from_le_bytes(arr(b, off, part)?))
}

pub(crate) fn f32_at(b: &[u8], off: usize, part: Part) -> Result<f32, Error> {
    Ok(f32::from_le_bytes(arr(b, off, part)?))
}

/// Writes `v` at `off` (the encoders' fixed-size entries always hold their fields; a write past
/// the end is dropped, never a panic).
pub(crate) fn put<const N: usize>(b: &mut [u8], off: usize, v: [u8; N]) {
    if let Some(d) = off.checked_add(N).and_then(|end| b.get_mut(off..end)) {
        d.copy_from_slice(&v);
    }
}
