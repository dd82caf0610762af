//! The status codes every function returns, one per `runtime::Error` kind plus the C boundary's
//! own, and their names. `0` is success; every error is negative.

use core::ffi::CStr;
use runtime::Error;

/// Success.
pub const DQD_OK: i32 = 0;
/// A pointer argument is null.
pub const DQD_ERR_NULL: i32 = -1;
/// A pointer is not aligned for its type (a `dqd_model` or `dqd_denoiser` not declared as one,
/// an f32 arena or state not 4-byte aligned).
pub const DQD_ERR_MISALIGNED: i32 = -2;
/// Two buffers that must be distinct overlap (blob, arena, state, the denoiser, the hops).
pub const DQD_ERR_OVERLAP: i32 = -3;
/// The path is neither `DQD_PATH_F32` nor `DQD_PATH_INT`, or one this library was built without.
pub const DQD_ERR_BAD_PATH: i32 = -4;
/// A `dqd_model` or `dqd_denoiser` that no successful `dqd_model_parse` / `dqd_denoiser_init` filled.
pub const DQD_ERR_NOT_INITIALISED: i32 = -5;
/// The blob is shorter than its header or its declared length.
pub const DQD_ERR_TRUNCATED: i32 = -10;
/// The blob does not start with `DQEM`.
pub const DQD_ERR_BAD_MAGIC: i32 = -11;
/// A blob format version this library does not read.
pub const DQD_ERR_UNSUPPORTED_VERSION: i32 = -12;
/// The blob's length differs from the length in its header.
pub const DQD_ERR_LENGTH_MISMATCH: i32 = -13;
/// The blob's CRC-32 does not match (a corrupt blob).
pub const DQD_ERR_CHECKSUM: i32 = -14;
/// A reserved field of the blob is not zero.
pub const DQD_ERR_RESERVED: i32 = -15;
/// An offset in the blob points outside it.
pub const DQD_ERR_OUT_OF_BOUNDS: i32 = -16;
/// A field of the blob has a value out of range.
pub const DQD_ERR_INVALID_FIELD: i32 = -17;
/// Shapes or counts in the blob do not fit together.
pub const DQD_ERR_SHAPE_MISMATCH: i32 = -18;
/// The arena/state sizes in the blob's header differ from its graph's.
pub const DQD_ERR_SIZE_MISMATCH: i32 = -19;
/// A valid blob asks for something this library does not implement.
pub const DQD_ERR_UNSUPPORTED: i32 = -20;
/// The arena is smaller than `dqd_sizes` gives.
pub const DQD_ERR_ARENA_TOO_SMALL: i32 = -21;
/// The state buffer is smaller than `dqd_sizes` gives.
pub const DQD_ERR_STATE_TOO_SMALL: i32 = -22;
/// Input or output length differs from the model's (for `dqd_process`: `samples` is not the model's hop).
pub const DQD_ERR_BAD_IO_LENGTH: i32 = -23;
/// The integer path was asked for, but the blob has no integer constants.
pub const DQD_ERR_NO_INTEGER_PATH: i32 = -24;
/// The blob's model does not map the front end's features to its gains.
pub const DQD_ERR_NOT_A_DENOISER: i32 = -25;
/// A kernel met slices whose lengths do not fit its weights.
pub const DQD_ERR_KERNEL_SHAPE: i32 = -26;
/// The blob's header has flag bits this library does not know.
pub const DQD_ERR_UNKNOWN_FLAGS: i32 = -27;
/// The blob's flags disagree with its contents (e.g. the integer-path flag without integer constants).
pub const DQD_ERR_FLAG_MISMATCH: i32 = -28;
/// The blob's version disagrees with what it holds (e.g. a version that stores biases differently).
pub const DQD_ERR_VERSION_MISMATCH: i32 = -29;
/// The blob's data regions do not add up to its data area.
pub const DQD_ERR_REGIONS_MISMATCH: i32 = -30;
/// A node of the blob's graph reads a value that is not an earlier one.
pub const DQD_ERR_BAD_OPERAND: i32 = -31;
/// The blob's arena plan puts two values live at the same time in overlapping places.
pub const DQD_ERR_ARENA_OVERLAP: i32 = -32;

/// The status code of a runtime error (its kind; the details stay on the Rust side).
pub(crate) fn code(e: Error) -> i32 {
    match e {
        Error::Truncated { .. } => DQD_ERR_TRUNCATED,
        Error::BadMagic => DQD_ERR_BAD_MAGIC,
        Error::UnsupportedVersion(_) => DQD_ERR_UNSUPPORTED_VERSION,
        Error::LengthMismatch { .. } => DQD_ERR_LENGTH_MISMATCH,
        Error::Checksum { .. } => DQD_ERR_CHECKSUM,
        Error::Reserved(_) => DQD_ERR_RESERVED,
        Error::OutOfBounds(_) => DQD_ERR_OUT_OF_BOUNDS,
        Error::InvalidField(_) => DQD_ERR_INVALID_FIELD,
        Error::ShapeMismatch(_) => DQD_ERR_SHAPE_MISMATCH,
        Error::SizeMismatch => DQD_ERR_SIZE_MISMATCH,
        // A front end without a pipeline here (the 8 and 16 kHz ones have one each), or a
        // runtime part the library was built without.
        Error::Unsupported(_) | Error::FrameMismatch { .. } | Error::MissingFeature(_) => DQD_ERR_UNSUPPORTED,
        Error::ArenaTooSmall { .. } => DQD_ERR_ARENA_TOO_SMALL,
        Error::StateTooSmall { .. } => DQD_ERR_STATE_TOO_SMALL,
        Error::BadIoLength { .. } => DQD_ERR_BAD_IO_LENGTH,
        Error::NoIntegerPath => DQD_ERR_NO_INTEGER_PATH,
        // The C API runs the denoiser: a classifier blob is not one; it builds no classifier,
        // which alone answers `NotAClassifier`.
        Error::NotADenoiser { .. } | Error::ClassifierBlob => DQD_ERR_NOT_A_DENOISER,
        Error::NotAClassifier => DQD_ERR_UNSUPPORTED,
        Error::KernelShape => DQD_ERR_KERNEL_SHAPE,
        Error::UnknownFlags(_) => DQD_ERR_UNKNOWN_FLAGS,
        Error::FlagMismatch(_) => DQD_ERR_FLAG_MISMATCH,
        Error::VersionMismatch { .. } => DQD_ERR_VERSION_MISMATCH,
        Error::RegionsMismatch { .. } => DQD_ERR_REGIONS_MISMATCH,
        Error::BadOperand { .. } => DQD_ERR_BAD_OPERAND,
        Error::ArenaOverlap { .. } => DQD_ERR_ARENA_OVERLAP,
    }
}

/// Every code with its name: the one table [`name`] reads.
pub(crate) const NAMES: [(i32, &CStr); 29] = [
    (DQD_OK, c"DQD_OK"),
    (DQD_ERR_NULL, c"DQD_ERR_NULL"),
    (DQD_ERR_MISALIGNED, c"DQD_ERR_MISALIGNED"),
    (DQD_ERR_OVERLAP, c"DQD_ERR_OVERLAP"),
    (DQD_ERR_BAD_PATH, c"DQD_ERR_BAD_PATH"),
    (DQD_ERR_NOT_INITIALISED, c"DQD_ERR_NOT_INITIALISED"),
    (DQD_ERR_TRUNCATED, c"DQD_ERR_TRUNCATED"),
    (DQD_ERR_BAD_MAGIC, c"DQD_ERR_BAD_MAGIC"),
    (DQD_ERR_UNSUPPORTED_VERSION, c"DQD_ERR_UNSUPPORTED_VERSION"),
    (DQD_ERR_LENGTH_MISMATCH, c"DQD_ERR_LENGTH_MISMATCH"),
    (DQD_ERR_CHECKSUM, c"DQD_ERR_CHECKSUM"),
    (DQD_ERR_RESERVED, c"DQD_ERR_RESERVED"),
    (DQD_ERR_OUT_OF_BOUNDS, c"DQD_ERR_OUT_OF_BOUNDS"),
    (DQD_ERR_INVALID_FIELD, c"DQD_ERR_INVALID_FIELD"),
    (DQD_ERR_SHAPE_MISMATCH, c"DQD_ERR_SHAPE_MISMATCH"),
    (DQD_ERR_SIZE_MISMATCH, c"DQD_ERR_SIZE_MISMATCH"),
    (DQD_ERR_UNSUPPORTED, c"DQD_ERR_UNSUPPORTED"),
    (DQD_ERR_ARENA_TOO_SMALL, c"DQD_ERR_ARENA_TOO_SMALL"),
    (DQD_ERR_STATE_TOO_SMALL, c"DQD_ERR_STATE_TOO_SMALL"),
    (DQD_ERR_BAD_IO_LENGTH, c"DQD_ERR_BAD_IO_LENGTH"),
    (DQD_ERR_NO_INTEGER_PATH, c"DQD_ERR_NO_INTEGER_PATH"),
    (DQD_ERR_NOT_A_DENOISER, c"DQD_ERR_NOT_A_DENOISER"),
    (DQD_ERR_KERNEL_SHAPE, c"DQD_ERR_KERNEL_SHAPE"),
    (DQD_ERR_UNKNOWN_FLAGS, c"DQD_ERR_UNKNOWN_FLAGS"),
    (DQD_ERR_FLAG_MISMATCH, c"DQD_ERR_FLAG_MISMATCH"),
    (DQD_ERR_VERSION_MISMATCH, c"DQD_ERR_VERSION_MISMATCH"),
    (DQD_ERR_REGIONS_MISMATCH, c"DQD_ERR_REGIONS_MISMATCH"),
    (DQD_ERR_BAD_OPERAND, c"DQD_ERR_BAD_OPERAND"),
    (DQD_ERR_ARENA_OVERLAP, c"DQD_ERR_ARENA_OVERLAP"),
];

/// The name of `status`, or `DQD_ERR_UNKNOWN` for a number that is no status code.
pub(crate) fn name(status: i32) -> &'static CStr {
    NAMES.iter().find(|(c, _)| *c == status).map_or(c"DQD_ERR_UNKNOWN", |(_, n)| n)
}

/// `Ok(())` → [`DQD_OK`], an error → its code.
pub(crate) fn status(r: Result<(), i32>) -> i32 {
    r.err().unwrap_or(DQD_OK)
}

#[cfg(test)]
mod tests {
    use super::*;
    use runtime::Part;

    #[test]
    fn codes_are_distinct_and_named() {
        for (i, (c, n)) in NAMES.iter().enumerate() {
            assert!(NAMES.iter().skip(i + 1).all(|(d, _)| d != c), "code {c} twice");
            assert_eq!(name(*c), *n);
            assert!(*c <= 0);
        }
        assert_eq!(name(1), c"DQD_ERR_UNKNOWN");
        assert_eq!(name(-9), c"DQD_ERR_UNKNOWN");
    }

    #[test]
    fn every_runtime_error_has_a_named_code() {
        let all = [
            Error::Truncated { needed: 1, got: 0 },
            Error::BadMagic,
            Error::UnsupportedVersion(9),
            Error::LengthMismatch { header: 1, actual: 2 },
            Error::Checksum { stored: 1, computed: 2 },
            Error::Reserved(Part::Header),
            Error::OutOfBounds(Part::TensorTable),
            Error::InvalidField(Part::Layer(0)),
            Error::ShapeMismatch(Part::Tensor(1)),
            Error::SizeMismatch,
            Error::Unsupported(Part::LayerTable),
            Error::ArenaTooSmall { needed: 2, got: 1 },
            Error::StateTooSmall { needed: 2, got: 1 },
            Error::BadIoLength { expected: 2, got: 1 },
            Error::NoIntegerPath,
            Error::NotADenoiser { inputs: 1, outputs: 2 },
            Error::KernelShape,
            Error::UnknownFlags(0x80),
            Error::FlagMismatch(Part::Header),
            Error::VersionMismatch { version: 3, part: Part::Layer(0) },
            Error::RegionsMismatch { regions: 1, area: 2 },
            Error::BadOperand { node: 1, operand: 0, value: 2 },
            Error::ArenaOverlap { node: 1, with: 0 },
        ];
        let codes: std::vec::Vec<i32> = all.iter().map(|e| code(*e)).collect();
        for (i, c) in codes.iter().enumerate() {
            assert!(*c < DQD_ERR_NOT_INITIALISED, "{:?} maps to a boundary code", all[i]);
            assert_ne!(name(*c), c"DQD_ERR_UNKNOWN");
            assert!(codes.iter().skip(i + 1).all(|d| d != c), "two runtime errors share code {c}");
        }
    }
}
