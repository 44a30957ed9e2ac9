#!/usr/bin/env bash
# Checks flowmeter's commit -> deployment mapping against the git CLI.
#
#   benches/check_tag_mapping.sh REPO_GIT_DIR TAG_GLOB [FLOWMETER_BIN]
#
# Ingests REPO with a tags-only config (`tags = TAG_GLOB`, one production
# environment), runs `flowmeter analyze`, and for every matching tag after the
# first, in `git for-each-ref --sort=creatordate` order, checks that the commits
# flowmeter says the tag shipped equal `git rev-list TAG --not <all earlier tags>`.
# Prints the mapping stage time next to the time the git CLI took for the same
# pairs, and exits 1 on any mismatch.
#
#   benches/check_tag_mapping.sh ~/src/cargo '*'
#   benches/check_tag_mapping.sh /work/.mirror/rails+rails/repo 'v*'
set -euo pipefail
repo=${1:?usage: benches/check_tag_mapping.sh REPO_GIT_DIR TAG_GLOB [FLOWMETER_BIN]}
glob=${2:?usage: benches/check_tag_mapping.sh REPO_GIT_DIR TAG_GLOB [FLOWMETER_BIN]}
bin=${3:-}
if [ -z "$bin" ]; then
  bin=target/release/flowmeter
  [ -x "$bin" ] || bin=target/debug/flowmeter
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
data=$work/data
cfg=$work/flowmeter.toml
cat >"$cfg" <<TOML
[[environment]]
name = "production"
tags = "$glob"
production = true
TOML

echo "repo: $repo"
echo "flowmeter: $bin ($("$bin" --version))"
echo "tags: $glob"
"$bin" --quiet --data "$data" ingest git "$repo" --name repo --no-stats
"$bin" --data "$data" --config "$cfg" analyze | tee "$work/analyze.txt"
map_s=$(awk '$1 == "deployment_commits" {print $(NF)}' "$work/analyze.txt" | tr -d s)
mark_s=$(sed -n 's/(marking pass alone: \(.*\)s)/\1/p' "$work/analyze.txt")

# Tags in deployment order (creatordate = tagger date if annotated, else commit date).
git -C "$repo" for-each-ref --sort=creatordate --format='%(refname:short)' refs/tags >"$work/all-tags"
: >"$work/tags"
while read -r t; do
  # shellcheck disable=SC2053
  [[ $t == $glob ]] && echo "$t" >>"$work/tags"
done <"$work/all-tags"
n=$(wc -l <"$work/tags")
echo "$n matching tags"

"$bin" --data "$data" --config "$cfg" sql \
  "select deployment_id, sha from deployment_commits order by deployment_id, sha" --format csv \
  | tail -n +2 >"$work/flowmeter.csv"

earlier=()
checked=0
bad=0
git_s=0
while read -r t; do
  if [ ${#earlier[@]} -gt 0 ]; then
    t0=$(date +%s.%N)
    git -C "$repo" rev-list "refs/tags/$t" --not "${earlier[@]}" | sort >"$work/want"
    t1=$(date +%s.%N)
    git_s=$(awk -v a="$git_s" -v b="$t0" -v c="$t1" 'BEGIN {print a + c - b}')
    awk -F, -v id="tag:$t" '$1 == id {print $2}' "$work/flowmeter.csv" | sort >"$work/got"
    if ! cmp -s "$work/want" "$work/got"; then
      bad=$((bad + 1))
      echo "MISMATCH $t: git $(wc -l <"$work/want") commits, flowmeter $(wc -l <"$work/got")"
      diff "$work/want" "$work/got" | head -5 || true
    fi
    checked=$((checked + 1))
  fi
  earlier+=("refs/tags/$t")
done <"$work/tags"
printf 'checked %d tags after the first: %d mismatches\n' "$checked" "$bad"
printf 'flowmeter deployment_commits stage (all tags, one pass): %s s (marking pass alone: %s s)\n' "$map_s" "$mark_s"
printf 'git rev-list per pair (%d calls): %.3f s total, %.4f s per call\n' "$checked" "$git_s" "$(awk -v a="$git_s" -v n="$checked" 'BEGIN {print (n > 0) ? a / n : 0}')"
[ "$bad" -eq 0 ]
