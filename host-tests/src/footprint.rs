//! Flash and RAM footprint of a firmware image, from its ELF section headers (read with `object`).

use anyhow::{bail, Context, Result};
use object::{elf, BinaryFormat, Object, ObjectSection, SectionFlags, SectionKind};

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
    let file = object::File::parse(image).context("not an object file")?;
    if file.format() != BinaryFormat::Elf {
        bail!("not an ELF file ({:?})", file.format());
    }
    let mut f = Footprint::default();
    for s in file.sections() {
        let SectionFlags::Elf { sh_flags } = s.flags() else { continue };
        let name = s.name().context("section name")?;
        // riscv-rt's .heap/.stack are markers spanning free RAM, not data.
        if sh_flags & u64::from(elf::SHF_ALLOC) == 0 || s.size() == 0 || name == ".stack" || name == ".heap" {
            continue;
        }
        if !matches!(s.kind(), SectionKind::UninitializedData | SectionKind::UninitializedTls) {
            f.flash += s.size();
        }
        if sh_flags & u64::from(elf::SHF_WRITE) != 0 {
            f.static_ram += s.size();
        }
    }
    Ok(f)
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
