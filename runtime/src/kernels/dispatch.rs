//! Turning a run-time bit width into a const generic: the dispatch to the mixed-width kernels'
//! unrolled group bodies (`width-N` features), to the fixed-width kernels (`fixed-N`), and the
//! tests' dispatch over every width up to 8.

/// Calls `$f::<B>` (or `$f::<B, $extra…>`) with the run-time bit width `$b` turned into a const
/// generic, for widths 1..=8 only (`$default` otherwise), whatever this build's `width-N`
/// features (the tests' dispatch; the kernels use [`dispatch_built_width`]).
#[cfg(test)]
macro_rules! dispatch_bits_upto8 {
    ($b:expr, $f:ident, $default:expr, ($($arg:expr),*)) => {
        dispatch_bits_upto8!($b, $f, [], $default, ($($arg),*))
    };
    ($b:expr, $f:ident, [$($extra:tt)*], $default:expr, ($($arg:expr),*)) => {
        match $b {
            1 => $f::<1 $(, $extra)*>($($arg),*),
            2 => $f::<2 $(, $extra)*>($($arg),*),
            3 => $f::<3 $(, $extra)*>($($arg),*),
            4 => $f::<4 $(, $extra)*>($($arg),*),
            5 => $f::<5 $(, $extra)*>($($arg),*),
            6 => $f::<6 $(, $extra)*>($($arg),*),
            7 => $f::<7 $(, $extra)*>($($arg),*),
            8 => $f::<8 $(, $extra)*>($($arg),*),
            _ => $default,
        }
    };
}
#[cfg(test)]
pub(crate) use dispatch_bits_upto8;

/// Calls `$f::<B>` (or `$f::<B, $extra…>`) with the run-time bit width `$b` turned into a const
/// generic, for the mixed-width kernels' group bodies, with only the widths this build unrolls (the `width-1` … `width-8` features; [`crate::Feature::width`]):
/// any other width takes `$default` (a mixed-width group: the any-width body, which gives the
/// same results (tested) more slowly). A firmware build names the widths its model's groups use
/// and carries no other copies.
macro_rules! dispatch_built_width {
    ($b:expr, $f:ident, [$($extra:tt)*], $default:expr, ($($arg:expr),*)) => {
        match $b {
            #[cfg(feature = "width-1")]
            1 => $f::<1 $(, $extra)*>($($arg),*),
            #[cfg(feature = "width-2")]
            2 => $f::<2 $(, $extra)*>($($arg),*),
            #[cfg(feature = "width-3")]
            3 => $f::<3 $(, $extra)*>($($arg),*),
            #[cfg(feature = "width-4")]
            4 => $f::<4 $(, $extra)*>($($arg),*),
            #[cfg(feature = "width-5")]
            5 => $f::<5 $(, $extra)*>($($arg),*),
            #[cfg(feature = "width-6")]
            6 => $f::<6 $(, $extra)*>($($arg),*),
            #[cfg(feature = "width-7")]
            7 => $f::<7 $(, $extra)*>($($arg),*),
            #[cfg(feature = "width-8")]
            8 => $f::<8 $(, $extra)*>($($arg),*),
            _ => $default,
        }
    };
}
pub(crate) use dispatch_built_width;

/// Calls `$f::<B>` with the run-time bit width `$b` of a tensor whose groups all have `B` bits
/// turned into a const generic, for the fixed-width kernels this build has (the `fixed-1` …
/// `fixed-8` features; [`crate::Feature::fixed`]): any other width takes `$default`.
macro_rules! dispatch_fixed_width {
    ($b:expr, $f:ident, $default:expr, ($($arg:expr),*)) => {
        match $b {
            #[cfg(feature = "fixed-1")]
            1 => $f::<1>($($arg),*),
            #[cfg(feature = "fixed-2")]
            2 => $f::<2>($($arg),*),
            #[cfg(feature = "fixed-3")]
            3 => $f::<3>($($arg),*),
            #[cfg(feature = "fixed-4")]
            4 => $f::<4>($($arg),*),
            #[cfg(feature = "fixed-5")]
            5 => $f::<5>($($arg),*),
            #[cfg(feature = "fixed-6")]
            6 => $f::<6>($($arg),*),
            #[cfg(feature = "fixed-7")]
            7 => $f::<7>($($arg),*),
            #[cfg(feature = "fixed-8")]
            8 => $f::<8>($($arg),*),
            _ => $default,
        }
    };
}
pub(crate) use dispatch_fixed_width;

/// Bit `b` set for each width `b` whose fixed-width kernels this build has (feature `fixed-b`).
const FIXED_WIDTHS: u16 = enabled_widths(true);

/// Whether tensors whose groups all have `b` bits have their fixed-width kernels in this build
/// ([`dispatch_fixed_width`] reaches its default only for the others).
#[inline(always)]
pub(crate) const fn fixed_width_built(b: u8) -> bool {
    b < 16 && (FIXED_WIDTHS >> b) & 1 != 0
}

/// Bit `b` set for each width `b` whose unrolled bodies this build has (feature `width-b`).
const BUILT_WIDTHS: u16 = enabled_widths(false);

/// Bit `b` set for each width `b` 1..=8 whose feature this build has (`fixed`: `fixed-b`, else
/// `width-b`), computed at compile time from the runtime's one record of them,
/// [`crate::Feature::enabled`].
const fn enabled_widths(fixed: bool) -> u16 {
    let (mut mask, mut b) = (0u16, 1u8);
    while b <= 8 {
        let feature = if fixed { crate::Feature::fixed(b) } else { crate::Feature::width(b) };
        if let Some(f) = feature {
            if f.enabled() {
                mask |= 1 << b;
            }
        }
        b += 1;
    }
    mask
}

/// Whether `b`-bit groups have their unrolled bodies in this build ([`dispatch_built_width`]
/// reaches its default only for the others): a test before the dispatch (one shift and mask),
/// so that the dispatch's default stays a cheap `None` rather than a second copy of the
/// any-width body in the loop.
#[inline(always)]
pub(crate) const fn built_width(b: u8) -> bool {
    b < 16 && (BUILT_WIDTHS >> b) & 1 != 0
}

/// Whether this build has the mixed-width unrolled group bodies of tensors in rows (`rows`;
/// without, they run on the any-width bodies, bit-identical).
pub(crate) const fn row_bodies_built() -> bool {
    cfg!(feature = "rows")
}

/// Whether this build has the unrolled group bodies of a pair layout: `row-pairs` (without, row
/// pairs run on the any-width bodies, bit-identical), `lane-pairs` (without, no lane-pair code).
pub(crate) const fn pair_bodies_built(lanes: bool) -> bool {
    (lanes && cfg!(feature = "lane-pairs")) || (!lanes && cfg!(feature = "row-pairs"))
}
