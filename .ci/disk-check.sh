#!/usr/bin/env bash
# A full disk and a read-only data directory, on a small tmpfs: these need
# root (CI runs as root), so they live here and not in `cargo test`.
#   .ci/disk-check.sh path/to/flowmeter
# Each check fails loudly: a clear error naming the file, a hint, a non-zero
# exit, a store byte-for-byte as it was, and no temporary file left behind.
set -euo pipefail
bin=$(realpath "${1:?usage: .ci/disk-check.sh FLOWMETER_BINARY}")
work=$(mktemp -d)
mnt="$work/mnt"
mkdir -p "$mnt"
mount -t tmpfs -o size=120k tmpfs "$mnt" || { echo "disk-check: cannot mount a tmpfs (root needed)" >&2; exit 1; }
trap 'umount "$mnt" 2>/dev/null || true; rm -rf "$work"' EXIT
fail() { echo "disk-check FAILED: $*" >&2; exit 1; }
export GIT_CONFIG_NOSYSTEM=1 HOME="$work"
export GIT_AUTHOR_NAME=A GIT_AUTHOR_EMAIL=a@example.com GIT_COMMITTER_NAME=A GIT_COMMITTER_EMAIL=a@example.com
export GIT_AUTHOR_DATE="@1709251200 +0000" GIT_COMMITTER_DATE="@1709251200 +0000"

# A repository that fits, and one of 6,000 commits with long messages that
# does not fit in what is left.
git init -q -b main "$work/small"
git -C "$work/small" commit -q --allow-empty -m one
git init -q -b main "$work/big"
python3 - <<'PY' | git -C "$work/big" fast-import --quiet
import hashlib
for i in range(1, 6001):
    msg = f"change {i} " + hashlib.sha256(str(i).encode()).hexdigest() * 8
    body = f"{i}\n"
    print("commit refs/heads/main"); print(f"mark :{i}")
    print(f"author A <a@example.com> {1700000000 + i * 600} +0000")
    print(f"committer A <a@example.com> {1700000000 + i * 600} +0000")
    print(f"data {len(msg)}"); print(msg)
    if i > 1: print(f"from :{i - 1}")
    print(f"M 644 inline f{i % 97}"); print(f"data {len(body)}"); print(body, end="")
PY

store="$mnt/store"
"$bin" -q --data "$store" ingest git "$work/small"
snapshot() { (cd "$mnt" && find . -type f -print0 | sort -z | xargs -0 md5sum); }
before=$(snapshot)

echo "disk-check: ingest into a full disk"
if "$bin" -q --data "$store" ingest git "$work/big" 2>"$work/err"; then
    fail "ingest into a full disk succeeded"
fi
cat "$work/err"
grep -q "No space left on device" "$work/err" || fail "no 'No space left on device' in the error"
grep -q "$store/" "$work/err" || fail "the error does not name the file"
grep -q "hint: the disk is full" "$work/err" || fail "no hint"
[ "$(grep -c 'os error 28' "$work/err")" = 1 ] || fail "the cause is printed more than once"
[ "$(snapshot)" = "$before" ] || fail "the store changed"
if find "$mnt" -name '*.tmp-*' | grep -q .; then fail "temporary files left behind"; fi
[ "$("$bin" -q --data "$store" sql "select count(*) as n from commits" -f csv)" = $'n\n1' ] \
    || fail "the store no longer answers"

echo "disk-check: a read-only data directory"
# The query above brought the analysis up to date; this is the store now.
before=$(snapshot)
mount -o remount,ro "$mnt"
for cmd in "ingest git $work/big" "analyze"; do
    # shellcheck disable=SC2086
    if "$bin" -q --data "$store" $cmd 2>"$work/err"; then fail "$cmd on a read-only store succeeded"; fi
    cat "$work/err"
    grep -q "Read-only file system" "$work/err" || fail "$cmd: no 'Read-only file system'"
    grep -q "hint: the data directory is on a read-only file system" "$work/err" || fail "$cmd: no hint"
done
[ "$(snapshot)" = "$before" ] || fail "the read-only store changed"
[ "$("$bin" -q --data "$store" sql "select count(*) as n from commits" -f csv)" = $'n\n1' ] \
    || fail "a read-only store does not answer queries"
echo "disk-check: ok"
