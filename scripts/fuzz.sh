#!/usr/bin/env bash
# Runs every fuzz target of runtime/fuzz for a bounded time and prints, per target, the
# executions, the crashes and the corpus size; exits non-zero if any target crashed (the input
# is in runtime/fuzz/artifacts/<target>/, the log in runtime/fuzz/artifacts/<target>.log).
# Needs the nightly toolchain and cargo-fuzz (both installed here when missing).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default 60 s, every target)
#
# DQ_FUZZ_FEATURES=armv7em-loop builds the targets with the Armv7E-M integer path's lane-pair loop
# (the runtime as the M4 and M7 firmware run it, with the portable blocks), DQ_FUZZ_FEATURES=rv32-loop
# with RV32's (product pairs); the default build runs the runtime as the other cores (M0) do.
#
# Each target starts from its seeds (runtime/fuzz/seeds/<target>/, plus the shipped models
# models/gru16k.dqem and models/conv8k.dqem for the blob targets) copied into runtime/fuzz/corpus/<target>/, which keeps what it finds
# between runs (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/../runtime/fuzz"
secs="${1:-60}"
shift || true

if ! rustup toolchain list | grep -q '^nightly'; then
  rustup toolchain install nightly --profile minimal
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo +nightly fuzz list)
fi
features=()
if [ -n "${DQ_FUZZ_FEATURES:-}" ]; then
  features=(--features "$DQ_FUZZ_FEATURES")
fi
cargo +nightly fuzz build "${features[@]}"

summary=()
crashed=0
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  cp -n "seeds/$t/"* "corpus/$t/" 2>/dev/null || true
  if [ "$t" != wav_clip ]; then
    cp -n ../../models/gru16k.dqem ../../models/conv8k.dqem "corpus/$t/"
  fi
  before=$(find "artifacts/$t" -type f | wc -l)
  log="artifacts/$t.log"
  echo "== $t: ${secs} s"
  rc=0
  cargo +nightly fuzz run "${features[@]}" "$t" "corpus/$t" -- -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 >"$log" 2>&1 || rc=$?
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -n 1)
  # Each crash, timeout, leak or out-of-memory input is one file (libFuzzer stops at the first).
  crashes=$(( $(find "artifacts/$t" -type f | wc -l) - before ))
  if [ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ]; then
    crashed=1
    tail -n 40 "$log"
  fi
  summary+=("$t: ${execs:-?} executions, $crashes crash(es), exit $rc, corpus $(find "corpus/$t" -type f | wc -l) files")
done

echo "== summary (${secs} s per target; logs in runtime/fuzz/artifacts/<target>.log)"
printf '%s\n' "${summary[@]}"
exit "$crashed"
