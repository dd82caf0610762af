//! The arena split the graph executor runs on: a node's output region borrowed mutably and
//! its inputs' regions immutably, from offsets, checked (the parser's plan check makes them
//! disjoint; a region that is not is an error here, never aliasing).

use crate::error::Error;
use crate::format::MAX_INPUTS;

/// Regions `ins` (offset, length) of `arena` for reading and `out` for writing; `out` must be
/// disjoint from each of `ins` ([`Error::KernelShape`] otherwise, or for a region past the end).
pub(super) fn split<'b, T>(
    arena: &'b mut [T],
    ins: &[(usize, usize)],
    (off, len): (usize, usize),
) -> Result<([&'b [T]; MAX_INPUTS], &'b mut [T]), Error> {
    let end = off.checked_add(len).ok_or(Error::KernelShape)?;
    if end > arena.len() || ins.len() > MAX_INPUTS {
        return Err(Error::KernelShape);
    }
    let (lo, rest) = arena.split_at_mut_checked(off).ok_or(Error::KernelShape)?;
    let (out, hi) = rest.split_at_mut_checked(len).ok_or(Error::KernelShape)?;
    let (lo, hi): (&'b [T], &'b [T]) = (lo, hi);
    let mut xs: [&'b [T]; MAX_INPUTS] = [&[]; MAX_INPUTS];
    for (x, &(io, il)) in xs.iter_mut().zip(ins) {
        let iend = io.checked_add(il).ok_or(Error::KernelShape)?;
        *x = if iend <= off {
            lo.get(io..iend)
        } else if io >= end {
            hi.get(io - end..iend - end)
        } else {
            None
        }
        .ok_or(Error::KernelShape)?;
    }
    Ok((xs, out))
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn inputs_on_either_side_of_the_output_and_overlaps_refused() {
        let mut a: [i32; 10] = core::array::from_fn(|i| i as i32);
        let (xs, out) = split(&mut a, &[(0, 2), (7, 3)], (3, 4)).unwrap();
        assert_eq!((xs[0], xs[1], out.len()), (&[0, 1][..], &[7, 8, 9][..], 4));
        assert!(split(&mut a, &[(2, 2)], (3, 4)).is_err()); // straddles the output's start
        assert!(split(&mut a, &[(6, 1)], (3, 4)).is_err()); // inside the output
        assert!(split(&mut a, &[(0, 1)], (8, 4)).is_err()); // output past the end
        assert!(split(&mut a, &[(9, 2)], (0, 1)).is_err()); // input past the end
    }
}
