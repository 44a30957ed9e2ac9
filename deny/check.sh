#!/usr/bin/env bash
# cargo deny over both workspaces (the main one and fuzz/): licenses, bans
# and sources against crates.io, advisories against the committed snapshot
# in deny/advisory-db/ (CI reaches no advisory server). Fails on any finding
# that deny.toml does not explain. Needs cargo-deny (`.ci/run` installs it).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
read -r source commit date < deny/advisory-db/SNAPSHOT
# cargo-deny opens its database as a git checkout under db-path, named
# after the URL in deny.toml; build one from the snapshot, dated as it is.
db=deny/advisory-dbs/advisory-db-3157b0e258782691
rm -rf deny/advisory-dbs
mkdir -p "$db"
cp -r deny/advisory-db/. "$db/"
(
  cd "$db"
  git init -q -b main
  git add -A
  GIT_AUTHOR_DATE=$date GIT_COMMITTER_DATE=$date git -c user.name=snapshot -c user.email=snapshot@localhost \
    commit -q -m "$source $commit"
)
age=$(( ($(date +%s) - $(date -d "$date" +%s)) / 86400 ))
echo "deny: advisories from $source at $commit ($date, $age days old)"
for manifest in Cargo.toml fuzz/Cargo.toml; do
  echo "deny: $manifest"
  cargo deny --workspace --manifest-path "$manifest" check licenses bans sources
  cargo deny --offline --workspace --manifest-path "$manifest" check advisories
done
