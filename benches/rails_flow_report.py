#!/usr/bin/env python3
"""analyze, flow after analyze, and report monthly, for two builds, with
`git log` over the same commits as the baseline in the same run.

    benches/rails_flow_report.py BEFORE_BIN AFTER_BIN REPO RUNS

The directory of this script must hold `store/` (REPO ingested with
`ingest git REPO --name rails/rails`) and `flowmeter.toml` (main, then
production from `v*` tags); copy the script next to them. Each run copies
the store afresh for each build, so every `analyze` starts from the same
base tables. Medians over RUNS."""
import os, shutil, statistics, subprocess, sys, time
before, after, repo, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
here = os.path.dirname(os.path.abspath(__file__))
cfg = os.path.join(here, "flowmeter.toml")
base = os.path.join(here, "store")

def t(cmd):
    s = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - s

res = {}
def add(k, v): res.setdefault(k, []).append(v)
for i in range(runs):
    add("git log main (baseline)", t(["git", "-C", repo, "log", "--format=%H %P %an %ae %at %ct %s", "main"]))
    for name, b in (("before", before), ("after", after)):
        d = os.path.join(here, f"store-{name}")
        shutil.rmtree(d, ignore_errors=True)
        shutil.copytree(base, d)
        g = [b, "--data", d, "--config", cfg, "-q"]
        add(f"{name}: analyze", t(g + ["analyze"]))
        add(f"{name}: flow (after analyze)", t(g + ["flow", "--format", "json"]))
        out = os.path.join(here, f"report-{name}")
        shutil.rmtree(out, ignore_errors=True)
        add(f"{name}: report monthly", t(g + ["report", "monthly", "--month", "2026-07", "--out", out]))
w = max(len(k) for k in res)
for k, v in res.items():
    print(f"{k:<{w}}  median {statistics.median(v):7.3f} s  min {min(v):7.3f}  max {max(v):7.3f}  (n={len(v)})")
