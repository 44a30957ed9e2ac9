#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 30), from the committed
# corpus, the seeds and the regressions (the crashers found so far), and
# fails on the first crash, leak or timeout.
# `.ci/run` calls it with a short time as a smoke run; BENCHMARKS.md
# records the long runs (600 s a target). Needs a nightly toolchain and
# cargo-fuzz. Usage: fuzz/run.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-30}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(commit pack message config logs github)
[ -d seeds/commit ] || bash seeds.sh >/dev/null
cargo +nightly fuzz build >/dev/null
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  extra=()
  asan=${ASAN_OPTIONS:-}
  # libgit2 1.9.7 leaks the first `encoding` header of a commit that has
  # two (commit.c, commit_parse): the oracle's leak, not ours. Off for
  # libFuzzer's per-input check and for LeakSanitizer's check at exit.
  if [ "$t" = commit ]; then
    extra=(-detect_leaks=0)
    asan=detect_leaks=0
  fi
  log=$(mktemp)
  # The crashers the fuzzers found, kept as inputs: each run replays them.
  regressions=()
  [ -d "regressions/$t" ] && regressions=("regressions/$t")
  if ! ASAN_OPTIONS=$asan cargo +nightly fuzz run "$t" "corpus/$t" "seeds/$t" "${regressions[@]}" -- \
      -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "${extra[@]}" >"$log" 2>&1; then
    tail -60 "$log"
    echo "fuzz/$t: FAILED (the input is in fuzz/artifacts/$t/)" >&2
    exit 1
  fi
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$')
  cov=$(grep -E '^#[0-9]+.*DONE' "$log" | grep -o 'cov: [0-9]* ft: [0-9]*' | tail -1)
  echo "fuzz/$t: ${secs}s, ${execs} executions, ${cov}, corpus $(ls "corpus/$t" | wc -l) files"
  rm -f "$log"
done
