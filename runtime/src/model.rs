//! The validated model view: `Model::parse` checks how the entries of a blob fit together (each
//! entry checks itself in `format`): a chain of layers (versions 1–4, [`chain`]) or a node
//! graph (version 5, [`graph`], with the arena plan in [`plan`]). Both are seen through one
//! graph view, [`Model::node`] and [`Model::inputs`]; the frame-by-frame executor is in
//! [`step`] (the chain's ping-pong loop) and [`graph_step`] (the graph's planned arena).

mod chain;
mod graph;
mod graph_step;
mod kern;
mod plan;
mod split;
mod step;
mod view;
pub use step::LayerHook;
pub use view::Inputs;

use crate::error::{Error, Part};
use crate::feature::Feature;
use crate::format::{len32, Header, Layout, Tensor, Weights, ROW_PAIRS_VERSION};

/// A blob that passed every check of FORMAT.md; borrows the bytes (flash), copies nothing.
#[derive(Debug, Clone, Copy)]
pub struct Model<'a> {
    blob: &'a [u8],
    header: Header,
}

/// Streaming state of the f32 path: conv histories (zero = silence before the stream).
pub struct StateF32<'s> {
    buf: &'s mut [f32],
    frame: u64,
}

/// Streaming state of the integer path.
pub struct StateI8<'s> {
    buf: &'s mut [i8],
    frame: u64,
}

impl<'s> StateF32<'s> {
    /// Wraps a buffer of at least `Model::f32_state_len` elements and zeroes it.
    pub fn new(buf: &'s mut [f32]) -> Self {
        buf.fill(0.0);
        StateF32 { buf, frame: 0 }
    }
    /// Forgets the past: the next frame is the start of a stream.
    pub fn reset(&mut self) {
        self.buf.fill(0.0);
        self.frame = 0;
    }
}

impl<'s> StateI8<'s> {
    /// Wraps a buffer of at least `Model::i8_state_len` elements and zeroes it.
    pub fn new(buf: &'s mut [i8]) -> Self {
        buf.fill(0);
        StateI8 { buf, frame: 0 }
    }
    /// Forgets the past: the next frame is the start of a stream.
    pub fn reset(&mut self) {
        self.buf.fill(0);
        self.frame = 0;
    }
}

impl<'a> Model<'a> {
    /// Validates everything (lengths, CRC, offsets, counts, bit widths, shapes, operands, the
    /// arena plan, sizes, and that the version and flags agree with the contents: FORMAT.md,
    /// "What each check protects").
    pub fn parse(blob: &'a [u8]) -> Result<Self, Error> {
        let header = Header::read(blob)?;
        if header.data_start() > blob.len() {
            return Err(Error::Truncated { needed: len32_of(header.data_start()), got: len32(blob) });
        }
        if header.is_graph() && !Feature::Graph.enabled() {
            return Err(Error::MissingFeature(Feature::Graph));
        }
        let m = Model { blob, header };
        if m.is_graph() {
            m.front_end_checked()?;
        }
        let (mut regions, mut pairs) = (0u64, false);
        for i in 0..header.n_tensors {
            let t = Tensor::read(blob, &header, i)?;
            regions += t.region_bytes() as u64;
            pairs |= matches!(t.weights, Weights::Packed(pk) if pk.layout != Layout::Rows);
        }
        // The writer writes version 2 only for a blob with row pairs (else 1, which reads the same).
        if header.version == ROW_PAIRS_VERSION && !pairs {
            return Err(Error::VersionMismatch { version: header.version, part: Part::TensorTable });
        }
        let (sizes, int_bytes) = if m.is_graph() { m.check_graph()? } else { m.check_chain()? };
        if sizes.iter().zip(header.buffer_lens()).any(|(&e, g)| e != g) {
            return Err(Error::SizeMismatch);
        }
        // Every data byte belongs to a region as the version sizes them (no gap, no trailing bytes).
        let area = blob.len().saturating_sub(header.data_start()) as u64;
        let regions = regions.saturating_add(int_bytes);
        if regions != area {
            let u32_of = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
            return Err(Error::RegionsMismatch { regions: u32_of(regions), area: u32_of(area) });
        }
        Ok(m)
    }

    /// The decoded header.
    pub fn header(&self) -> &Header {
        &self.header
    }
    /// The whole blob, as given to [`Model::parse`].
    pub fn bytes(&self) -> &'a [u8] {
        self.blob
    }
    /// Inputs per frame (the features).
    pub fn input_len(&self) -> usize {
        usize::from(self.header.input_len)
    }
    /// Outputs per frame (the mask).
    pub fn output_len(&self) -> usize {
        usize::from(self.header.output_len)
    }
    /// f32 elements of activation arena [`Model::step_f32`] needs.
    pub fn f32_arena_len(&self) -> usize {
        self.header.f32_arena_len as usize
    }
    /// f32 elements of state buffer ([`StateF32`]) the f32 path needs.
    pub fn f32_state_len(&self) -> usize {
        self.header.f32_state_len as usize
    }
    /// i8 elements of activation arena [`Model::step_i8`] needs (0 without integer constants).
    pub fn i8_arena_len(&self) -> usize {
        self.header.i8_arena_len as usize
    }
    /// i8 elements of state buffer ([`StateI8`]) the integer path needs (0 without integer
    /// constants).
    pub fn i8_state_len(&self) -> usize {
        self.header.i8_state_len as usize
    }
    /// Whether the blob carries the integer path's constants ([`Model::step_i8`] runs).
    pub fn has_int(&self) -> bool {
        self.header.has_int()
    }
    /// Integer path: features enter as `round(x / input_scale)`.
    pub fn input_scale(&self) -> f32 {
        self.header.input_scale
    }
    /// Integer path: output `q` means `q · output_scale`.
    pub fn output_scale(&self) -> f32 {
        self.node(self.header.n_nodes.saturating_sub(1)).map_or(0.0, |n| n.out_scale)
    }
    /// Number of nodes (the layers of a version 1–4 blob).
    pub fn n_nodes(&self) -> u16 {
        self.header.n_nodes
    }
    /// Number of layers of a version 1–4 blob ([`Model::layer`]); 0 for a node graph.
    pub fn n_layers(&self) -> u16 {
        if self.is_graph() {
            0
        } else {
            self.header.n_nodes
        }
    }
    /// Number of tensors.
    pub fn n_tensors(&self) -> u16 {
        self.header.n_tensors
    }
    /// Tensor `i`, its values in place; an error past the last.
    pub fn tensor(&self, i: u16) -> Result<Tensor<'a>, Error> {
        Tensor::read(self.blob, &self.header, i)
    }

    /// Whether this is a graph blob (version 5). Always false in a build without
    /// [`Feature::Graph`], which refuses graph blobs in [`Model::parse`]: the graph interpreter's
    /// branches fold away and it is not linked.
    fn is_graph(&self) -> bool {
        Feature::Graph.enabled() && self.header.is_graph()
    }

    /// The executor's per-frame lookup: no O(groups) re-validation (done once in `parse`).
    fn weights(&self, i: u16) -> Result<Weights<'a>, Error> {
        Tensor::read_unchecked_groups(self.blob, &self.header, i).map(|t| t.weights)
    }

    /// The part errors about node `i` name: `Node(i)`, or `Layer(i)` in versions 1–4.
    fn part(&self, i: u16) -> Part {
        if self.is_graph() {
            Part::Node(i)
        } else {
            Part::Layer(i)
        }
    }
}

fn len32_of(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
