//! Flash and RAM footprint of a firmware image, from its ELF section headers (read with `object`).

use anyhow::{bail, Context, Result};
use object::{elf, BinaryFormat, Object, ObjectSection, Section, SectionFlags, SectionKind};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Footprint {
    /// Bytes that go to flash: code, read-only data, and the initial values of .data.
    pub flash: u64,
    /// Bytes of RAM reserved before the stack: .data + .bss (+ .uninit).
    pub static_ram: u64,
}

/// Sums the allocated sections of an ELF image: those with file contents go to flash, the
/// writable ones take RAM (.data counts twice: its image in flash, its copy in RAM).
pub fn footprint(image: &[u8]) -> Result<Footprint> {
    let file = parse_elf(image)?;
    let mut f = Footprint::default();
    for s in file.sections() {
        let Some(sh_flags) = allocated(&s)? else { continue };
        if takes_flash(&s)? {
            f.flash += s.size();
        }
        if sh_flags & u64::from(elf::SHF_WRITE) != 0 {
            f.static_ram += s.size();
        }
    }
    Ok(f)
}

/// `image` parsed, if it is an ELF file.
pub(crate) fn parse_elf(image: &[u8]) -> Result<object::File<'_>> {
    let file = object::File::parse(image).context("not an object file")?;
    if file.format() != BinaryFormat::Elf {
        bail!("not an ELF file ({:?})", file.format());
    }
    Ok(file)
}

/// The ELF flags of a section that takes memory on the target: allocated and not empty.
fn allocated(s: &Section<'_, '_>) -> Result<Option<u64>> {
    let SectionFlags::Elf { sh_flags } = s.flags() else { return Ok(None) };
    let name = s.name().context("section name")?;
    // riscv-rt's .heap/.stack are markers spanning free RAM, not data.
    if sh_flags & u64::from(elf::SHF_ALLOC) == 0 || s.size() == 0 || name == ".stack" || name == ".heap" {
        return Ok(None);
    }
    Ok(Some(sh_flags))
}

/// Whether a section's bytes go to flash: allocated, with file contents (code, read-only data,
/// the image of .data).
pub(crate) fn takes_flash(s: &Section<'_, '_>) -> Result<bool> {
    Ok(allocated(s)?.is_some() && !matches!(s.kind(), SectionKind::UninitializedData | SectionKind::UninitializedTls))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_what_is_not_an_elf_image() {
        assert!(footprint(b"").is_err());
        assert!(footprint(b"\x7fELF but not really an ELF header").is_err());
    }
}
