#!/usr/bin/env bash
# Build-profile benchmark (#19): what a newcomer waits for, from a fresh clone.
#
#   benches/build_profile.sh VARIANT [REV]
#
# VARIANT names benches/build-profiles/VARIANT.toml: the [profile.dev*] tables
# to measure. They replace every [profile.dev*] table of the clone's Cargo.toml.
# VARIANT `current` measures the clone's own Cargo.toml, unchanged.
# A file benches/build-profiles/VARIANT.cargo-config.toml, when present, becomes
# the clone's .cargo/config.toml (a linker, say).
#
# It clones REV (default HEAD) of this repository into a new directory, with an
# empty CARGO_TARGET_DIR inside it, and times the README's two commands the way
# a newcomer runs them, split into what each waits for:
#   build   cargo build                      (what `cargo run` compiles, cold)
#   demo    cargo run -- demo                (nothing left to build)
#   tbuild  cargo test --workspace --no-run  (the test targets, after the demo)
#   tests   cargo test --workspace           (nothing left to build)
# and writes one line per variant to $OUT (default /tmp/build-profile.tsv):
#   variant rev build demo tbuild tests first_report(build+demo) suite(tbuild+tests)
# The cold build's per-crate timings stay in $KEEP/VARIANT-timings.html.
# Crates come from ~/.cargo/registry as on any machine that has fetched once;
# run nothing else at the same time: 2 cores, and every job shows in the times.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
variant=${1:?usage: benches/build_profile.sh VARIANT [REV]}
rev=${2:-HEAD}
profile="$here/benches/build-profiles/$variant.toml"
[ "$variant" = current ] || [ -f "$profile" ] || { echo "no such variant: $profile" >&2; exit 2; }
out=${OUT:-/tmp/build-profile.tsv}
keep=${KEEP:-/tmp/build-profile}
mkdir -p "$keep"
work=$(mktemp -d /tmp/bp-"$variant".XXXX)
# KEEP_CLONE=1 leaves the clone and its target directory (for profiling).
[ "${KEEP_CLONE:-}" = 1 ] || trap 'rm -rf "$work"' EXIT

git clone -q "$here" "$work/flowmeter"
cd "$work/flowmeter"
git checkout -q "$rev"
sha=$(git rev-parse --short HEAD)
[ "$variant" = current ] || python3 - "$profile" <<'PY'
import re, sys
text = open("Cargo.toml").read()
# Drop every [profile.dev] / [profile.dev.package.*] table, with the comment
# lines right above it, then append the variant's.
out, skip = [], False
for line in text.splitlines(keepends=True):
    if re.match(r"\[profile\.dev[.\]]", line):
        skip = True
        while out and out[-1].startswith("#"):
            out.pop()
        continue
    if skip and line.startswith("["):
        skip = False
    if not skip:
        out.append(line)
new = "".join(out).rstrip("\n") + "\n\n" + open(sys.argv[1]).read()
open("Cargo.toml", "w").write(new)
PY
if [ -f "${profile%.toml}.cargo-config.toml" ]; then
  mkdir -p .cargo && cp "${profile%.toml}.cargo-config.toml" .cargo/config.toml
fi
export CARGO_TARGET_DIR="$work/target" CARGO_TERM_COLOR=never
exec </dev/null

t() { # label, command...: seconds of wall time
  local label=$1; shift
  local start end
  start=$(date +%s.%N)
  "$@" >"$work/$label.log" 2>&1 || { tail -40 "$work/$label.log" >&2; echo "$label failed" >&2; exit 1; }
  end=$(date +%s.%N)
  printf '%.0f' "$(echo "$end - $start" | bc -l)"
}
build=$(t build cargo build --timings)
cp "$CARGO_TARGET_DIR"/cargo-timings/cargo-timing.html "$keep/$variant-timings.html"
demo=$(t demo cargo run -- demo)
tbuild=$(t tbuild cargo test --workspace --no-run)
tests=$(t tests cargo test --workspace)
cp "$work/tests.log" "$keep/$variant-tests.log"
first=$(( build + demo )); suite=$(( tbuild + tests ))
printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$variant" "$sha" "$build" "$demo" "$tbuild" "$tests" "$first" "$suite" | tee -a "$out"
[ "${KEEP_CLONE:-}" = 1 ] && echo "clone kept: $work" >&2 || true
