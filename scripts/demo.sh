#!/usr/bin/env bash
# The main job: install what is needed, build the firmware for TARGET (default m4: the
# Cortex-M4F) with the committed default model (models/gru16k.dqem, 16 kHz; or $DQ_MODEL, or
# --model BLOB) and the demo clip at its rate (data/clip-16k/noisy.wav; data/clip/ for an 8 kHz
# model such as models/conv8k.dqem), run it in QEMU, and write out/denoised.wav + out/report.md.
# Idempotent.
# Usage: bash scripts/demo.sh [m4|m4-int|m7|rv32|m0plus|m4-c|m4-c-int] [--model BLOB]
# (the task itself: cargo xtask demo)
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  -h | --help) exec cargo xtask demo --help ;;
esac
bash scripts/setup.sh
exec cargo xtask demo "$@"
