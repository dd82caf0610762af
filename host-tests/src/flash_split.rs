//! Where a firmware's code bytes go: flash without the model blob and the clip (the bench's
//! "flash code") split into the runtime's kernels, the DSP front end, the blob parser and the
//! rest, from the ELF symbol table (read with `object`).
//!
//! Every defined symbol with a size in a section that goes to flash is counted once, under the
//! part its demangled path names ([`RULES`]); where symbols overlap (aliases of one function),
//! the bytes go to the one that starts first. Bytes no symbol covers (alignment padding, literal
//! pools outside a symbol's size) are rest, and so are anonymous constants (`.Lanon.*`: string
//! literals, the blob and the clip). The blob and the clip are then taken out of rest, so the
//! four parts add up to the code bytes exactly.
//!
//! The split is by symbol, after optimisation: code the compiler inlined counts in the function
//! it was inlined into (a kernel inlined into the executor counts as the executor's part), and
//! a generic function counts where its name is defined, whatever it was instantiated with.

use crate::footprint::{parse_elf, takes_flash};
use anyhow::{bail, Context, Result};
use object::{Architecture, Object, ObjectSection, ObjectSymbol, SymbolKind, SymbolSection};
use std::path::Path;

/// One part of the code bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Kernels,
    Dsp,
    Parsing,
    Rest,
}

/// The classification of a symbol by its demangled path: the first rule whose prefix starts
/// the path wins; a path no rule matches is [`Part::Rest`]. A trait method `<Type as
/// Trait>::f` is classified by `Type` (after any `&`, `&mut `, `*const `, `*mut `), so
/// `<&T as core::fmt::Display>::fmt` is rest and a runtime type's `Debug` impl goes with its
/// module. An inherent method is classified by the module of its `impl` block
/// (`diffq_runtime::model::step::<impl diffq_runtime::model::Model>::step_i8` is the
/// executor's). Everything the table leaves out is rest: the model executor, the runtime's
/// errors, start-up and fault handlers, semihosting, defmt, the board's HAL, `core` and
/// compiler-builtins, libm, half, and the application (demo-core, qemu-demo, the C API).
pub const RULES: &[(&str, Part)] = &[
    // The kernels module (matvec, dot, conv, conv2d, gru, activations, the integer finish,
    // pools) and the dequantisation math they share with the trainer.
    ("diffq_runtime::kernels::", Part::Kernels),
    ("diffq_runtime::quant::", Part::Kernels),
    // What a pipeline checks of the blob's front end before it runs: parsing, not DSP.
    ("diffq_runtime::pipeline::check::", Part::Parsing),
    // The DSP front end: the STFT of both paths (windows, FFTs, their tables), features,
    // masks, filterbanks, overlap-add, PCM conversion, and the hop pipeline around them.
    ("diffq_runtime::dsp::", Part::Dsp),
    ("diffq_runtime::dsp_fixed::", Part::Dsp),
    ("diffq_runtime::pcm::", Part::Dsp),
    ("diffq_runtime::pipeline::", Part::Dsp),
    // The model executor (layers or graph nodes in order, their arena and state, the calls
    // into the kernels): rest, listed before the parser's `model` fallback below.
    ("diffq_runtime::model::step::", Part::Rest),
    ("diffq_runtime::model::graph_step::", Part::Rest),
    ("diffq_runtime::model::kern::", Part::Rest),
    ("diffq_runtime::model::split::", Part::Rest),
    // The blob's reader and validation: entries and their fields, the byte reader, the CRC,
    // what a blob needs of the build, the chain and graph checks, the arena plan, the graph
    // view (nodes, inputs, constants), `Model::parse` and the model's accessors.
    ("diffq_runtime::format::", Part::Parsing),
    ("diffq_runtime::bytes::", Part::Parsing),
    ("diffq_runtime::layout::", Part::Parsing),
    ("diffq_runtime::feature::", Part::Parsing),
    ("diffq_runtime::model::", Part::Parsing),
    ("crc::", Part::Parsing),
];

/// The code bytes of a firmware image by part.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlashSplit {
    pub kernels: u64,
    pub dsp: u64,
    pub parsing: u64,
    pub rest: u64,
}

impl FlashSplit {
    pub fn total(&self) -> u64 {
        self.kernels + self.dsp + self.parsing + self.rest
    }

    fn add(&mut self, part: Part, bytes: u64) {
        match part {
            Part::Kernels => self.kernels += bytes,
            Part::Dsp => self.dsp += bytes,
            Part::Parsing => self.parsing += bytes,
            Part::Rest => self.rest += bytes,
        }
    }
}

/// A symbol's name demangled without its hash (`{:#}`); a compiler-made table named after a
/// function (`.Lswitch.table.<function>`) takes the function's name; a name that is not a
/// Rust symbol is returned as it is.
pub fn demangle(name: &str) -> String {
    let name = name.strip_prefix(".Lswitch.table.").unwrap_or(name);
    match rustc_demangle::try_demangle(name) {
        Ok(d) => format!("{d:#}"),
        Err(_) => name.to_string(),
    }
}

/// The part of a demangled symbol name by [`RULES`].
pub fn classify(demangled: &str) -> Part {
    let mut path = demangled.strip_prefix('<').unwrap_or(demangled);
    while let Some(rest) = ["&", "mut ", "*const ", "*mut "].iter().find_map(|p| path.strip_prefix(p)) {
        path = rest;
    }
    RULES.iter().find(|(prefix, _)| path.starts_with(prefix)).map_or(Part::Rest, |&(_, part)| part)
}

/// A symbol's bytes: its section, start address, size and part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub section: usize,
    pub start: u64,
    pub size: u64,
    pub part: Part,
}

/// Splits the bytes of `sections` (index, address, size) among `spans`: each byte goes to the
/// earliest-starting span of its section that covers it, or to rest if none does. Spans of
/// other sections and bytes outside their section are ignored.
pub fn split_sections(sections: &[(usize, u64, u64)], spans: &[Span]) -> FlashSplit {
    let mut split = FlashSplit::default();
    for &(index, start, size) in sections {
        let end = start.saturating_add(size);
        let mut own: Vec<&Span> = spans.iter().filter(|s| s.section == index).collect();
        own.sort_by_key(|s| (s.start, std::cmp::Reverse(s.size)));
        let (mut covered, mut classified) = (start, 0);
        for s in own {
            let (from, to) = (s.start.max(covered), s.start.saturating_add(s.size).min(end));
            if to > from {
                split.add(s.part, to - from);
                classified += to - from;
                covered = to;
            }
        }
        split.rest += size - classified;
    }
    split
}

/// The split of an ELF image's flash bytes, less `assets` bytes (the blob and the clip, which
/// no rule classifies) taken out of rest: the parts add up to the flash bytes minus `assets`.
pub fn flash_split(image: &[u8], assets: u64) -> Result<FlashSplit> {
    let file = parse_elf(image)?;
    let mut sections = Vec::new();
    for s in file.sections() {
        if takes_flash(&s)? {
            sections.push((s.index().0, s.address(), s.size()));
        }
    }
    // A Thumb function's address has bit 0 set.
    let thumb = file.architecture() == Architecture::Arm;
    let spans: Vec<Span> = file
        .symbols()
        .filter(|sym| sym.is_definition() && sym.size() > 0)
        .filter_map(|sym| {
            let SymbolSection::Section(index) = sym.section() else { return None };
            let start = if thumb && sym.kind() == SymbolKind::Text { sym.address() & !1 } else { sym.address() };
            let part = classify(&demangle(sym.name().ok()?));
            Some(Span { section: index.0, start, size: sym.size(), part })
        })
        .collect();
    let mut split = split_sections(&sections, &spans);
    if split.rest < assets {
        bail!("the blob and clip ({assets} bytes) are more than the unclassified flash bytes ({})", split.rest);
    }
    split.rest -= assets;
    Ok(split)
}

/// [`flash_split`] of the ELF file at `path`.
pub fn flash_split_of(path: &Path, assets: u64) -> Result<FlashSplit> {
    let image = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    flash_split(&image, assets).with_context(|| format!("{}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part_of(mangled: &str) -> Part {
        classify(&demangle(mangled))
    }

    #[test]
    fn classifies_symbols_by_their_demangled_path() {
        let cases = [
            ("_ZN13diffq_runtime7kernels9matvec_i811rows_var_i817h83fed866d7b5133bE", Part::Kernels),
            ("_ZN13diffq_runtime7kernels6gru_i86gru_i817h8407cfff61e67d5eE", Part::Kernels),
            ("_ZN13diffq_runtime9dsp_fixed22FixedFrontEnd$LT$Z$GT$7analyze17h5b88a089cd781fb7E", Part::Dsp),
            ("_ZN13diffq_runtime9dsp_fixed6tables12TWIDDLES_51217h2ceb96bd86da762dE", Part::Dsp),
            (
                "_ZN13diffq_runtime9dsp_fixed5bands66_$LT$impl$u20$diffq_runtime..dsp_fixed..FixedFrontEnd$LT$Z$GT$$GT$13band_features17h36c8ac8ac5ad58caE",
                Part::Dsp,
            ),
            ("_ZN13diffq_runtime6format6tensor11TensorEntry4read17h0123456789abcdefE", Part::Parsing),
            (
                "_ZN13diffq_runtime5model4view45_$LT$impl$u20$diffq_runtime..model..Model$GT$4node17h0123456789abcdefE",
                Part::Parsing,
            ),
            ("_ZN13diffq_runtime5model5Model12output_scale17h0123456789abcdefE", Part::Parsing),
            (
                "_ZN13diffq_runtime5model10graph_step45_$LT$impl$u20$diffq_runtime..model..Model$GT$8run_node17hdefae2f10e2aeb62E",
                Part::Rest,
            ),
            (
                "_ZN98_$LT$diffq_runtime..model..step..I8Path$u20$as$u20$diffq_runtime..model..graph_step..GraphPath$GT$8weighted17h06f46a9b904e19cbE",
                Part::Rest,
            ),
            ("_ZN44_$LT$$RF$T$u20$as$u20$core..fmt..Display$GT$3fmt17h1c3c3fd0a64fcfc0E", Part::Rest),
            (
                ".Lswitch.table._ZN13diffq_runtime7kernels3act5apply17h0123456789abcdefE",
                Part::Kernels,
            ),
            ("_RNvMsa_NtCs7ldSeZOOJos_4core3fmtNtB5_9Formatter3pad", Part::Rest),
            ("_ZN9qemu_demo8denoiser17h21ad9f3cf004c62eE", Part::Rest),
            (".Lanon.70248ca3c1e36bb4355e5a8ba3dbbc38.14", Part::Rest),
            ("__aeabi_memcpy", Part::Rest),
        ];
        for (name, part) in cases {
            assert_eq!(part_of(name), part, "{name} ({})", demangle(name));
        }
        // A runtime type's trait impl goes with the type's module, through any reference.
        assert_eq!(classify("<&diffq_runtime::format::header::Header as core::fmt::Debug>::fmt"), Part::Parsing);
        assert_eq!(classify("<diffq_runtime::pipeline::check::Check>::run"), Part::Parsing);
        assert_eq!(classify("<diffq_runtime::dsp::Analyzer>::push"), Part::Dsp);
    }

    #[test]
    fn every_section_byte_counts_once() {
        let span = |section, start, size, part| Span { section, start, size, part };
        let sections = [(1, 0x100, 0x100), (2, 0x400, 0x40)];
        let spans = [
            span(1, 0x100, 0x40, Part::Kernels),
            span(1, 0x100, 0x40, Part::Dsp), // an alias of the kernel: not counted again
            span(1, 0x120, 0x40, Part::Parsing), // overlaps the kernel by 0x20: 0x20 more
            span(1, 0x1f0, 0x40, Part::Dsp), // runs 0x30 past the section's end
            span(2, 0x410, 0x10, Part::Kernels),
            span(3, 0x800, 0x10, Part::Kernels), // not a flash section
        ];
        let split = split_sections(&sections, &spans);
        assert_eq!(split, FlashSplit { kernels: 0x50, dsp: 0x10, parsing: 0x20, rest: 0x90 + 0x30 });
        assert_eq!(split.total(), 0x140);
    }

    #[test]
    fn the_parts_of_an_image_add_up_to_its_flash_bytes() {
        let exe = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let flash = crate::footprint::footprint(&exe).unwrap().flash;
        let split = flash_split(&exe, 100).unwrap();
        assert_eq!(split.total(), flash - 100);
        assert!(split.rest > 0);
        assert!(flash_split(&exe, flash + 1).is_err());
        assert!(flash_split(b"not an ELF image", 0).is_err());
    }
}
