#!/usr/bin/env bash
# The main job: install what is needed, build the firmware for TARGET (default m4: the
# Cortex-M4F) with the committed model (models/default.dqem, or $DQ_MODEL) and clip
# (data/clip/noisy.wav), run it in QEMU, and write out/denoised.wav + out/report.md. Idempotent.
# Usage: bash scripts/demo.sh [m4|m4-int|m7|rv32|m0plus]   (the task itself: cargo xtask demo)
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  -h | --help) exec cargo xtask demo --help ;;
esac
bash scripts/setup.sh
exec cargo xtask demo "$@"
