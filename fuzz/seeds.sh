#!/usr/bin/env bash
# Writes the seed inputs of every fuzz target into fuzz/seeds/<target>/ from
# fixtures made here (git CLI with pinned dates) and the test data in the
# repository. `cargo fuzz run T fuzz/corpus/T fuzz/seeds/T` then starts from
# them; the committed corpus is what the fuzzer kept, minimised (README.md).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
seeds=$here/seeds
rm -rf "$seeds"
mkdir -p "$seeds"/{commit,pack,message,config,logs,github}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

export GIT_CONFIG_NOSYSTEM=1 HOME=$work GIT_AUTHOR_NAME="Fuzz Seed" GIT_AUTHOR_EMAIL=seed@example.com \
  GIT_COMMITTER_NAME="Fuzz Seed" GIT_COMMITTER_EMAIL=seed@example.com
g() { git -C "$work/r" "$@"; }
git init -q -b main "$work/r"
body=$(printf 'All work and no play makes a dull commit message. %.0s' {1..8})
for i in 1 2 3 4 5 6; do
  GIT_AUTHOR_DATE="2024-01-0${i}T10:00:00+01:00" GIT_COMMITTER_DATE="2024-01-0${i}T11:00:00-05:00" \
    g commit -q --allow-empty -m "change $i" -m "$body"
done
g checkout -q -b side HEAD~2
GIT_AUTHOR_DATE="2024-01-07T10:00:00Z" GIT_COMMITTER_DATE="2024-01-07T10:00:00Z" \
  g commit -q --allow-empty -m "side" -m "(cherry picked from commit $(g rev-parse main~1))"
g checkout -q main
GIT_AUTHOR_DATE="2024-01-08T10:00:00Z" GIT_COMMITTER_DATE="2024-01-08T10:00:00Z" \
  g merge -q --no-ff side -m "Merge side"
GIT_AUTHOR_DATE="2024-01-09T10:00:00Z" GIT_COMMITTER_DATE="2024-01-09T10:00:00Z" \
  g commit -q --allow-empty -m "Revert \"change 6\"" -m "This reverts commit $(g rev-parse HEAD~1)."

# commit: every raw commit object, plus odd layouts libgit2 still reads.
n=0
for sha in $(g rev-list --all); do
  g cat-file commit "$sha" > "$seeds/commit/$n"; n=$((n + 1))
done
tree=$(g rev-parse 'HEAD^{tree}')
printf 'tree %s\nauthor A <a@x> 1700000000 +0000\ncommitter C <c@x> 1700000000 +0000\nencoding ISO-8859-1\n\n\xe9t\xe9\n' "$tree" > "$seeds/commit/encoding"
printf 'tree %s\nauthor A <a@x> 1700000000 +0000\ncommitter C <c@x> 1700000000 +0000\ngpgsig -----BEGIN PGP SIGNATURE-----\n \n abc\n -----END PGP SIGNATURE-----\n\nsigned\n' "$tree" > "$seeds/commit/gpgsig"
printf 'tree %s\nauthor <> 0 +0000\ncommitter  <c@x> -1 -0130\n\n' "$tree" > "$seeds/commit/empty-names"

# pack: [u32 LE index length][index][pack], with offset deltas, ref deltas
# and a 64-bit offset table.
pack_seed() { # name, then git options for repack
  local name=$1; shift
  g "$@" repack -q -a -d -f --window=10 --depth=10
  local idx pack
  idx=$(ls "$work"/r/.git/objects/pack/*.idx)
  pack=${idx%.idx}.pack
  if [ "$name" = large-offsets ]; then rm "$idx"; g index-pack --index-version=2,100 "$pack" >/dev/null; fi
  python3 - "$idx" "$pack" "$seeds/pack/$name" <<'PY'
import struct, sys
idx = open(sys.argv[1], 'rb').read(); pack = open(sys.argv[2], 'rb').read()
open(sys.argv[3], 'wb').write(struct.pack('<I', len(idx)) + idx + pack)
PY
}
pack_seed offset-deltas -c repack.useDeltaBaseOffset=true
pack_seed ref-deltas -c repack.useDeltaBaseOffset=false
pack_seed large-offsets -c repack.useDeltaBaseOffset=true

# message: the trailers as git writes them, and near misses.
for sha in $(g rev-list --all); do g log -1 --format=%B "$sha" > "$seeds/message/$sha"; done
printf 'This reverts commit ABCDEF0.\n' > "$seeds/message/upper"
printf '(cherry picked from commit abc)\n(cherry picked from commit 0123456789)\n' > "$seeds/message/second"
printf 'This reverts commit %s\n' "$(printf 'a%.0s' {1..70})" > "$seeds/message/long"

# config: the demo's, `init`'s and the docs' examples.
python3 - "$root" "$seeds/config" <<'PY'
import re, sys, pathlib
root, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
n = 0
for src in [root / 'demo/src/lib.rs', root / 'parse/src/config.rs', root / 'docs/config.md']:
    if not src.exists():
        continue
    text = src.read_text()
    for block in re.findall(r'r#"(.*?)"#', text, re.S) + re.findall(r'```toml\n(.*?)```', text, re.S):
        if '[[environment]]' in block or 'lead_time_start' in block:
            (out / f'{src.stem}-{n}.toml').write_text(block); n += 1
print(f'{n} config seeds', file=sys.stderr)
PY

# logs: first byte = flags (1: named .json, 2: incidents), then the text.
seed_log() { { printf "\\x$1"; cat; } > "$seeds/logs/$2"; }
printf 'deployed_at,environment,sha,status,repo,deployment_id,ref,actor,trigger,tests_passed\n2024-03-01 12:00:00,production,abcdef1,success,o/r,d1,main,ann,manual,true\n2024-03-02T12:00:00+01:00,production,ABCDEF2,failure,,,,,automated,no\n' | seed_log 00 deploy.csv
printf '[{"deployed_at":"2024-03-01T12:00:00Z","environment":"beta","sha":"abcd","tests_passed":false,"deployment_id":7}]' | seed_log 01 deploy.json
printf 'incident_id,opened_at,resolved_at,title,severity,repo,caused_by_sha,deployment_id\nI1,2024-03-01 12:00:00,2024-03-01 13:00:00,Down,sev1,o/r,abcdef1,d1\nI2,2024-03-02 12:00:00,,,,,,\n' | seed_log 02 incidents.csv
printf '[{"incident_id":"I1","opened_at":"2024-03-01 12:00:00","resolved_at":null,"severity":"sev2"}]' | seed_log 03 incidents.json

# github: first byte = which payload (see fuzz_targets/github.rs), then JSON.
seed_gh() { { printf "\\x$1"; cat "$2"; } > "$seeds/github/$(basename "$2" .json)-$1"; }
d=$root/tests/data/github
seed_gh 02 "$d/pulls_list_closed.json"
python3 - "$d" "$seeds/github" <<'PY'
import json, sys, pathlib
d, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
pulls = json.loads((d / 'pulls_list_closed.json').read_text())
commits = json.loads((d / 'pull_1347_commits.json').read_text())
p = dict(pulls[0]); p['merged_at'] = p.get('merged_at') or '2024-01-03T00:00:00Z'
review = [{"user": {"login": "rev"}, "submitted_at": "2024-01-02T00:00:00Z", "state": "APPROVED"}]
(out / 'pull-00').write_bytes(b'\x00' + json.dumps([p, p, commits[:2], review]).encode())
deps = json.loads((d / 'deployments.json').read_text())
statuses = json.loads((d / 'deployment_statuses.json').read_text())
(out / 'deployment-03').write_bytes(b'\x03' + json.dumps([deps[0], statuses]).encode())
PY
seed_gh 04 "$d/actions_runs.json"
seed_gh 05 "$d/issues_incident.json"
seed_gh 07 "$d/releases.json"
seed_gh 07 "$d/tags.json"
seed_gh 07 "$d/rate_limit.json"
printf '\x06{"data":{"repository":{"pullRequests":{"pageInfo":{"hasNextPage":false,"endCursor":null},"nodes":[{"number":1,"title":"t","author":{"login":"a"},"createdAt":"2024-01-01T00:00:00Z","mergedAt":"2024-01-02T00:00:00Z","baseRefName":"main","headRefName":"f","additions":1,"deletions":2,"changedFiles":1,"mergeCommit":{"oid":"abc"},"commits":{"totalCount":1,"nodes":[{"commit":{"oid":"abc","authoredDate":"2024-01-01T00:00:00Z"}}]},"reviews":{"nodes":[]},"labels":{"nodes":[{"name":"bug"}]}}]}}}}' > "$seeds/github/graphql-06"
for t in commit pack message config logs github; do
  echo "$t: $(ls "$seeds/$t" | wc -l) seeds"
done
