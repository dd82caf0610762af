#!/usr/bin/env bash
# Installs a CUDA 13.0 toolkit (nvcc, headers, cudart, cuBLAS, cuRAND, NVRTC) from NVIDIA's Python
# wheels into a virtual environment, so that the trainer's `cuda` feature builds on a machine with
# no GPU and no system CUDA package, and writes an environment file to source before the build.
#
#   scripts/cuda-toolkit.sh            # install (or check) .cuda/, write .cuda/env.sh
#   . .cuda/env.sh                     # then: cargo build --release -p trainer --features cuda
#
# CUDA_DIR (default: .cuda at the repository root, git-ignored) holds everything:
#   venv/      the wheels (about 1.2 GB); the toolkit tree is venv/.../site-packages/nvidia/cu13
#   stub/      libcuda.so, a link-time stand-in for the driver library (see below)
#   env.sh     CUDA_HOME, PATH, LIBRARY_PATH, CUDA_COMPUTE_CAP, ... for the build
#
# Why 13.0: only the CUDA 13 wheels ship nvcc (the -cu12 nvcc wheels hold ptxas alone); the cudarc
# that candle 0.11 uses reads `nvcc --version` and accepts 13.0 up to 13.4; and a 13.0 toolkit
# needs driver >= 580, the branch current datacenter GPUs (H100/H200) run: PTX from a newer
# toolkit than the driver's may not load.
#
# The driver library (libcuda.so.1) comes with the GPU driver and is in no wheel. The binary links
# against it dynamically, so the link needs a libcuda.so: this script builds a stub with the system
# C compiler from the driver API names of the toolkit's own cuda.h (SONAME libcuda.so.1, every
# function returning CUDA_ERROR_STUB_LIBRARY). The stub is on LIBRARY_PATH (link time) only,
# never on LD_LIBRARY_PATH: at run time the real driver's libcuda.so.1 must be found.
#
# Idempotent: an installed venv whose pins match is kept; the symlinks, stub and env file are
# rewritten each time. Nothing here is needed by CI or by a CPU build.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CUDA_DIR="${CUDA_DIR:-$ROOT/.cuda}"
VENV="$CUDA_DIR/venv"
STUB_DIR="$CUDA_DIR/stub"
ENV_FILE="$CUDA_DIR/env.sh"
PYTHON="${PYTHON:-python3}"
# H100/H200 (compute capability 9.0); A100 is 80, L4/L40S 89, B200 100. Without it the build
# would ask nvidia-smi, which a machine without a GPU does not have.
COMPUTE_CAP="${CUDA_COMPUTE_CAP:-90}"

# The toolkit, pinned wheel by wheel: the versions `cuda-toolkit==13.0.2` resolves to. They are
# installed in one pip call (a second install into the same tree has been seen to skip cuBLAS).
WHEELS=(
  nvidia-cuda-nvcc==13.0.88
  nvidia-nvvm==13.0.88
  nvidia-cuda-crt==13.0.88
  nvidia-cuda-runtime==13.0.96
  nvidia-cuda-cccl==13.0.85
  nvidia-cuda-nvrtc==13.0.88
  nvidia-curand==10.4.0.35
  nvidia-cublas==13.1.0.3
)
# The libraries the link asks for (cudarc: nvrtc, curand, cublas, cublasLt; candle-kernels: cudart),
# which the wheels ship only as libX.so.N.
LINK_LIBS=(cudart nvrtc curand cublas cublasLt)

die() { echo "cuda-toolkit: error: $*" >&2; exit 1; }
say() { echo "cuda-toolkit: $*" >&2; }

command -v "$PYTHON" >/dev/null || die "$PYTHON not found (set PYTHON to a Python 3.9+ interpreter)"
command -v cc >/dev/null || die "no C compiler 'cc' (needed to build the link-time libcuda.so stub)"
[ "$(uname -sm)" = "Linux x86_64" ] || die "the pinned wheels are for Linux x86_64, this is $(uname -sm)"

install_wheels() {
  local stamp="$CUDA_DIR/wheels.txt"
  if [ -x "$VENV/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "${WHEELS[*]}" ]; then
    say "wheels already installed in $VENV"
    return
  fi
  say "installing ${#WHEELS[@]} pinned CUDA 13.0 wheels into $VENV (about 1.2 GB)"
  rm -rf "$VENV" "$stamp"
  mkdir -p "$CUDA_DIR"
  "$PYTHON" -m venv "$VENV" || die "could not create a venv with $PYTHON (python3-venv missing?)"
  "$VENV/bin/pip" install --quiet --no-cache-dir "${WHEELS[@]}" || die "pip install of the CUDA wheels failed"
  echo "${WHEELS[*]}" >"$stamp"
}

# The toolkit tree the wheels form: bin/nvcc, include/, lib/, nvvm/.
toolkit_dir() {
  local site
  site="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  echo "$site/nvidia/cu13"
}

check_nvcc() {
  local tk="$1" version
  [ -x "$tk/bin/nvcc" ] || die "no nvcc in $tk/bin (remove $CUDA_DIR and run again)"
  version="$("$tk/bin/nvcc" --version | sed -n 's/.*release \([0-9.]*\),.*/\1/p')"
  [ "$version" = "13.0" ] || die "nvcc in $tk reports release '$version', expected 13.0"
  say "nvcc $version in $tk"
}

# libX.so -> libX.so.N for each library the link names.
link_symlinks() {
  local tk="$1" lib found
  for lib in "${LINK_LIBS[@]}"; do
    found="$(cd "$tk/lib" && ls "lib$lib.so".[0-9]* 2>/dev/null | head -n 1)"
    [ -n "$found" ] || die "lib$lib.so.N not found in $tk/lib (a wheel missing?)"
    ln -sfn "$found" "$tk/lib/lib$lib.so"
  done
}

# libcuda.so for the link: every CUresult-returning function that cuda.h declares (after the
# preprocessor, so the versioned names such as cuCtxCreate_v4 that a binary really imports).
build_stub() {
  local tk="$1" names src
  mkdir -p "$STUB_DIR"
  names="$(cc -E -P -I"$tk/include" "$tk/include/cuda.h" \
    | grep -oE '\bCUresult[[:space:]]+cu[A-Za-z0-9_]+[[:space:]]*\(' \
    | sed -E 's/^CUresult[[:space:]]+//; s/[[:space:]]*\($//' | sort -u)"
  [ "$(echo "$names" | wc -l)" -gt 100 ] || die "found too few driver API names in $tk/include/cuda.h"
  src="$STUB_DIR/libcuda-stub.c"
  {
    echo "/* Link-time stand-in for the CUDA driver library, generated by scripts/cuda-toolkit.sh."
    echo "   Never load it: every function returns CUDA_ERROR_STUB_LIBRARY (34). */"
    echo "#define STUB(name) int name(void) { return 34; }"
    echo "$names" | sed 's/.*/STUB(&)/'
  } >"$src"
  cc -shared -fPIC -O1 -Wl,-soname,libcuda.so.1 -o "$STUB_DIR/libcuda.so" "$src" \
    || die "could not build the libcuda.so stub from $src"
  say "libcuda.so stub: $(echo "$names" | wc -l) driver API names, in $STUB_DIR (link time only)"
}

write_env() {
  local tk="$1"
  cat >"$ENV_FILE" <<EOF
# Written by scripts/cuda-toolkit.sh: source before \`cargo build --release -p trainer --features cuda\`.
export CUDA_HOME="$tk" CUDA_PATH="$tk" CUDA_ROOT="$tk"
export PATH="$tk/bin:\$PATH"
export CUDA_COMPUTE_CAP="\${CUDA_COMPUTE_CAP:-$COMPUTE_CAP}"
export CUDAFORGE_THREADS="\${CUDAFORGE_THREADS:-\$(nproc)}"
# link time: the toolkit's libraries and the driver stub; build scripts run with the toolkit's only
export LIBRARY_PATH="$tk/lib:$STUB_DIR\${LIBRARY_PATH:+:\$LIBRARY_PATH}"
export LD_LIBRARY_PATH="$tk/lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
EOF
  say "environment written to $ENV_FILE (CUDA_COMPUTE_CAP=$COMPUTE_CAP)"
}

install_wheels
TK="$(toolkit_dir)"
check_nvcc "$TK"
link_symlinks "$TK"
build_stub "$TK"
write_env "$TK"
echo "$ENV_FILE"
