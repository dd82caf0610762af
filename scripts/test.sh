#!/usr/bin/env bash
# Runs every test: host unit/integration tests of all crates, the runtime built for each
# embedded target, and the firmware in QEMU. This is what CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== runtime and the C API's staticlib build for every embedded target"
for t in thumbv7em-none-eabihf thumbv6m-none-eabi riscv32imac-unknown-none-elf; do
  cargo build -q -p diffq-runtime --release --target "$t"
  cargo build -q -p diffq-denoise-c --release --target "$t"
done

echo "== formatting (rustfmt.toml): root workspace, firmware, fuzz targets"
cargo fmt --all --check
(cd firmware && cargo fmt --all --check)
(cd runtime/fuzz && cargo fmt --all --check)

echo "== structure: no import cycle between source files, no function over 80 lines"
python3 scripts/structure.py --check

echo "== clippy, every crate and target (runtime: no unwrap/expect/panic/indexing in library code)"
cargo clippy -q -p diffq-runtime --features std -- -D warnings
cargo clippy -q --workspace --all-targets -- -D warnings
cargo clippy -q -p diffq-denoise-c --target thumbv7em-none-eabihf -- -D warnings   # the bare-metal panic handler

echo "== fuzz targets compile (stable; scripts/fuzz.sh runs them on nightly)"
(cd runtime/fuzz && cargo check -q --bins)

echo "== firmware: every target builds, clippy"
bash scripts/test-firmware.sh --builds-only

echo "== host tests (runtime, trainer, C API: header current, C test with cc; host-tests: QEMU M4/M7/RV32/M0 and the C example on the M4 vs host)"
cargo test --workspace --no-fail-fast
