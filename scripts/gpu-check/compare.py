#!/usr/bin/env python3
"""Compares the CPU and CUDA halves of scripts/gpu-check.sh and prints their step times.

Reads OUT/{cpu,cuda}.json (the `train --json` summaries) and OUT/{cpu,cuda}/checkpoint.json
(the loss history, one point every --ckpt-every steps). Both runs start from the same seed on
the same data, so the batches, the initial weights and the DiffQ noise are identical; only the
fp32 arithmetic differs (cuBLAS and candle's CUDA kernels sum in another order than gemm on the
CPU, about 1e-7 relative per operation), and training amplifies those differences step by step.
So the curves are compared loosely, by three tolerances:

  * first log point: training loss within FIRST_TOL (an early, still tiny divergence: a wrong
    kernel shows here at once);
  * every log point: validation loss (32 fixed mixtures) within POINT_TOL;
  * last 50 steps: mean training loss of their log points within TAIL_TOL.

usage: compare.py OUT [--cpu-only] [--ref-cpu-ms MS]
exit status: 0 within tolerance, 1 outside it (or a run's output missing or not finite)
"""
import json
import math
import sys
from pathlib import Path

FIRST_TOL = 0.01
POINT_TOL = 0.05
TAIL_TOL = 0.02
TAIL_STEPS = 50


def load(out: Path, dev: str):
    try:
        summary = json.loads((out / f"{dev}.json").read_text())
        history = json.loads((out / dev / "checkpoint.json").read_text())["history"]
    except (OSError, ValueError, KeyError) as e:
        sys.exit(f"compare.py: the {dev} run left no readable summary or history in {out}: {e}")
    for h in history:
        if not all(math.isfinite(h.get(k) or 0.0) for k in ("loss", "val_loss")):
            print(f"FAIL: {dev} loss not finite at step {h['step']}")
            sys.exit(1)
    return summary, history


def rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-12)


def timing(dev: str, s: dict) -> float:
    ms = s.get("step_ms_median") or float("nan")
    wait = s.get("data_wait_ms_median") or 0.0
    print(
        f"{dev:>4}: {s['steps_run']} steps in {s['seconds']:.1f} s, median {ms:.2f} ms/step "
        f"(+ {wait:.2f} ms waiting for data), final loss {s['final_loss']:.5f}, val loss {s['val_loss']:.5f}"
    )
    return ms


def compare(cpu_h, cuda_h) -> list:
    """The failed checks, after printing the curves side by side."""
    if [h["step"] for h in cpu_h] != [h["step"] for h in cuda_h]:
        return ["the two histories log different steps"]
    print(f"{'step':>6} {'loss cpu':>10} {'loss cuda':>10} {'rel':>8} {'val cpu':>10} {'val cuda':>10} {'rel':>8}")
    fails = []
    for i, (c, g) in enumerate(zip(cpu_h, cuda_h)):
        rl, rv = rel(g["loss"], c["loss"]), rel(g["val_loss"], c["val_loss"])
        print(f"{c['step']:>6} {c['loss']:>10.6f} {g['loss']:>10.6f} {rl:>8.2%} "
              f"{c['val_loss']:>10.6f} {g['val_loss']:>10.6f} {rv:>8.2%}")
        if i == 0 and rl > FIRST_TOL:
            fails.append(f"training loss at step {c['step']} differs by {rl:.2%} (> {FIRST_TOL:.0%})")
        if rv > POINT_TOL:
            fails.append(f"validation loss at step {c['step']} differs by {rv:.2%} (> {POINT_TOL:.0%})")
    last = cpu_h[-1]["step"]
    tail = [(c["loss"], g["loss"]) for c, g in zip(cpu_h, cuda_h) if c["step"] > last - TAIL_STEPS]
    mc, mg = (sum(x) / len(tail) for x in zip(*tail))
    rt = rel(mg, mc)
    print(f"mean training loss over the last {TAIL_STEPS} steps ({len(tail)} points): "
          f"cpu {mc:.6f}, cuda {mg:.6f}, {rt:.2%} apart (tolerance {TAIL_TOL:.0%})")
    if rt > TAIL_TOL:
        fails.append(f"mean training loss of the last {TAIL_STEPS} steps differs by {rt:.2%} (> {TAIL_TOL:.0%})")
    return fails


def main():
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    out, cpu_only = Path(args[0]), "--cpu-only" in args
    ref = float(args[args.index("--ref-cpu-ms") + 1]) if "--ref-cpu-ms" in args else None
    cpu_s, cpu_h = load(out, "cpu")
    cpu_ms = timing("cpu", cpu_s)
    if cpu_only:
        print(f"cpu only: {len(cpu_h)} log points, loss {cpu_h[0]['loss']:.5f} at step {cpu_h[0]['step']} -> "
              f"{cpu_h[-1]['loss']:.5f} at step {cpu_h[-1]['step']}")
        return
    cuda_s, cuda_h = load(out, "cuda")
    cuda_ms = timing("cuda", cuda_s)
    print(f"speed-up: {cpu_ms / cuda_ms:.1f}x per step (median), {cpu_s['seconds'] / cuda_s['seconds']:.1f}x wall")
    if ref is not None:
        print(f"speed-up over the reference CPU ({ref:.1f} ms/step): {ref / cuda_ms:.1f}x per step")
    fails = compare(cpu_h, cuda_h)
    for f in fails:
        print(f"FAIL: {f}")
    print("MISMATCH" if fails else "OK: CUDA and CPU agree within tolerance")
    sys.exit(1 if fails else 0)


if __name__ == "__main__":
    main()
