#!/usr/bin/env bash
# Runs every test: host unit/integration tests of all crates, the runtime built for each
# embedded target, and the firmware in QEMU. This is what CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== runtime (and its no_std example) and the C API's staticlib build for every embedded target"
for t in thumbv7em-none-eabihf thumbv6m-none-eabi riscv32imac-unknown-none-elf; do
  cargo build -q -p diffq-runtime --release --target "$t" --lib --example embedded
  cargo build -q -p diffq-denoise-c --release --target "$t"
done

echo "== formatting (rustfmt.toml): root workspace, firmware, fuzz targets"
cargo fmt --all --check
(cd firmware && cargo fmt --all --check)
(cd runtime/fuzz && cargo fmt --all --check)

echo "== structure: no import cycle between source files, no function over 80 lines"
python3 scripts/structure.py --check

echo "== GPU scripts: shell syntax (they need a CUDA toolkit and a GPU to run: trainer/README.md)"
for f in scripts/cuda-toolkit.sh scripts/build-cuda.sh scripts/gpu-check.sh scripts/gpu-check/pack.sh; do bash -n "$f"; done

echo "== clippy, every crate and target (runtime: no unwrap/expect/panic/indexing in library code)"
cargo clippy -q -p diffq-runtime --features std -- -D warnings
cargo clippy -q --workspace --all-targets -- -D warnings
cargo clippy -q -p diffq-denoise-c --target thumbv7em-none-eabihf -- -D warnings   # the bare-metal panic handler

echo "== library docs: every public item documented, no broken links (with and without features); doc tests"
RUSTDOCFLAGS="-D warnings" cargo doc -q --no-deps -p diffq-runtime -p diffq-denoise-c
RUSTDOCFLAGS="-D warnings" cargo doc -q --no-deps -p diffq-runtime --features std,defmt
cargo test -q --doc -p diffq-runtime --features std   # the crate example runs (it builds its model with std's writer)

echo "== library packages: cargo publish --dry-run (packages, then builds each from its .crate)"
# The runtime is verified against diffq-simd32's package, and the C API against the runtime's,
# in a local registry (cargo publishes the three in dependency order). The dry run asks crates.io's index whether the versions exist.
# Cargo unpacks that local registry's crates under $CARGO_HOME/registry/src/-<hash of the
# registry's path>/ and reuses an unpacked copy whose version is unchanged, so a checkout at a
# path used before would build the C API against an old runtime: remove our crates' copies first.
rm -rf "${CARGO_HOME:-$HOME/.cargo}"/registry/src/-*/diffq-runtime-* \
       "${CARGO_HOME:-$HOME/.cargo}"/registry/src/-*/diffq-denoise-c-* \
       "${CARGO_HOME:-$HOME/.cargo}"/registry/src/-*/diffq-simd32-*
if ! cargo publish -q --dry-run --allow-dirty -p diffq-simd32 -p diffq-runtime -p diffq-denoise-c; then
  echo "cargo publish --dry-run failed (see above). It needs network access to crates.io's index;" >&2
  echo "offline, 'cargo package --offline -p diffq-simd32 -p diffq-runtime -p diffq-denoise-c' makes the same checks" >&2
  echo "except the registry's." >&2
  exit 1
fi

echo "== fuzz targets compile (stable; scripts/fuzz.sh runs them on nightly)"
(cd runtime/fuzz && cargo check -q --bins && cargo check -q --bins --features armv7em-loop \
  && cargo check -q --bins --features rv32-loop)

echo "== firmware: every target builds, clippy"
bash scripts/test-firmware.sh --builds-only

echo "== reference models: each models/*.model.toml trained tiny, exported, evaluated on the host (trainer),"
echo "   then under QEMU on the M4 (f32, int) and RV32 (int), bit-exact with the host (host-tests)"
rm -rf target/reference-models
cargo test -p trainer --test reference_models
cargo test -p host-tests --test reference_models -- --nocapture

echo "== host tests (runtime, trainer, C API: header current, C test with cc; host-tests: QEMU M4/M7/RV32/M0, the op zoo on M4/RV32 and the C example on the M4 vs host)"
# The reference-model tests ran above, in their order (the QEMU test reads what the trainer's wrote).
cargo test --workspace --no-fail-fast -- --skip every_reference_model --skip description_size_target --skip reference_models_match
echo "== runtime tests with RV32's lane-pair loop on the host (feature product-pairs)"
cargo test -q -p diffq-runtime --features std,product-pairs --lib --tests
