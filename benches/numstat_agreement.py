#!/usr/bin/env python3
"""Per-commit agreement of flowmeter's diff stats with `git log --numstat`.

    benches/numstat_agreement.py REPO DATA_DIR REPO_NAME [FLOWMETER_BIN]

Ingest first (`flowmeter --data DATA_DIR ingest git REPO --name REPO_NAME`).
Prints the share of commits whose (files, additions, deletions) equal git's,
and the differing commits with both sides.
"""
import csv
import io
import subprocess
import sys

repo, data, name = sys.argv[1:4]
binary = sys.argv[4] if len(sys.argv) > 4 else "target/release/flowmeter"

log = subprocess.run(
    ["git", "-C", repo, "log", "--branches", "--tags", "--numstat",
     "--diff-merges=first-parent", "--format=%H"],
    check=True, capture_output=True).stdout.decode("utf-8", "replace")
git = {}
cur = None
for line in log.splitlines():
    if len(line) == 40 and all(c in "0123456789abcdef" for c in line):
        cur = line
        git[cur] = [0, 0, 0]
    elif cur and "\t" in line:
        a, d, _ = line.split("\t", 2)
        e = git[cur]
        e[0] += 1
        e[1] += int(a) if a != "-" else 0
        e[2] += int(d) if d != "-" else 0

out = subprocess.run(
    [binary, "--data", data, "sql",
     f"select sha, files_changed, additions, deletions, stats_complete from commits where repo = '{name}'",
     "--format", "csv"], check=True, capture_output=True).stdout.decode()
mine = {r["sha"]: [int(r["files_changed"] or 0), int(r["additions"] or 0), int(r["deletions"] or 0)]
        for r in csv.DictReader(io.StringIO(out))}

missing = set(git) - set(mine)
extra = set(mine) - set(git)
diff = [s for s in git if s in mine and git[s] != mine[s]]
n = len(git)
print(f"commits: git {n}, flowmeter {len(mine)}, missing {len(missing)}, extra {len(extra)}")
print(f"equal (files, additions, deletions): {n - len(diff) - len(missing)}/{n} = "
      f"{100 * (n - len(diff) - len(missing)) / n:.3f}%")
for field, i in (("files", 0), ("additions", 1), ("deletions", 2)):
    print(f"  {field} differ: {sum(1 for s in diff if git[s][i] != mine[s][i])}")
for s in diff[:40]:
    print(f"  {s}  git {git[s]}  flowmeter {mine[s]}")
