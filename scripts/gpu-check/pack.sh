#!/usr/bin/env bash
# Packs what a GPU machine needs to run the GPU check without a Rust toolchain or the corpus:
# the stripped `cuda` trainer, scripts/gpu-check.sh and compare.py, and the data subset
# (scripts/gpu-check/subset.py, with its attribution). Unpack and run ./gpu-check/gpu-check.sh.
#
#   scripts/gpu-check/pack.sh BIN TARBALL     (scripts/build-cuda.sh --pack calls it)
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: $0 BIN TARBALL" >&2; exit 1; }
BIN="$1" TARBALL="$2"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
[ -x "$BIN" ] || { echo "pack: no trainer binary at $BIN" >&2; exit 1; }

STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT
B="$STAGE/gpu-check"
mkdir -p "$B"
strip -o "$B/trainer" "$BIN"
cp "$ROOT/scripts/gpu-check.sh" "$ROOT/scripts/gpu-check/compare.py" "$B/"
python3 "$ROOT/scripts/gpu-check/subset.py" "$ROOT/data/manifest.tsv" \
  /usr/share/asterisk/sounds /usr/share/asterisk/moh "$B/data"
mkdir -p "$(dirname "$TARBALL")"
tar -C "$STAGE" -czf "$TARBALL" gpu-check
echo "pack: $TARBALL ($(du -h "$TARBALL" | cut -f1); stripped trainer $(du -h "$B/trainer" | cut -f1))" >&2
echo "pack: on the GPU machine: tar xzf $(basename "$TARBALL") && gpu-check/gpu-check.sh" >&2
