#!/usr/bin/env bash
# The trainer's step against PyTorch's on the same model, batch and thread count, in one go:
# `trainer bench-step` (candle graph and fused step, fp32 and DiffQ) and torch_step.py (fp32) at
# 1 and 2 threads; prints a markdown table (median ms per step) and keeps the JSON lines.
# PyTorch runs twice per thread count: as installed, and with OMP_WAIT_POLICY=PASSIVE (its
# OpenMP threads sleep instead of spinning, which matters when other processes share the cores);
# the ratio is taken against the faster of the two.
#
# Usage: bash scripts/step-compare/compare.sh [OUT_DIR]   (default out/step-compare)
# Env: TORCH_PYTHON (a python with torch; default python3), MEASURE (steps timed, default 60),
#      THREADS (default "1 2"), PRESET (default default), TRAINER (default target/release/trainer).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-out/step-compare}
py=${TORCH_PYTHON:-python3}
measure=${MEASURE:-60}
preset=${PRESET:-default}
t=${TRAINER:-target/release/trainer}
[ -n "${TRAINER:-}" ] || cargo build -q -p trainer --release
mkdir -p "$out"
: >"$out/results.jsonl"
echo "load before: $(uptime)" >&2
"$t" bench-step --preset "$preset" --method fp32 --measure 1 --warmup 0 --dump "$out/inputs" 2>/dev/null >/dev/null
for n in ${THREADS:-1 2}; do
  for method in fp32 diffq; do
    for imp in graph fused; do
      "$t" bench-step --preset "$preset" --method "$method" --step-impl "$imp" --threads "$n" --measure "$measure" --json \
        2>/dev/null >>"$out/results.jsonl"
    done
  done
  "$py" scripts/step-compare/torch_step.py "$out/inputs" --threads "$n" --measure "$measure" >>"$out/results.jsonl"
  OMP_WAIT_POLICY=PASSIVE "$py" scripts/step-compare/torch_step.py "$out/inputs" --threads "$n" --measure "$measure" \
    --tag passive >>"$out/results.jsonl"
done
echo "load after: $(uptime)" >&2
python3 - "$out/results.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
torch = {r["threads"]: r for r in rows if r.get("impl") == "pytorch" and not r.get("tag")}
passive = {r["threads"]: r for r in rows if r.get("impl") == "pytorch" and r.get("tag") == "passive"}
print("| threads | method | candle graph | candle fused | PyTorch (fp32) | PyTorch, OMP passive | fused / best PyTorch |")
print("|---|---|---|---|---|---|---|")
for n in sorted({r["threads"] for r in rows}):
    for m in ("fp32", "diffq"):
        g = next((r for r in rows if r.get("method") == m and r.get("step_impl") == "graph" and r["threads"] == n), None)
        f = next((r for r in rows if r.get("method") == m and r.get("step_impl") == "fused" and r["threads"] == n), None)
        p, q = torch.get(n), passive.get(n)
        best = min((r for r in (p, q) if r), key=lambda r: r["step_ms"], default=None)
        fmt = lambda r: f"{r['step_ms']:.1f} ms (f {r['forward_ms']:.1f} / b {r['backward_ms']:.1f} / u {r['update_ms']:.1f})" if r else "–"
        ratio = f"{f['step_ms'] / best['step_ms']:.2f}×" if f and best else "–"
        print(f"| {n} | {m} | {fmt(g)} | {fmt(f)} | {fmt(p)} | {fmt(q)} | {ratio} |")
for r in rows:
    if r.get("method") == "fp32" or r.get("impl") == "pytorch":
        print(f"first/last loss {r.get('step_impl', 'pytorch')}{r.get('tag', '')} {r['threads']}t: {r['first_loss']:.6f} / {r['last_loss']:.6f}", file=sys.stderr)
PY
