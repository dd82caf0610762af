//! The parts of the runtime that cargo features leave out of a build, and what a blob needs of
//! them ([`Model::needs`], [`Model::check_features`]): firmware for a small part builds only the
//! parts its model runs, and a blob that needs a part the build lacks gets
//! [`Error::MissingFeature`], never a panic.

use crate::error::Error;
use crate::format::{Features, Layout, Node, Op, Output, Packed, Weights};
use crate::kernels::{FAST_GROUP_SIZE, LONG_GROUP_SIZE, SHORT_GROUP_SIZE};
use crate::Model;

/// A part of the runtime behind a cargo feature of the same name (all in `default`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Feature {
    /// `any-group-size`: the matrix-vector kernels for packed tensors whose group size is none of
    /// [`crate::kernels::FAST_GROUP_SIZE`], [`crate::kernels::SHORT_GROUP_SIZE`] and
    /// [`crate::kernels::LONG_GROUP_SIZE`] (one more copy of each, with run-time group loops).
    AnyGroupSize,
    /// `group-48`: the matrix-vector kernels unrolled for packed tensors in groups of
    /// [`crate::kernels::SHORT_GROUP_SIZE`] (48: rows of 48 inputs; one more copy of each).
    Group48,
    /// `group-96`: the matrix-vector kernels unrolled for packed tensors in groups of
    /// [`crate::kernels::LONG_GROUP_SIZE`] (96: row-pair groups over rows of 48 inputs, the
    /// 16 kHz model's GRUs; one more copy of each).
    Group96,
    /// `wideband`: the 16 kHz front end ([`crate::dsp::Wideband`]: 512-point FFTs and tables).
    Wideband,
    /// `bands`: the filterbank front end: log-mel (band) features and gains per band, spread over
    /// the bins ([`crate::dsp::FilterBank`]).
    Bands,
    /// `grouped-conv`: conv1d nodes with `groups > 1` (grouped and depthwise).
    GroupedConv,
    /// `gru`: gru nodes.
    Gru,
    /// `conv2d`: conv2d nodes.
    Conv2d,
    /// `pool`: avgpool and maxpool nodes.
    Pool,
    /// `graph`: graph blobs (version 5: a node table, `FORMAT.md`) and their interpreter. Without
    /// it the runtime reads and runs chain blobs (versions 1–4) only and refuses a graph blob in
    /// [`Model::parse`]; the graph-only ops' features (`grouped-conv`, `gru`, `conv2d`, `pool`)
    /// turn it on.
    Graph,
    /// `width-1` … `width-8`: the mixed-width kernels' unrolled group bodies for groups of that
    /// many bits. Never needed: a width left out runs on the any-width body, bit-identical and
    /// slower, and a build with only the widths its blob uses is smaller and, with fewer bodies
    /// to dispatch among, no slower. This one: `width-1`.
    Width1,
    /// `width-2`.
    Width2,
    /// `width-3`.
    Width3,
    /// `width-4`.
    Width4,
    /// `width-5`.
    Width5,
    /// `width-6`.
    Width6,
    /// `width-7`.
    Width7,
    /// `width-8`.
    Width8,
    /// `rows`: the mixed-width kernels' unrolled group bodies of tensors in rows (FORMAT.md
    /// layout 0) whose groups are not all of one width. Never needed, as a `width-N`: without it
    /// such groups run on the any-width bodies, as does the lone last row of a pair tensor with
    /// an odd number of rows (one row: [`Model::runs_fastest_with`] does not ask for it there).
    Rows,
    /// `row-pairs`: the unrolled group bodies of row-pair tensors (FORMAT.md layout 1). Never
    /// needed, as a `width-N`: without it such groups run on the any-width bodies.
    RowPairs,
    /// `lane-pairs`: the kernels of lane-pair tensors (FORMAT.md layout 2; dual 16-bit
    /// multiply-accumulates on Armv7E-M), needed by a blob that has one (a build without them
    /// has no lane-pair code at all).
    LanePairs,
    /// `fixed-1` … `fixed-8` (`fixed-width-kernels`: all eight): the unrolled matrix-vector
    /// kernel for a tensor whose groups all have that width (rows in order). Needed on the f32
    /// path by such a tensor (the mixed-width kernel adds its sums in another order, so the f32
    /// path refuses it rather than give other results); the integer path runs it on the
    /// mixed-width kernel without, bit-identical and slower. This one: `fixed-1`.
    Fixed1,
    /// `fixed-2`.
    Fixed2,
    /// `fixed-3`.
    Fixed3,
    /// `fixed-4`.
    Fixed4,
    /// `fixed-5`.
    Fixed5,
    /// `fixed-6`.
    Fixed6,
    /// `fixed-7`.
    Fixed7,
    /// `fixed-8`.
    Fixed8,
}

impl Feature {
    /// Every feature, in declaration order.
    pub const ALL: [Feature; 29] = [
        Feature::AnyGroupSize,
        Feature::Group48,
        Feature::Group96,
        Feature::Wideband,
        Feature::Bands,
        Feature::GroupedConv,
        Feature::Gru,
        Feature::Conv2d,
        Feature::Pool,
        Feature::Graph,
        Feature::Width1,
        Feature::Width2,
        Feature::Width3,
        Feature::Width4,
        Feature::Width5,
        Feature::Width6,
        Feature::Width7,
        Feature::Width8,
        Feature::Rows,
        Feature::RowPairs,
        Feature::LanePairs,
        Feature::Fixed1,
        Feature::Fixed2,
        Feature::Fixed3,
        Feature::Fixed4,
        Feature::Fixed5,
        Feature::Fixed6,
        Feature::Fixed7,
        Feature::Fixed8,
    ];

    /// The `width-N` feature of `b`-bit groups (`None` past 8: those always take the any-width
    /// body).
    pub const fn width(b: u8) -> Option<Feature> {
        match b {
            1 => Some(Feature::Width1),
            2 => Some(Feature::Width2),
            3 => Some(Feature::Width3),
            4 => Some(Feature::Width4),
            5 => Some(Feature::Width5),
            6 => Some(Feature::Width6),
            7 => Some(Feature::Width7),
            8 => Some(Feature::Width8),
            _ => None,
        }
    }

    /// The `fixed-N` feature of tensors whose groups all have `b` bits (`None` past 8: those
    /// always take the mixed-width kernel).
    pub const fn fixed(b: u8) -> Option<Feature> {
        match b {
            1 => Some(Feature::Fixed1),
            2 => Some(Feature::Fixed2),
            3 => Some(Feature::Fixed3),
            4 => Some(Feature::Fixed4),
            5 => Some(Feature::Fixed5),
            6 => Some(Feature::Fixed6),
            7 => Some(Feature::Fixed7),
            8 => Some(Feature::Fixed8),
            _ => None,
        }
    }

    /// The feature whose kernels run packed tensors in groups of `group_size`: none for
    /// [`FAST_GROUP_SIZE`], [`Feature::Group48`] for [`SHORT_GROUP_SIZE`], [`Feature::Group96`]
    /// for [`LONG_GROUP_SIZE`], else [`Feature::AnyGroupSize`].
    pub const fn for_group_size(group_size: u16) -> Option<Feature> {
        match group_size as usize {
            FAST_GROUP_SIZE => None,
            SHORT_GROUP_SIZE => Some(Feature::Group48),
            LONG_GROUP_SIZE => Some(Feature::Group96),
            _ => Some(Feature::AnyGroupSize),
        }
    }

    /// The cargo feature's name.
    pub const fn name(self) -> &'static str {
        match self {
            Feature::AnyGroupSize => "any-group-size",
            Feature::Group48 => "group-48",
            Feature::Group96 => "group-96",
            Feature::Wideband => "wideband",
            Feature::Bands => "bands",
            Feature::GroupedConv => "grouped-conv",
            Feature::Gru => "gru",
            Feature::Conv2d => "conv2d",
            Feature::Pool => "pool",
            Feature::Graph => "graph",
            Feature::Width1 => "width-1",
            Feature::Width2 => "width-2",
            Feature::Width3 => "width-3",
            Feature::Width4 => "width-4",
            Feature::Width5 => "width-5",
            Feature::Width6 => "width-6",
            Feature::Width7 => "width-7",
            Feature::Width8 => "width-8",
            Feature::Rows => "rows",
            Feature::RowPairs => "row-pairs",
            Feature::LanePairs => "lane-pairs",
            Feature::Fixed1 => "fixed-1",
            Feature::Fixed2 => "fixed-2",
            Feature::Fixed3 => "fixed-3",
            Feature::Fixed4 => "fixed-4",
            Feature::Fixed5 => "fixed-5",
            Feature::Fixed6 => "fixed-6",
            Feature::Fixed7 => "fixed-7",
            Feature::Fixed8 => "fixed-8",
        }
    }

    /// Whether this build of the runtime has it.
    pub const fn enabled(self) -> bool {
        match self {
            Feature::AnyGroupSize => cfg!(feature = "any-group-size"),
            Feature::Group48 => cfg!(feature = "group-48"),
            Feature::Group96 => cfg!(feature = "group-96"),
            Feature::Wideband => cfg!(feature = "wideband"),
            Feature::Bands => cfg!(feature = "bands"),
            Feature::GroupedConv => cfg!(feature = "grouped-conv"),
            Feature::Gru => cfg!(feature = "gru"),
            Feature::Conv2d => cfg!(feature = "conv2d"),
            Feature::Pool => cfg!(feature = "pool"),
            Feature::Graph => cfg!(feature = "graph"),
            Feature::Width1 => cfg!(feature = "width-1"),
            Feature::Width2 => cfg!(feature = "width-2"),
            Feature::Width3 => cfg!(feature = "width-3"),
            Feature::Width4 => cfg!(feature = "width-4"),
            Feature::Width5 => cfg!(feature = "width-5"),
            Feature::Width6 => cfg!(feature = "width-6"),
            Feature::Width7 => cfg!(feature = "width-7"),
            Feature::Width8 => cfg!(feature = "width-8"),
            Feature::Rows => cfg!(feature = "rows"),
            Feature::RowPairs => cfg!(feature = "row-pairs"),
            Feature::LanePairs => cfg!(feature = "lane-pairs"),
            Feature::Fixed1 => cfg!(feature = "fixed-1"),
            Feature::Fixed2 => cfg!(feature = "fixed-2"),
            Feature::Fixed3 => cfg!(feature = "fixed-3"),
            Feature::Fixed4 => cfg!(feature = "fixed-4"),
            Feature::Fixed5 => cfg!(feature = "fixed-5"),
            Feature::Fixed6 => cfg!(feature = "fixed-6"),
            Feature::Fixed7 => cfg!(feature = "fixed-7"),
            Feature::Fixed8 => cfg!(feature = "fixed-8"),
        }
    }

    /// The feature that runs node `n`'s op, if one does.
    pub fn of_node(n: &Node) -> Option<Feature> {
        match n.op {
            Op::Conv1d if n.groups > 1 => Some(Feature::GroupedConv),
            Op::Gru => Some(Feature::Gru),
            Op::Conv2d => Some(Feature::Conv2d),
            Op::AvgPool | Op::MaxPool => Some(Feature::Pool),
            _ => None,
        }
    }
}

impl core::fmt::Display for Feature {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// The arithmetic a model runs on: what [`Model::needs`] depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Precision {
    /// The f32 path ([`Model::step_f32`], the `F32` pipelines).
    F32,
    /// The integer path ([`Model::step_i8`], the `I8` pipelines).
    Int,
}

impl Model<'_> {
    /// Whether running this blob on `path` needs feature `f` (whatever this build has): the
    /// 16 kHz front end needs [`Feature::Wideband`], log-mel features or band gains
    /// [`Feature::Bands`]; a packed tensor of one width 1–8 in row order needs that width's
    /// `fixed-N` ([`Feature::fixed`]) on the f32 path (and no group-size feature: on the integer
    /// path neither where this build has that `fixed-N`), one in groups of [`SHORT_GROUP_SIZE`]
    /// [`Feature::Group48`], one in groups of [`LONG_GROUP_SIZE`] [`Feature::Group96`], one of
    /// another group size than those and [`FAST_GROUP_SIZE`]
    /// [`Feature::AnyGroupSize`]; a lane-pair tensor [`Feature::LanePairs`]; a node needs its
    /// op's feature ([`Feature::of_node`]); a graph blob (version 5) [`Feature::Graph`].
    pub fn needs(&self, f: Feature, path: Precision) -> bool {
        match f {
            Feature::Wideband => self.front_end().is_ok_and(|fe| u32::from(fe.sample_rate) == WIDEBAND_RATE),
            Feature::Bands => {
                self.front_end().is_ok_and(|fe| fe.features == Features::LogMel || fe.output == Output::BandGains)
            }
            Feature::Graph => self.header().is_graph(),
            Feature::AnyGroupSize | Feature::Group48 | Feature::Group96 => self
                .any_packed(|p| Feature::for_group_size(p.group_size) == Some(f) && !taken_by_fixed_kernel(&p, path)),
            Feature::GroupedConv | Feature::Gru | Feature::Conv2d | Feature::Pool => {
                (0..self.n_nodes()).any(|i| self.node(i).is_ok_and(|n| Feature::of_node(&n) == Some(f)))
            }
            Feature::Width1
            | Feature::Width2
            | Feature::Width3
            | Feature::Width4
            | Feature::Width5
            | Feature::Width6
            | Feature::Width7
            | Feature::Width8
            | Feature::Rows
            | Feature::RowPairs => false,
            Feature::LanePairs => self.any_packed(|p| layout_feature(&p) == Some(f)),
            Feature::Fixed1
            | Feature::Fixed2
            | Feature::Fixed3
            | Feature::Fixed4
            | Feature::Fixed5
            | Feature::Fixed6
            | Feature::Fixed7
            | Feature::Fixed8 => path == Precision::F32 && self.any_packed(|p| fixed_feature(&p) == Some(f)),
        }
    }

    /// Whether this blob runs at full speed on `path` only with feature `f`: what it
    /// [`needs`](Self::needs), and on the integer path also the `fixed-N` of each tensor of one
    /// width 1–8 (without it such a tensor runs, bit-identical, on the slower mixed-width
    /// kernel), the `width-N` of every width its groups use and the layouts its tensors are
    /// stored in (`rows` for a tensor in rows not of one width 1–8, `row-pairs`, `lane-pairs`).
    /// The parts a firmware build for this blob should turn on.
    pub fn runs_fastest_with(&self, f: Feature, path: Precision) -> bool {
        self.needs(f, path)
            || self.any_packed(|p| fixed_feature(&p) == Some(f) || uses_width(&p, f) || layout_feature(&p) == Some(f))
    }

    /// [`Error::MissingFeature`] with the first feature this blob needs on `path` that this build
    /// leaves out.
    pub fn check_features(&self, path: Precision) -> Result<(), Error> {
        match Feature::ALL.into_iter().find(|&f| !f.enabled() && self.needs(f, path)) {
            Some(f) => Err(Error::MissingFeature(f)),
            None => Ok(()),
        }
    }

    /// Whether a packed tensor meets `pred`.
    fn any_packed(&self, pred: impl Fn(Packed<'_>) -> bool) -> bool {
        (0..self.n_tensors()).any(|i| self.tensor(i).is_ok_and(|t| matches!(t.weights, Weights::Packed(p) if pred(p))))
    }
}

/// The feature of the unrolled bodies of a packed tensor's layout (none for a tensor in rows of
/// one width 1–8: it takes a fixed-width kernel).
fn layout_feature(p: &Packed<'_>) -> Option<Feature> {
    match p.layout {
        Layout::Rows => fixed_feature(p).is_none().then_some(Feature::Rows),
        Layout::RowPairs { lanes: false, .. } => Some(Feature::RowPairs),
        Layout::RowPairs { lanes: true, .. } => Some(Feature::LanePairs),
    }
}

/// Whether a packed tensor has a group whose width's unrolled bodies are feature `f`.
fn uses_width(p: &Packed<'_>, f: Feature) -> bool {
    p.bits_iter().take(p.n_groups()).any(|b| Feature::width(b) == Some(f))
}

/// Whether a packed tensor runs on a fixed-width kernel, whatever its group size: on the f32 path
/// any tensor that has one (without its `fixed-N` it is refused, not run by group size), on the
/// integer path one whose `fixed-N` this build has and whose level sums fit i32 (checked on the
/// whole tensor: a bound on any row's inputs).
fn taken_by_fixed_kernel(p: &Packed<'_>, path: Precision) -> bool {
    fixed_feature(p).is_some_and(|f| {
        path == Precision::F32
            || (f.enabled() && p.fixed_bits().is_some_and(|b| crate::kernels::fits_i32(p.count as usize, b)))
    })
}

/// The `fixed-N` feature of the fixed-width kernel a packed tensor takes, if it takes one: every
/// group 1–8 bits, rows in order.
fn fixed_feature(p: &Packed<'_>) -> Option<Feature> {
    if p.layout == Layout::Rows {
        p.fixed_bits().and_then(Feature::fixed)
    } else {
        None
    }
}

/// The 16 kHz front end's rate ([`crate::dsp::Wideband`]'s, named here for builds without it).
pub(crate) const WIDEBAND_RATE: u32 = 16000;
