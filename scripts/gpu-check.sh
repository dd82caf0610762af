#!/usr/bin/env bash
# The GPU check: trains the same run on CUDA and on the CPU (same seed, same data), compares the
# loss curves within stated tolerances (scripts/gpu-check/compare.py) and reports the step times.
#
#   scripts/gpu-check.sh [--steps N] [--seed S] [--out DIR (out/gpu-check)] [--trainer BIN] [--data DIR]
#                        [--cpu-threads N] [--ref-cpu-ms MS] [--cpu-only]
#
# The run: `train --preset default --method diffq --steps N` (default 200), a log point every 10
# steps. It works from the repository (binary target/cuda/release/trainer from
# scripts/build-cuda.sh, data subset written by scripts/gpu-check/subset.py into OUT/data) and
# from the bundle `scripts/build-cuda.sh --pack` makes (trainer, data/ and this script side by
# side; nothing to build or download). --ref-cpu-ms adds the speed-up over another CPU's
# median ms/step (the development machine's, trainer/RESULTS.md).
#
# Exit status: 0 the curves agree; 1 they do not, or a run failed; 2 no CUDA here (no driver
# library libcuda.so.1, or no device): nothing compared. --cpu-only runs the CPU half alone (a
# dry run of everything but the GPU; with a `cuda` binary it still needs libcuda.so.1 to load).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
STEPS=200 SEED=0 OUT="" CPU_THREADS=1 CPU_ONLY=0 REF_MS="" DATA="" TRAINER=""
# the bundle (trainer beside this script) or the repository
if [ -x "$HERE/trainer" ]; then TRAINER="$HERE/trainer" OUT="$HERE/out"; else
  TRAINER="$HERE/../target/cuda/release/trainer" OUT="$HERE/../out/gpu-check"
fi
if [ -f "$HERE/compare.py" ]; then COMPARE="$HERE/compare.py"; else COMPARE="$HERE/gpu-check/compare.py"; fi
[ -d "$HERE/data/speech" ] && DATA="$HERE/data"

die() { echo "gpu-check: error: $*" >&2; exit 1; }
no_cuda() { echo "gpu-check: no CUDA on this machine: $* (nothing compared; --cpu-only runs the CPU half)" >&2; exit 2; }
need() { [ $# -ge 2 ] || die "$1 needs a value"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --steps) need "$@"; STEPS="$2"; shift ;;
    --seed) need "$@"; SEED="$2"; shift ;;
    --out) need "$@"; OUT="$2"; shift ;;
    --trainer) need "$@"; TRAINER="$2"; shift ;;
    --data) need "$@"; DATA="$2"; shift ;;
    --cpu-threads) need "$@"; CPU_THREADS="$2"; shift ;;
    --ref-cpu-ms) need "$@"; REF_MS="$2"; shift ;;
    --cpu-only) CPU_ONLY=1 ;;
    -h | --help) sed -n '2,17p' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
  shift
done
[[ "$STEPS" =~ ^[0-9]+$ && "$STEPS" -ge 60 ]] || die "--steps must be a whole number of at least 60 (got '$STEPS')"
[ -x "$TRAINER" ] || die "no trainer binary at $TRAINER (scripts/build-cuda.sh builds it; or give --trainer)"
[ -f "$COMPARE" ] || die "compare.py not found beside $0"
command -v python3 >/dev/null || die "python3 is needed for the comparison"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"

# The data: the bundle's, --data, or a fresh subset of the installed corpus.
if [ -z "$DATA" ]; then
  DATA="$OUT/data"
  [ -d "$DATA/speech" ] || python3 "$HERE/gpu-check/subset.py" "$HERE/../data/manifest.tsv" \
    /usr/share/asterisk/sounds /usr/share/asterisk/moh "$DATA" || die "could not make the data subset"
fi
[ -d "$DATA/speech" ] && [ -d "$DATA/noise" ] || die "$DATA has no speech/ and noise/ folders"

# The CUDA libraries the binary loads: the driver's libcuda.so.1 must be installed; the toolkit's
# (cuBLAS, cudart, cuRAND) are looked for in NVIDIA's wheels (nvidia/*/lib in a Python
# environment, the running python3's first) or a CUDA install, unless LD_LIBRARY_PATH finds them.
find_lib() {
  local name="$1" dir hit
  for dir in $(python3 -c 'import site; print(" ".join(site.getsitepackages() + [site.getusersitepackages()]))'); do
    [ -d "$dir/nvidia" ] || continue
    hit="$(find "$dir/nvidia" -path "*/lib/$name" -print -quit 2>/dev/null)"
    [ -n "$hit" ] && { echo "$hit"; return; }
  done
  timeout 120 find / \( -path /proc -o -path /sys -o -path /dev -o -path /tmp \) -prune -o -name "$name" \
    \( -path "*/nvidia/*/lib/$name" -o -path "*/cuda*/lib*/$name" \) -print -quit 2>/dev/null || true
}
missing() { ldd "$TRAINER" 2>/dev/null | awk '/not found/ {print $1}'; }
for lib in $(missing); do
  [ "$lib" = libcuda.so.1 ] && continue
  path="$(find_lib "$lib")"
  [ -n "$path" ] || die "$lib, which $TRAINER needs, is nowhere on this machine (install NVIDIA's CUDA 13 wheels)"
  echo "gpu-check: $lib from $(dirname "$path")" >&2
  export LD_LIBRARY_PATH="$(dirname "$path")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
done
still="$(missing)"
if [[ $'\n'"$still"$'\n' == *$'\n'libcuda.so.1$'\n'* ]]; then
  [ "$CPU_ONLY" = 0 ] || { echo "gpu-check: $TRAINER is a cuda build and loads libcuda.so.1 even for the CPU half;" \
    "give a CPU build with --trainer (cargo build --release -p trainer)" >&2; exit 2; }
  no_cuda "the trainer needs the driver library libcuda.so.1, which is not installed"
fi
[ -z "$still" ] || die "libraries still not found: $(echo "$still" | tr '\n' ' ')"

# One half: train on DEV, summary in OUT/DEV.json, messages in OUT/DEV.log.
train_on() {
  local dev="$1"
  echo "gpu-check: training $STEPS steps on $dev (seed $SEED) ..." >&2
  "$TRAINER" train --preset default --method diffq --steps "$STEPS" --ckpt-every 10 --seed "$SEED" \
    --speech "$DATA/speech" --noise "$DATA/noise" --device "$dev" --threads "$CPU_THREADS" \
    --force --json --out "$OUT/$dev" >"$OUT/$dev.json" 2>"$OUT/$dev.log"
}

if [ "$CPU_ONLY" = 0 ] && ! train_on cuda; then
  tail -n 5 "$OUT/cuda.log" >&2
  if grep -qE 'CUDA_ERROR_(NO_DEVICE|STUB_LIBRARY|NOT_INITIALIZED|INVALID_DEVICE)|CUDA is not available' "$OUT/cuda.log"; then
    no_cuda "the CUDA run could not open a device (see $OUT/cuda.log)"
  fi
  die "the CUDA run failed (see $OUT/cuda.log)"
fi
train_on cpu || { tail -n 5 "$OUT/cpu.log" >&2; die "the CPU run failed (see $OUT/cpu.log)"; }

args=("$OUT")
[ "$CPU_ONLY" = 1 ] && args+=(--cpu-only)
[ -n "$REF_MS" ] && args+=(--ref-cpu-ms "$REF_MS")
python3 "$COMPARE" "${args[@]}"
