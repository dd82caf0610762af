#!/usr/bin/env bash
# The main job: install what is needed, build the Cortex-M4F firmware with the committed model
# (models/default.dqem, or the stand-in until it exists) and clip (data/clip/noisy.wav), run it
# in QEMU (mps2-an386), and write out/denoised.wav + out/report.md. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo run -q -p host-tests --bin demo -- "${1:-m4}"
