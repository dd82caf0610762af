#!/usr/bin/env bash
# Firmware CI: builds the firmware crates no test builds (kbench, the STM32F4 board in its four
# variants with the default 16 kHz model and two with the 8 kHz one, the M4 integer variant),
# checks that no runtime code in them can reach a panic, lints the firmware workspace, then runs
# the host-tests suite: every QEMU
# target (M4, M7, RV32, M0) against the host runtime, real-time factor, RAM, error paths.
# Needs scripts/setup.sh (Rust targets, QEMU, audio packages).
# `--builds-only`: skip the host-tests suite (when `cargo test --workspace` runs it anyway).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== firmware: builds and clippy"
(
  cd firmware
  # Built apart: the board's PAC turns on cortex-m-rt's `device` feature (its vector table needs
  # the chip's device.x), which cargo would unify into kbench's build if both were built at once.
  # Each build is checked for runtime code that can reach a panic (none may: the runtime
  # returns errors; `scripts/panic-sites.py`). kbench links every runtime part.
  no_panics() { python3 ../scripts/panic-sites.py --crate diffq_runtime "target/$1/release/$2"; }
  cargo build -q --release -p kbench --target thumbv7em-none-eabihf
  no_panics thumbv7em-none-eabihf kbench
  cargo build -q --release -p board-stm32f4 --target thumbv7em-none-eabihf
  no_panics thumbv7em-none-eabihf board-stm32f4
  # The board's other variants: integer path, clip-in-flash mode, both; lane pairs.
  for features in fixed clip clip,fixed fixed,lane-pairs; do
    cargo build -q --release -p board-stm32f4 --target thumbv7em-none-eabihf --features "$features"
    no_panics thumbv7em-none-eabihf board-stm32f4
  done
  # The board with the 8 kHz model (without the default 16 kHz model's parts): live f32, the
  # clip on the integer path, and lane pairs.
  for features in "" clip,fixed lane-pairs; do
    cargo build -q --release -p board-stm32f4 --target thumbv7em-none-eabihf --no-default-features --features "$features"
    no_panics thumbv7em-none-eabihf board-stm32f4
  done
  cargo build -q --release -p kbench --target riscv32imac-unknown-none-elf
  no_panics riscv32imac-unknown-none-elf kbench
  # Every crate on every target the tests build (the runtime, a path dependency, is linted too);
  # `fixed` switches qemu-demo to the integer path.
  cargo clippy -q --release -p demo-core -p qemu-support -p qemu-demo -p kbench -p board-stm32f4 -- -D warnings
  cargo clippy -q --release -p qemu-demo --features fixed -- -D warnings
  # `classify`: the classifier demo, both paths.
  cargo clippy -q --release -p qemu-demo --features classify -- -D warnings
  cargo clippy -q --release -p qemu-demo --features classify,fixed -- -D warnings
  # `wideband`: kbench's demo stages at 16 kHz.
  cargo clippy -q --release -p kbench --features wideband -- -D warnings
  cargo clippy -q --release -p board-stm32f4 --features fixed -- -D warnings
  cargo clippy -q --release -p board-stm32f4 --features clip -- -D warnings
  cargo clippy -q --release -p board-stm32f4 --no-default-features -- -D warnings
  cargo clippy -q --release -p board-stm32f4 --no-default-features --features clip,fixed -- -D warnings
  cargo clippy -q --release -p demo-core -p qemu-support -p qemu-demo -p kbench \
    --target riscv32imac-unknown-none-elf -- -D warnings
  cargo clippy -q --release -p qemu-demo --features classify --target riscv32imac-unknown-none-elf -- -D warnings
  cargo clippy -q --release -p qemu-demo --target thumbv6m-none-eabi -- -D warnings
)

if [ "${1:-}" = "--builds-only" ]; then exit 0; fi

echo "== host-tests: QEMU runs (M4, M7, RV32, M0) vs the host, error paths"
cargo test -p host-tests --no-fail-fast
