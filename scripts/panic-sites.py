#!/usr/bin/env python3
"""Lists the places in a firmware ELF where code of a crate can reach a panic, and fails if any.

The runtime must never panic on data it reads: every check it makes returns an error instead.
This script checks that promise on the machine code. It disassembles the ELF (`llvm-objdump`,
any target), finds every call or branch to a panic entry of `core` (the `core::panicking`
functions, slice index failures, `unwrap`/`expect` failures, `RefCell` borrow failures), and
resolves each call site with `llvm-addr2line --inlining` to its chain of inlined functions. A site
counts against a crate when a function of that crate is in its chain (the panic may come from a
`core` helper inlined into the crate's code, such as `chunks_exact` with a zero length).

    scripts/panic-sites.py [--crate diffq_runtime] ELF...

Prints each offending site with its inline chain and exits 1 if there is one; prints the number
of panic call sites seen (all crates) otherwise.
"""
import argparse
import json
import re
import subprocess
import sys

# Demangled names of the functions that only panic.
PANIC_ENTRY = re.compile(
    r"^(core::panicking::|core::slice::index::slice_|core::option::(unwrap|expect)_failed"
    r"|core::result::unwrap_failed|core::cell::panic_already|core::str::slice_error_fail"
    r"|core::num::.*overflow|core::panic::)"
)
# A call or branch with a target `<address> <symbol>` (Arm: bl, b.w, b; RISC-V: jal, j, tail).
BRANCH = re.compile(r"^\s*([0-9a-f]+):\s+(bl|blx|b|b\.w|jal|j|tail)\s+(?:\S+,\s*)?(?:0x)?([0-9a-f]+) <(.+?)>")

# A function's first line, `<address> <symbol>:`.
LABEL = re.compile(r"^([0-9a-f]+) <(.+)>:$")
AUIPC = re.compile(r"^\s*([0-9a-f]+):\s+auipc\s+(\w+),\s*(-?\d+)")
JALR = re.compile(r"^\s*([0-9a-f]+):\s+jalr\s+(?:\w+,\s*)?(-?\d+)\((\w+)\)")


def disassemble(elf):
    out = subprocess.run(
        ["llvm-objdump", "-d", "--demangle", "--no-show-raw-insn", elf],
        check=True, capture_output=True, text=True,
    ).stdout
    return out.splitlines()


def panic_sites(elf):
    """(address in hex, target) of each instruction that branches to a panic entry."""
    lines = disassemble(elf)
    syms = {int(m.group(1), 16): m.group(2) for m in map(LABEL.match, lines) if m}
    sites, auipc = [], {}
    for line in lines:
        m = BRANCH.match(line)
        if m:
            target = m.group(4).split("+0x")[0]
            if PANIC_ENTRY.match(target):
                sites.append((m.group(1), target))
            continue
        # RISC-V far calls: `auipc r, hi` then `jalr ra, lo(r)`, which llvm-objdump leaves unnamed.
        m = AUIPC.match(line)
        if m:
            auipc[m.group(2)] = int(m.group(1), 16) + (int(m.group(3)) << 12)
            continue
        m = JALR.match(line)
        if m and m.group(3) in auipc:
            target = syms.get((auipc.pop(m.group(3)) + int(m.group(2))) & 0xFFFFFFFF, "")
            if PANIC_ENTRY.match(target):
                sites.append((m.group(1), target))
    return sites


def inline_chains(elf, addrs):
    """The inline chain (innermost first) of each address: (function, file:line) pairs."""
    if not addrs:
        return []
    out = subprocess.run(
        ["llvm-addr2line", "--functions", "--inlining", "-C", "--output-style=JSON", "-e", elf],
        input="\n".join("0x" + a for a in addrs) + "\n", check=True, capture_output=True, text=True,
    ).stdout
    return [
        [(f["FunctionName"], f"{f['FileName']}:{f['Line']}") for f in json.loads(line)["Symbol"]]
        for line in out.splitlines() if line.strip()
    ]


def in_crate(function, crate):
    """Whether a (possibly legacy-mangled) function name belongs to `crate`."""
    return function.startswith(crate + "::") or f"{crate}::" in function or f"{crate}.." in function


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--crate", default="diffq_runtime", help="crate whose code must not panic")
    ap.add_argument("elf", nargs="+")
    args = ap.parse_args()
    bad = 0
    for elf in args.elf:
        sites = panic_sites(elf)
        chains = inline_chains(elf, [a for a, _ in sites])
        if len(chains) != len(sites):
            sys.exit(f"{elf}: addr2line gave {len(chains)} answers for {len(sites)} addresses")
        ours = [(site, chain) for site, chain in zip(sites, chains) if any(in_crate(f, args.crate) for f, _ in chain)]
        for (addr, target), chain in ours:
            print(f"{elf}: 0x{addr} calls {target} from {args.crate}:")
            for f, loc in chain:
                print(f"    {f}  ({loc})")
        print(f"{elf}: {len(sites)} panic call sites, {len(ours)} in {args.crate}")
        bad += len(ours)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
