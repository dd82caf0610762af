//! Estimated Cortex-M4 cycles from an instruction profile.
//!
//! QEMU counts instructions, not cycles. The TCG plugin `host-tests/qemu-plugin/insn_profile.c`
//! records, for every instruction the firmware executed, how often it ran, how often control
//! then went somewhere other than the next instruction ("taken"), and how often it directly
//! followed a single load. This module turns those counts into an **estimate** of the cycles a
//! Cortex-M4 with zero-wait-state memory would spend, by the timings of the Cortex-M4 Technical
//! Reference Manual (ARM DDI 0439, "Processor instruction set summary" and the FPU's
//! "Instruction timings"). The instruction count stays the exact figure; the cycles are a model.
//!
//! The rules, per executed instruction:
//!
//! | class | mnemonics | cycles |
//! |---|---|---|
//! | data processing, extend, bit field, saturate, packing, SIMD add/sub, IT, NOP | everything not below | 1 |
//! | multiply and multiply-accumulate | `mul mla mls smull umull smlal umlal smul* smla* smlad* smlsd* smuad smusd smmul smmla umaal` | 1 |
//! | divide | `sdiv udiv` | 7 (the TRM gives 2 to 12, by operand size) |
//! | single load or store | `ldr* str*` (byte, half, word, signed, exclusive), `vldr vstr` | 2, or 1 when it directly follows a single load (pipelined) |
//! | double load or store | `ldrd strd` | 3 |
//! | load/store multiple | `ldm stm push pop vldm vstm vpush vpop` | 1 + N (N registers; `d` registers count as 2) |
//! | FP add, multiply, convert, move, compare | `vadd vsub vmul vnmul vcvt vmov vabs vneg vcmp vmrs vmsr` | 1 (a two-register `vmov` 2) |
//! | FP multiply-accumulate | `vmla vmls vnmla vnmls vfma vfms vfnma vfnms` | 3 |
//! | FP divide, square root | `vdiv vsqrt` | 14 |
//! | taken branch, call, return, any write to the PC | `b* bl blx bx cbz cbnz tbb tbh`, `pop {.., pc}`, `ldr pc`, `mov pc` | + P per taken execution, P = 2 (the TRM's refill is 1 to 3) |
//! | table branch | `tbb tbh` | 2 + P |
//!
//! A "taken" count on an instruction that cannot branch is an exception entry (the SysTick
//! interrupt that drives the instruction counter): it is reported, not costed.

use anyhow::{anyhow, bail, Context, Result};

/// Pipeline refill after a taken branch (the TRM's P: 1 to 3 cycles).
pub const REFILL: u64 = 2;

/// Counts of one instruction within one segment of the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SegCounts {
    pub seg: u32,
    pub count: u64,
    pub taken: u64,
    pub after_load: u64,
}

/// One executed instruction of the profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Insn {
    pub addr: u64,
    pub size: u32,
    pub disas: String,
    pub segs: Vec<SegCounts>,
}

/// Parses the plugin's output file.
pub fn parse_profile(text: &str) -> Result<Vec<Insn>> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.starts_with('#') && !l.is_empty()) {
        let bad = || anyhow!("profile line {}: {line:?}", n + 1);
        let mut cols = line.split('\t');
        let (head, disas, segs) =
            (cols.next().ok_or_else(bad)?, cols.next().ok_or_else(bad)?, cols.next().unwrap_or(""));
        let mut h = head.split(' ');
        let addr = u64::from_str_radix(h.next().ok_or_else(bad)?, 16).with_context(bad)?;
        let size = h.next().ok_or_else(bad)?.parse().with_context(bad)?;
        let mut parsed = Vec::new();
        for s in segs.split_whitespace() {
            let v: Vec<u64> = s.split(':').map(str::parse).collect::<Result<_, _>>().with_context(bad)?;
            let [seg, count, taken, after_load] = v[..] else { bail!("profile line {}: bad counts {s:?}", n + 1) };
            parsed.push(SegCounts { seg: seg as u32, count, taken, after_load });
        }
        out.push(Insn { addr, size, disas: disas.trim().to_string(), segs: parsed });
    }
    Ok(out)
}

/// Timing class of an instruction (see the module table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Alu,
    Mul,
    Div,
    LoadStore,
    Double,
    Multiple(u32),
    FpAlu,
    FpMove2,
    FpMac,
    FpDivSqrt,
    Branch,
    TableBranch,
}

/// The mnemonic without condition code or width suffix (`ldr.w` → `ldr`, `bne` stays `bne`).
fn mnemonic(disas: &str) -> (&str, &str) {
    let d = disas.trim();
    let (m, ops) = d.split_once(char::is_whitespace).unwrap_or((d, ""));
    (m.split('.').next().unwrap_or(m), ops.trim())
}

/// Registers in a `{..}` list (`d` registers count twice: they move two words).
fn list_regs(ops: &str) -> u32 {
    let Some(list) = ops.split_once('{').and_then(|(_, r)| r.split_once('}')).map(|(l, _)| l) else { return 1 };
    list.split(',')
        .map(|r| {
            let r = r.trim();
            let width = if r.starts_with('d') { 2 } else { 1 };
            match r.split_once('-') {
                // a range like `s16-s23` or `d8-d15`
                Some((a, b)) => {
                    let num =
                        |x: &str| x.trim_start_matches(|c: char| c.is_ascii_alphabetic()).parse::<u32>().unwrap_or(0);
                    (num(b).saturating_sub(num(a)) + 1) * width
                }
                None => width,
            }
        })
        .sum()
}

const BRANCHES: [&str; 5] = ["bl", "blx", "bx", "cbz", "cbnz"];
const CONDS: [&str; 16] =
    ["eq", "ne", "cs", "hs", "cc", "lo", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt", "gt", "le"];

fn is_branch(m: &str) -> bool {
    m == "b" || BRANCHES.contains(&m) || (m.len() == 3 && m.starts_with('b') && CONDS.contains(&&m[1..]))
}

/// Classifies one disassembled Thumb-2 / VFP instruction.
pub fn classify(disas: &str) -> Class {
    let (m, ops) = mnemonic(disas);
    let starts = |p: &[&str]| p.iter().any(|x| m.starts_with(x));
    if is_branch(m) {
        Class::Branch
    } else if m == "tbb" || m == "tbh" {
        Class::TableBranch
    } else if m == "ldrd" || m == "strd" {
        Class::Double
    } else if starts(&["ldm", "stm", "push", "pop", "vldm", "vstm", "vpush", "vpop"]) {
        Class::Multiple(list_regs(ops))
    } else if starts(&["ldr", "str", "vldr", "vstr"]) {
        Class::LoadStore
    } else if starts(&["vmla", "vmls", "vnmla", "vnmls", "vfma", "vfms", "vfnma", "vfnms"]) {
        Class::FpMac
    } else if starts(&["vdiv", "vsqrt"]) {
        Class::FpDivSqrt
    } else if m == "vmov" && ops.split(',').count() >= 3 {
        Class::FpMove2
    } else if m.starts_with('v') {
        Class::FpAlu
    } else if m == "sdiv" || m == "udiv" {
        Class::Div
    } else if starts(&[
        "mul", "mla", "mls", "smull", "umull", "smlal", "umlal", "smul", "smla", "smls", "smua", "smus", "smmul",
        "smmla", "smmls", "umaal",
    ]) {
        Class::Mul
    } else {
        Class::Alu
    }
}

/// Whether an instruction of class `c` writes the PC when it executes (branch or not).
fn writes_pc(c: Class, disas: &str) -> bool {
    let (m, ops) = mnemonic(disas);
    match c {
        Class::Branch | Class::TableBranch => true,
        Class::Multiple(_) => m.starts_with("pop") || m.starts_with("ldm") && ops.contains("pc"),
        Class::LoadStore => m.starts_with("ldr") && ops.split(',').next().is_some_and(|r| r.trim() == "pc"),
        Class::Alu => ops.split(',').next().is_some_and(|r| r.trim() == "pc"),
        _ => false,
    }
}

/// Estimated cycles and the exact instruction count of a set of executions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Estimate {
    pub instructions: u64,
    pub cycles: u64,
    /// Taken counts on instructions that cannot branch: exception entries (not costed).
    pub interrupts: u64,
}

impl Estimate {
    pub fn add(&mut self, o: Estimate) {
        self.instructions += o.instructions;
        self.cycles += o.cycles;
        self.interrupts += o.interrupts;
    }

    /// Estimated cycles per instruction.
    pub fn cpi(&self) -> f64 {
        self.cycles as f64 / self.instructions.max(1) as f64
    }
}

/// Cortex-M4 estimate of `c` executions of one instruction.
pub fn m4_cycles(disas: &str, c: &SegCounts) -> Estimate {
    let class = classify(disas);
    let base = match class {
        Class::Alu | Class::Mul | Class::FpAlu | Class::Branch => 1,
        Class::FpMove2 => 2,
        Class::Div => 7,
        Class::LoadStore => 2,
        Class::Double => 3,
        Class::Multiple(n) => 1 + u64::from(n),
        Class::FpMac => 3,
        Class::FpDivSqrt => 14,
        Class::TableBranch => 2,
    };
    let pipelined = if class == Class::LoadStore { c.after_load.min(c.count) } else { 0 };
    let (refills, interrupts) = if writes_pc(class, disas) { (c.taken, 0) } else { (0, c.taken) };
    Estimate { instructions: c.count, cycles: base * c.count - pipelined + REFILL * refills, interrupts }
}

/// Sums the estimate over the segments `keep` selects.
pub fn estimate(profile: &[Insn], keep: impl Fn(u32) -> bool) -> Estimate {
    let mut e = Estimate::default();
    for i in profile {
        for s in i.segs.iter().filter(|s| keep(s.seg)) {
            e.add(m4_cycles(&i.disas, s));
        }
    }
    e
}

/// The estimate of every segment of a profile.
pub fn by_segment(profile: &[Insn]) -> std::collections::BTreeMap<u32, Estimate> {
    let mut out = std::collections::BTreeMap::<u32, Estimate>::new();
    for i in profile {
        for s in &i.segs {
            out.entry(s.seg).or_default().add(m4_cycles(&i.disas, s));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(disas: &str, count: u64, taken: u64, after_load: u64) -> Estimate {
        m4_cycles(disas, &SegCounts { seg: 0, count, taken, after_load })
    }

    #[test]
    fn classes_of_real_disassembly() {
        assert_eq!(classify("ldr.w r0, [r1, #4]"), Class::LoadStore);
        assert_eq!(classify("ldrsb r3, [r2], #1"), Class::LoadStore);
        assert_eq!(classify("vldr s0, [r1]"), Class::LoadStore);
        assert_eq!(classify("ldrd r2, r3, [sp]"), Class::Double);
        assert_eq!(classify("push.w {r4, r5, r6, r7, r8, lr}"), Class::Multiple(6));
        assert_eq!(classify("vpush {d8, d9, d10}"), Class::Multiple(6));
        assert_eq!(classify("vldmia r0!, {s16-s23}"), Class::Multiple(8));
        assert_eq!(classify("smlad r0, r1, r2, r0"), Class::Mul);
        assert_eq!(classify("mla r0, r1, r2, r0"), Class::Mul);
        assert_eq!(classify("vmla.f32 s0, s1, s2"), Class::FpMac);
        assert_eq!(classify("vmov r0, r1, d0"), Class::FpMove2);
        assert_eq!(classify("vcvt.f32.u32 s0, s0"), Class::FpAlu);
        assert_eq!(classify("bne #0x1234"), Class::Branch);
        assert_eq!(classify("bic r0, r1, #3"), Class::Alu); // not a branch
        assert_eq!(classify("bl #0x7a94"), Class::Branch);
        assert_eq!(classify("tbb [pc, r0]"), Class::TableBranch);
        assert_eq!(classify("ubfx r0, r1, #3, #3"), Class::Alu);
    }

    #[test]
    fn hand_computed_costs() {
        // 10 loads, 4 of them right after a load: 10·2 − 4.
        assert_eq!(one("ldr r0, [r1]", 10, 0, 4).cycles, 16);
        // a loop branch taken 9 times of 10: 10 + 9·P.
        assert_eq!(one("bne #0x100", 10, 9, 0).cycles, 10 + 9 * REFILL);
        // pop with pc: (1 + 3) + P per return.
        assert_eq!(one("pop {r4, r5, pc}", 5, 5, 0).cycles, 5 * 4 + 5 * REFILL);
        // an ALU instruction "taken" is an interrupt entry: counted apart, not costed.
        let e = one("adds r0, #1", 7, 1, 3);
        assert_eq!((e.cycles, e.interrupts, e.instructions), (7, 1, 7));
        assert_eq!(one("vmla.f32 s0, s1, s2", 4, 0, 0).cycles, 12);
    }

    #[test]
    fn parses_the_plugin_format_and_sums_segments() {
        let text = "# insn_profile v1\n1000 2 00000000\tldr r0, [r1]\t 0:10:0:4 3:2:0:0\n1002 2 00000000\tbne #0x1000\t 0:10:9:10\n";
        let p = parse_profile(text).unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].segs[1], SegCounts { seg: 3, count: 2, taken: 0, after_load: 0 });
        let e = estimate(&p, |s| s == 0);
        assert_eq!(e.instructions, 20);
        assert_eq!(e.cycles, 16 + 10 + 9 * REFILL);
        assert!(parse_profile("zz 2 00\tnop\t").is_err());
    }
}
