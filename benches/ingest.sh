#!/usr/bin/env bash
# Ingest benchmark: flowmeter vs `git log --numstat` on the same repo, in one run.
#
#   benches/ingest.sh REPO [FLOWMETER_BIN]
#
# Prints wall time and peak RSS for: the git baseline, a full ingest with diff
# stats, a metadata-only ingest (--no-stats), and a no-op re-ingest. Each is run
# RUNS times (default 3); the median is reported. Needs GNU time (/usr/bin/time).
set -euo pipefail
repo=${1:?usage: benches/ingest.sh REPO [FLOWMETER_BIN]}
bin=${2:-target/release/flowmeter}
runs=${RUNS:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

measure() { # label, command...
  local label=$1; shift
  local times=() rss=()
  for _ in $(seq "$runs"); do
    [ -n "${PREP:-}" ] && eval "$PREP"
    /usr/bin/time -f '%e %M' -o "$work/t" "$@" >/dev/null 2>"$work/err" || { cat "$work/err"; exit 1; }
    read -r t m <"$work/t"; times+=("$t"); rss+=("$m")
  done
  local med; med=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")
  local mem; mem=$(printf '%s\n' "${rss[@]}" | sort -n | tail -1)
  printf '%-34s %8.2f s   peak RSS %7.1f MiB   (runs: %s)\n' "$label" "$med" "$(echo "$mem/1024" | bc -l)" "${times[*]}"
  echo "$med" >"$work/last"
}

commits=$(git -C "$repo" rev-list --branches --tags --count)
echo "repo: $repo ($commits commits on branches and tags)"
echo "flowmeter: $bin ($("$bin" --version))"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
echo

measure "git log --numstat (baseline)" \
  git -C "$repo" log --branches --tags --numstat --diff-merges=first-parent --format=%H
git_s=$(cat "$work/last")

PREP="rm -rf $work/store" measure "flowmeter ingest git (full)" \
  "$bin" --quiet --data "$work/store" ingest git "$repo"
full_s=$(cat "$work/last")

PREP="rm -rf $work/meta" measure "flowmeter ingest git --no-stats" \
  "$bin" --quiet --data "$work/meta" ingest git "$repo" --no-stats
meta_s=$(cat "$work/last")

measure "flowmeter ingest git (no-op rerun)" \
  "$bin" --quiet --data "$work/store" ingest git "$repo"
noop_s=$(cat "$work/last")

echo
echo "full ingest vs git:     $(echo "$git_s / $full_s" | bc -l | xargs printf '%.2f')x git's speed"
echo "full ingest rate:       $(echo "$commits / $full_s" | bc -l | xargs printf '%.0f') commits/s"
echo "metadata-only rate:     $(echo "$commits / $meta_s" | bc -l | xargs printf '%.0f') commits/s"
echo "no-op re-ingest:        ${noop_s} s"
