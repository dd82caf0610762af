#!/usr/bin/env bash
# Retrains the shipped model from its two recipe files and compares the result with
# models/conv8k.dqem byte for byte (about 30 min on 2 cores).
#
# candle's CPU matrix multiply (the `gemm` crate) splits each reduction into blocks sized from
# the L1 data cache it reads in /sys/devices/system/cpu, so float sums, and with them the
# trained weights, depend on that size. models/conv8k.dqem was trained where gemm saw a 32 KiB
# 8-way L1d. Run as root, this script shows gemm such a cache in a private mount namespace (the
# machine is not changed); otherwise it trains with the machine's own cache and the result is an
# equivalent model, not the same bytes.
#
# The runs use `--step-impl graph`: candle's graph and autograd, the float summation order the
# shipped model was trained with. The default fused CPU step (trainer/src/fused) computes the
# same function with sums in another order, so it trains an equivalent model, not these bytes.
#
# Usage: bash scripts/reproduce-conv8k.sh [OUT_DIR]   (default out/reproduce)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-out/reproduce}
cargo build -q -p trainer --release
t=target/release/trainer
mkdir -p "$out"

run() {
  "$t" train --config models/conv8k.fp32.toml --step-impl graph --out "$out/fp32"
  "$t" train --config models/conv8k.toml --step-impl graph --out "$out/diffq3"
  "$t" export --ckpt "$out/diffq3" --out "$out/conv8k.dqem"
}

l1d=$(cat /sys/devices/system/cpu/cpu0/cache/index0/size 2>/dev/null || echo unknown)
if [ "$l1d" != "32K" ] && [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
  fake=$(mktemp -d)
  trap 'rm -rf "$fake"' EXIT
  for cpu in /sys/devices/system/cpu/cpu[0-9]*; do
    for idx in "$cpu"/cache/index*; do
      d="$fake/$(basename "$cpu")/cache/$(basename "$idx")"
      mkdir -p "$d"
      for f in type level size ways_of_associativity coherency_line_size shared_cpu_list; do
        cat "$idx/$f" >"$d/$f"
      done
      if [ "$(cat "$idx/level")" = 1 ] && [ "$(cat "$idx/type")" = Data ]; then
        echo 32K >"$d/size"; echo 8 >"$d/ways_of_associativity"
      fi
    done
  done
  echo "L1d here: $l1d; training with gemm shown a 32 KiB 8-way L1d (private mount namespace)"
  export -f run; export t out
  unshare -m bash -c "mount --bind '$fake' /sys/devices/system/cpu && run"
else
  [ "$l1d" = "32K" ] || echo "L1d here: $l1d (not 32K, and not root): expect an equivalent model, not the same bytes"
  run
fi

if cmp "$out/conv8k.dqem" models/conv8k.dqem; then
  echo "reproduced: $out/conv8k.dqem is byte-identical to models/conv8k.dqem"
else
  echo "differs from models/conv8k.dqem: compare with trainer eval --model $out/conv8k.dqem"
  exit 1
fi
