#!/usr/bin/env python3
"""Writes runtime/src/kernels/gru_tables.rs: the integer GRU's gate tables (Q15, input step 1/16).

  python3 scripts/gru_tables.py

SIG[q] = min(32767, round(32768 * sigmoid(q / 16))), TANH[q] = round(32767 * tanh(q / 16)) for
q in -128..=127 (round half away from zero), stored at index `q as u8` (two's complement byte).
The crate's unit test recomputes both in f64 and compares.
"""
import math
import os

OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "runtime/src/kernels/gru_tables.rs")


def rnd(v):
    return int(math.copysign(math.floor(abs(v) + 0.5), v))


def table(f):
    vals = [f(i - 256 if i >= 128 else i) for i in range(256)]
    rows = [", ".join(str(v) for v in vals[k:k + 16]) for k in range(0, 256, 16)]
    return "\n".join("    " + r + "," for r in rows)


def main():
    sig = table(lambda q: min(32767, rnd(32768.0 / (1.0 + math.exp(-q / 16.0)))))
    tanh = table(lambda q: rnd(32767.0 * math.tanh(q / 16.0)))
    text = f"""//! The integer GRU's gate tables, written by `scripts/gru_tables.py` (do not edit): Q15 values
//! for the gate inputs `q/16`, `q` in −128..=127, at index `q as u8` (two's-complement byte).

/// `SIG[q as u8] = min(32767, round(32768·σ(q/16)))`.
#[rustfmt::skip]
pub(crate) const SIG: [i16; 256] = [
{sig}
];

/// `TANH[q as u8] = round(32767·tanh(q/16))`.
#[rustfmt::skip]
pub(crate) const TANH: [i16; 256] = [
{tanh}
];
"""
    with open(OUT, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
