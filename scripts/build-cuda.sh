#!/usr/bin/env bash
# Builds the trainer with the `cuda` feature on a machine without a GPU, into its own target
# directory, and optionally packs what a GPU machine needs to run scripts/gpu-check.sh.
#
#   scripts/build-cuda.sh           # toolkit (scripts/cuda-toolkit.sh), then the build
#   scripts/build-cuda.sh --pack    # and out/gpu-check.tar.gz: stripped binary, check, data subset
#
# The binary is target/cuda/release/trainer (CARGO_TARGET_DIR overrides). Debug info is off for
# this build (CARGO_PROFILE_RELEASE_DEBUG=0): the kernels make the binary large enough as it is.
# The binary needs the GPU driver's libcuda.so.1 even for `--help`, so it cannot run here.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
PACK=0
for a in "$@"; do
  case "$a" in
    --pack) PACK=1 ;;
    -h | --help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "build-cuda: unknown argument '$a' (see --help)" >&2; exit 1 ;;
  esac
done

ENV_FILE="$(scripts/cuda-toolkit.sh)"
# shellcheck source=/dev/null
. "$ENV_FILE"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target/cuda}"
export CARGO_PROFILE_RELEASE_DEBUG=0
BIN="$CARGO_TARGET_DIR/release/trainer"

echo "build-cuda: cargo build --release -p trainer --features cuda (CUDA_COMPUTE_CAP=$CUDA_COMPUTE_CAP, into $CARGO_TARGET_DIR)" >&2
start=$(date +%s)
cargo build --release -p trainer --features cuda
secs=$(($(date +%s) - start))
echo "build-cuda: built $BIN in $((secs / 60))m$((secs % 60))s ($(du -h "$BIN" | cut -f1))" >&2

if [ "$PACK" = 1 ]; then
  scripts/gpu-check/pack.sh "$BIN" out/gpu-check.tar.gz
fi
