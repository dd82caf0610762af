//! Flash and RAM footprint from an ELF32 image's section headers (no external tool needed).

use anyhow::{bail, Result};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Footprint {
    /// Bytes that go to flash: code, read-only data, and the initial values of .data.
    pub flash: u64,
    /// Bytes of RAM reserved before the stack: .data + .bss (+ .uninit).
    pub static_ram: u64,
    /// Allocated sections as (name, address, size, in flash, in RAM).
    pub sections: Vec<(String, u64, u64, bool, bool)>,
}

fn u16_at(b: &[u8], o: usize) -> Result<u16> {
    match b.get(o..o + 2) {
        Some(s) => Ok(u16::from_le_bytes([s.first().copied().unwrap_or(0), s.get(1).copied().unwrap_or(0)])),
        None => bail!("ELF truncated at {o}"),
    }
}

fn u32_at(b: &[u8], o: usize) -> Result<u32> {
    Ok(u32::from(u16_at(b, o)?) | (u32::from(u16_at(b, o + 2)?) << 16))
}

const SHF_WRITE: u32 = 1;
const SHF_ALLOC: u32 = 2;
const SHT_NOBITS: u32 = 8;

/// Reads the section table of a little-endian ELF32 file.
pub fn footprint(elf: &[u8]) -> Result<Footprint> {
    if elf.get(0..4) != Some(b"\x7fELF".as_slice()) || elf.get(4) != Some(&1) || elf.get(5) != Some(&1) {
        bail!("not a little-endian ELF32 file");
    }
    let shoff = u32_at(elf, 0x20)? as usize;
    let shentsize = usize::from(u16_at(elf, 0x2E)?);
    let shnum = usize::from(u16_at(elf, 0x30)?);
    let shstrndx = usize::from(u16_at(elf, 0x32)?);
    let strtab_off = u32_at(elf, shoff + shstrndx * shentsize + 0x10)? as usize;
    let name_at = |o: usize| -> String {
        let s = elf.get(strtab_off + o..).unwrap_or(&[]);
        let end = s.iter().position(|&c| c == 0).unwrap_or(0);
        String::from_utf8_lossy(s.get(..end).unwrap_or(&[])).into_owned()
    };
    let mut f = Footprint::default();
    for i in 0..shnum {
        let h = shoff + i * shentsize;
        let (name, ty, flags) = (name_at(u32_at(elf, h)? as usize), u32_at(elf, h + 4)?, u32_at(elf, h + 8)?);
        let (addr, size) = (u64::from(u32_at(elf, h + 0x0C)?), u64::from(u32_at(elf, h + 0x14)?));
        // riscv-rt's .heap/.stack are markers spanning free RAM, not data.
        if flags & SHF_ALLOC == 0 || size == 0 || name == ".stack" || name == ".heap" {
            continue;
        }
        let in_ram = flags & SHF_WRITE != 0;
        let in_flash = ty != SHT_NOBITS;
        if in_flash {
            f.flash += size;
        }
        if in_ram {
            f.static_ram += size;
        }
        f.sections.push((name, addr, size, in_flash, in_ram));
    }
    Ok(f)
}
