#!/usr/bin/env bash
# Installs what the demo and the tests need on a fresh machine: embedded Rust targets,
# QEMU (Arm + RISC-V), the Arm GNU toolchain with newlib (the C API's example), LLVM's objdump and
# addr2line (the firmware check for panics) and the Debian
# audio packages the trainer reads (the prompts and music on hold as 8 kHz WAV and as 16 kHz
# G.722). Idempotent.
set -euo pipefail

TARGETS="thumbv7em-none-eabihf thumbv6m-none-eabi riscv32imac-unknown-none-elf"
# shellcheck disable=SC2086
rustup target add $TARGETS >/dev/null 2>&1

PKGS="qemu-system-arm qemu-system-misc gcc-arm-none-eabi libnewlib-arm-none-eabi llvm asterisk-core-sounds-en-wav asterisk-core-sounds-es-wav asterisk-core-sounds-it-wav asterisk-moh-opsound-wav asterisk-core-sounds-en-g722 asterisk-core-sounds-es-g722 asterisk-core-sounds-it-g722 asterisk-moh-opsound-g722"
missing=""
for p in $PKGS; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
echo "setup: rust targets, QEMU, arm-none-eabi-gcc and audio packages present"
