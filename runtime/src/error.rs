//! Every way a blob or a call can be rejected. Never a panic.

use crate::format::version::{MIN_VERSION, VERSION};

/// Which part of the blob an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Part {
    /// The 64-byte header.
    Header,
    /// The tensor table as a whole (its offset, its length).
    TensorTable,
    /// The layer table as a whole (its offset, its length).
    LayerTable,
    /// The tensor entry with this index, or its data.
    Tensor(u16),
    /// The layer entry with this index, or its integer constants (versions 1–4).
    Layer(u16),
    /// The node entry with this index, its operands, or its integer constants (version 5).
    Node(u16),
    /// The node table as a whole (its offset, its length; version 5).
    NodeTable,
    /// The front-end record (version 5), or a front end the pipeline does not implement.
    FrontEnd,
    /// The operand list as a whole (version 5): its length against the nodes' inputs.
    OperandList,
}

impl core::fmt::Display for Part {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Part::Header => write!(f, "the header"),
            Part::TensorTable => write!(f, "the tensor table"),
            Part::LayerTable => write!(f, "the layer table"),
            Part::Tensor(i) => write!(f, "tensor {i}"),
            Part::Layer(i) => write!(f, "layer {i}"),
            Part::Node(i) => write!(f, "node {i}"),
            Part::NodeTable => write!(f, "the node table"),
            Part::FrontEnd => write!(f, "the front-end record"),
            Part::OperandList => write!(f, "the operand list"),
        }
    }
}

/// Errors from parsing a blob or running a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Error {
    /// Fewer bytes than the header or the declared length.
    Truncated {
        /// Bytes needed.
        needed: u32,
        /// Bytes given.
        got: u32,
    },
    /// The first four bytes are not `DQEM`.
    BadMagic,
    /// A format version this runtime does not read.
    UnsupportedVersion(u16),
    /// Flag bits this runtime does not know (only `FLAG_HAS_INT` is defined).
    UnknownFlags(u16),
    /// The integer-path flag disagrees with `Part`: the header's input scale and i8 sizes say
    /// the opposite.
    FlagMismatch(Part),
    /// The header's format version disagrees with what `part` holds (FORMAT.md, "What each
    /// check protects").
    VersionMismatch {
        /// The header's format version.
        version: u16,
        /// The part whose contents belong to another version.
        part: Part,
    },
    /// The data regions of the tables (as the version sizes them) add up to `regions` bytes, but
    /// the data area between the layer table and `total_len` holds `area`.
    RegionsMismatch {
        /// Bytes the tables' data regions add up to.
        regions: u32,
        /// Bytes of the data area.
        area: u32,
    },
    /// `total_len` in the header differs from the buffer length.
    LengthMismatch {
        /// `total_len` as the header states it.
        header: u32,
        /// The buffer's length.
        actual: u32,
    },
    /// CRC-32 of the blob body does not match the header.
    Checksum {
        /// The CRC-32 the header stores.
        stored: u32,
        /// The CRC-32 of the bytes given.
        computed: u32,
    },
    /// A reserved field or flag is not zero.
    Reserved(Part),
    /// An offset/length pair points outside the data area.
    OutOfBounds(Part),
    /// A field has a value outside its allowed range (see FORMAT.md).
    InvalidField(Part),
    /// Sizes, shapes or counts that do not fit together.
    ShapeMismatch(Part),
    /// The arena or state sizes in the header differ from what the graph needs.
    SizeMismatch,
    /// A valid blob asks for something this runtime does not implement.
    Unsupported(Part),
    /// The caller's arena is smaller than [`crate::Model::f32_arena_len`] (or the i8 one).
    ArenaTooSmall {
        /// Elements the model needs.
        needed: u32,
        /// Elements the caller gave.
        got: u32,
    },
    /// The caller's state buffer is smaller than the model needs.
    StateTooSmall {
        /// Elements the model needs.
        needed: u32,
        /// Elements the caller gave.
        got: u32,
    },
    /// Input or output slice length differs from the model's.
    BadIoLength {
        /// The length the model (or the input) gives.
        expected: u32,
        /// The length of the caller's slice.
        got: u32,
    },
    /// The integer path was requested but the blob has no integer constants.
    NoIntegerPath,
    /// The model does not map the STFT front end's features to its gains ([`crate::pipeline`]).
    NotADenoiser {
        /// The model's inputs per frame.
        inputs: u32,
        /// The model's outputs per frame.
        outputs: u32,
    },
    /// A denoiser was given a classifier: the blob's front end says the model's output is class
    /// scores ([`crate::pipeline::F32Classifier`] and [`crate::pipeline::I8Classifier`] run it).
    ClassifierBlob,
    /// A classifier was given a blob whose front end says the model's output is gains, per bin
    /// or per band, not class scores: a denoiser ([`crate::pipeline::F32Denoiser`] and
    /// [`crate::pipeline::I8Denoiser`] run it).
    NotAClassifier,
    /// The blob's front end has frames of `blob` samples, the pipeline was built for frames of
    /// `pipeline` samples (256: [`crate::dsp::Narrowband`], 8 kHz; 512:
    /// [`crate::dsp::Wideband`], 16 kHz).
    FrameMismatch {
        /// Samples per frame in the blob's front-end record.
        blob: u16,
        /// Samples per frame of the pipeline's [`crate::dsp::FrameSize`].
        pipeline: u16,
    },
    /// A kernel was called with slices whose lengths do not fit its weights.
    KernelShape,
    /// The blob needs a part of the runtime that this build leaves out (a cargo feature:
    /// [`crate::Feature`]).
    MissingFeature(crate::Feature),
    /// Version 5: operand `operand` of node `node` names value `value`, which is not an earlier
    /// value (a node reads only the input and the outputs of the nodes before it).
    BadOperand {
        /// The node whose operand it is.
        node: u16,
        /// The operand's position among the node's inputs.
        operand: u8,
        /// The value id it names.
        value: u16,
    },
    /// Version 5: node `node`'s output (or its scratch) overlaps value `with` in the arena while
    /// both are live (value 0 is the input, value `j + 1` node `j`'s output).
    ArenaOverlap {
        /// The node whose region overlaps.
        node: u16,
        /// The value it overlaps.
        with: u16,
    },
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::Truncated { needed, got } => write!(f, "blob truncated: need {needed} bytes, got {got}"),
            Error::BadMagic => write!(f, "not a model blob (bad magic; expected \"DQEM\")"),
            Error::UnsupportedVersion(v) => {
                let (v, lo, hi) = (u32::from(*v), u32::from(MIN_VERSION), u32::from(VERSION));
                write!(f, "unsupported blob format version {v} (this runtime reads {lo} to {hi})")
            }
            Error::UnknownFlags(v) => write!(f, "unknown flag bits {:#06x} in the header", u32::from(*v)),
            Error::FlagMismatch(p) => write!(f, "integer-path flag disagrees with {p}"),
            Error::VersionMismatch { version, part } => {
                write!(f, "format version {} disagrees with {part}", u32::from(*version))
            }
            Error::RegionsMismatch { regions, area } => {
                write!(f, "data regions add up to {regions} bytes, the data area holds {area}")
            }
            Error::LengthMismatch { header, actual } => {
                write!(f, "blob length {actual} differs from the header's total_len {header}")
            }
            Error::Checksum { stored, computed } => {
                write!(f, "checksum mismatch: stored {stored:#010x}, computed {computed:#010x} (corrupt blob)")
            }
            Error::Reserved(p) => write!(f, "reserved field not zero in {p}"),
            Error::OutOfBounds(p) => write!(f, "offset/length out of bounds in {p}"),
            Error::InvalidField(p) => write!(f, "field out of range in {p}"),
            Error::ShapeMismatch(p) => write!(f, "inconsistent shapes or counts in {p}"),
            Error::SizeMismatch => write!(f, "arena/state sizes in the header differ from the graph's"),
            Error::Unsupported(p) => write!(f, "unsupported feature in {p}"),
            Error::ArenaTooSmall { needed, got } => write!(f, "arena too small: need {needed} elements, got {got}"),
            Error::StateTooSmall { needed, got } => write!(f, "state too small: need {needed} elements, got {got}"),
            Error::BadIoLength { expected, got } => write!(f, "input/output length {got}, model expects {expected}"),
            Error::NoIntegerPath => write!(f, "this blob has no integer-path constants (export with calibration)"),
            Error::NotADenoiser { inputs, outputs } => write!(
                f,
                "the model maps {inputs} inputs to {outputs} outputs; a denoiser maps {} features to {} gains \
                 (8 kHz log power; {} to {} at 16 kHz) or its bands to band gains",
                crate::dsp::N_FEATURES,
                crate::dsp::BINS,
                crate::dsp::WIDEBAND_FRAME / 2,
                crate::dsp::WIDEBAND_FRAME / 2 + 1
            ),
            Error::ClassifierBlob => write!(
                f,
                "the blob's model outputs class scores, not gains: run it with a classifier \
                 (pipeline::F32Classifier or I8Classifier), not a denoiser"
            ),
            Error::NotAClassifier => write!(
                f,
                "the blob's model outputs gains, not class scores: run it with a denoiser \
                 (pipeline::F32Denoiser or I8Denoiser), not a classifier"
            ),
            Error::FrameMismatch { blob, pipeline } => write!(
                f,
                "the blob's front end has {}-sample frames, the pipeline was built for {}-sample frames",
                u32::from(*blob),
                u32::from(*pipeline)
            ),
            Error::KernelShape => write!(f, "kernel called with inconsistent slice lengths"),
            Error::MissingFeature(feat) => write!(
                f,
                "the blob needs the runtime's cargo feature `{feat}`, which this build leaves out \
                 (enable diffq-runtime/{feat})"
            ),
            Error::BadOperand { node, operand, value } => {
                write!(f, "operand {} of node {node} names value {value}, not an earlier value", u32::from(*operand))
            }
            Error::ArenaOverlap { node, with } => {
                write!(f, "arena plan: node {node}'s output overlaps value {with} while both are live")
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Error {}
