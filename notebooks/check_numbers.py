#!/usr/bin/env python3
"""Checks that every number the executed notebooks print equals the CLI's.

    notebooks/check_numbers.py OUT_DIR STORE

OUT_DIR holds the executed notebooks (run_all.sh writes them there). Every
`FIGURE name=value` line in their outputs is collected. Independently of the
notebooks and of fmnb.py, this script runs the CLI (`metrics`, `risk`,
`whatif`, `compare`, `sql` with `--format json`) and builds the value every
figure must have, formatted the way the notebooks print it (ints as they are,
floats with 6 significant digits, null for a missing value). It fails, listing
each problem, when

* a notebook is missing, or a cell raised an error;
* a printed figure differs from the CLI's value, or one name has two values;
* a printed figure is not one this script knows how to check;
* an expected figure was not printed, or fewer than MIN_FIGURES were found
  (so it cannot pass vacuously).

The binary is $FLOWMETER_BIN, else `flowmeter` on PATH, else the repository's
target/debug/flowmeter, else $CARGO_TARGET_DIR/debug/flowmeter. The config is
$FLOWMETER_CONFIG, else the flowmeter.toml next to STORE. The compare ranges
are $FLOWMETER_COMPARE_BEFORE / $FLOWMETER_COMPARE_AFTER, with the demo's
defaults, as in the notebooks.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

NOTEBOOKS = ["01_explore_tables.ipynb", "02_lead_time_deep_dive.ipynb", "03_batch_size_and_risk.ipynb"]
MIN_FIGURES = 100
FIGURE = re.compile(r"^FIGURE ([^=\s]+)=(\S*)$")
REPO_ROOT = Path(__file__).resolve().parent.parent


def fmt(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format(value, ".6g")
    return str(value)


def find_bin() -> str:
    if os.environ.get("FLOWMETER_BIN"):
        return os.environ["FLOWMETER_BIN"]
    if shutil.which("flowmeter"):
        return shutil.which("flowmeter")
    candidates = [REPO_ROOT / "target" / "debug" / "flowmeter"]
    if os.environ.get("CARGO_TARGET_DIR"):
        candidates.append(Path(os.environ["CARGO_TARGET_DIR"]) / "debug" / "flowmeter")
    for c in candidates:
        if c.is_file() and os.access(c, os.X_OK):
            return str(c)
    sys.exit("check_numbers: no flowmeter binary (set FLOWMETER_BIN)")


class Cli:
    def __init__(self, store: Path):
        self.base = [find_bin(), "--data", str(store), "--quiet"]
        cfg = os.environ.get("FLOWMETER_CONFIG") or (
            str(store.parent / "flowmeter.toml") if (store.parent / "flowmeter.toml").is_file() else None)
        if cfg:
            self.base += ["--config", cfg]

    def json(self, *args: str):
        cmd = self.base + list(args) + ["--format", "json"]
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(f"check_numbers: `{' '.join(cmd)}` failed:\n{p.stderr}")
        return json.loads(p.stdout)


def period(metrics: dict, name: str = "all") -> dict:
    return next(p for p in metrics["periods"] if p["period"] == name)


def expected(cli: Cli) -> dict[str, str]:
    """Every figure the notebooks print, by name, from the CLI."""
    exp: dict[str, object] = {}
    before = os.environ.get("FLOWMETER_COMPARE_BEFORE", "2025-01-01..2025-06-30")
    after = os.environ.get("FLOWMETER_COMPARE_AFTER", "2025-07-01..2025-12-31")

    # 01: headline metrics over the whole history, and every table's rows.
    metrics = cli.json("metrics")
    overall = period(metrics)
    for key in ["deployments", "failed", "changes", "lead_time_median_h", "lead_time_p75_h",
                "lead_time_p90_h", "change_fail_rate", "recovery_median_h",
                "deploy_days_per_week", "rework_rate", "clock_skew"]:
        exp[key] = overall[key]
    tables = []
    for r in cli.json("sql", "--schema"):
        if r["table"] not in tables:
            tables.append(r["table"])
    for t in tables:
        exp[f"rows.{t}"] = cli.json("sql", f"select count(*) as n from {t}")[0]["n"]

    # 02: lead time per month, per repository, and before/after.
    for p in metrics["periods"]:
        if p["period"] != "all":
            for key in ["changes", "lead_time_median_h", "lead_time_p90_h"]:
                exp[f"month.{p['period']}.{key}"] = p[key]
    b_since, b_until = before.split("..")
    a_since, a_until = after.split("..")
    for r in cli.json("sql", "select repo from repos"):
        repo = r["repo"]
        exp[f"repo.{repo}.lead_time_median_h"] = period(cli.json("metrics", "--repo", repo))["lead_time_median_h"]
        exp[f"repo.{repo}.before.lead_time_median_h"] = period(
            cli.json("metrics", "--repo", repo, "--since", b_since, "--until", b_until))["lead_time_median_h"]
        exp[f"repo.{repo}.after.lead_time_median_h"] = period(
            cli.json("metrics", "--repo", repo, "--since", a_since, "--until", a_until))["lead_time_median_h"]
    compare = cli.json("compare", "--before", before, "--after", after)
    for r in compare["rows"]:
        m = r["metric"]
        for key in ["n_before", "n_after", "before", "after"]:
            exp[f"compare.{m}.{key}"] = r[key]
        exp[f"compare.{m}.difference"] = r["difference"]["estimate"]
        exp[f"compare.{m}.difference_lo"] = r["difference"]["lo"]
        exp[f"compare.{m}.difference_hi"] = r["difference"]["hi"]
        exp[f"compare.{m}.p_value"] = r["mann_whitney"]["p_value"] if r["mann_whitney"] else None

    # 03: risk buckets and fits, whatif rows.
    risk = cli.json("risk")
    for key in ["deployments", "failures", "empty_deployments"]:
        exp[f"risk.{key}"] = risk[key]
    for b in risk["buckets"]:
        for key in ["deployments", "failures", "failure_rate", "ci_lo", "ci_hi", "median_recovery_h"]:
            exp[f"risk.bucket.{b['measure']}.{b['bucket']}.{key}"] = b[key]
    for f in risk["fits"]:
        for key in ["deployments", "failures", "odds_ratio_per_doubling", "ci_lo", "ci_hi", "p_value"]:
            exp[f"risk.fit.{f['measure']}.{key}"] = f[key]
    for r in cli.json("whatif")["rows"]:
        p = r["policy"]
        for key in ["deployments", "deployments_per_month", "changes", "lead_time_median_h",
                    "lead_time_p90_h", "batch_median", "batch_p90", "batch_max", "observed_failures"]:
            exp[f"whatif.{p}.{key}"] = r[key]
        for key in ["value", "lo", "hi"]:
            exp[f"whatif.{p}.predicted_failures.{key}"] = r["predicted_failures"][key]
    return {k: fmt(v) for k, v in exp.items()}


# The headline figures named in the issue: each must be among the expected ones.
REQUIRED = [
    "deployments", "lead_time_median_h", "change_fail_rate", "recovery_median_h",
    "risk.fit.commits.odds_ratio_per_doubling", "risk.fit.commits.ci_lo", "risk.fit.commits.ci_hi",
    "whatif.current.deployments", "whatif.current.lead_time_median_h",
    "whatif.current.predicted_failures.value", "whatif.current.observed_failures",
    "compare.lead_time.before", "compare.lead_time.after",
]


def printed(out_dir: Path, problems: list[str]) -> dict[str, tuple[str, str]]:
    """FIGURE name -> (value, notebook), from the stream outputs of every notebook."""
    found: dict[str, tuple[str, str]] = {}
    for name in NOTEBOOKS:
        path = out_dir / name
        if not path.is_file():
            problems.append(f"{path}: missing (did run_all.sh execute it?)")
            continue
        nb = json.loads(path.read_text())
        for i, cell in enumerate(nb["cells"]):
            for o in cell.get("outputs", []):
                if o.get("output_type") == "error":
                    problems.append(f"{name} cell {i}: raised {o.get('ename')}: {o.get('evalue')}")
                if o.get("output_type") != "stream" or o.get("name") != "stdout":
                    continue
                text = o["text"] if isinstance(o["text"], str) else "".join(o["text"])
                for line in text.splitlines():
                    if not line.startswith("FIGURE"):
                        continue
                    m = FIGURE.match(line)
                    if not m:
                        problems.append(f"{name}: malformed figure line {line!r}")
                        continue
                    key, value = m.groups()
                    if key in found and found[key][0] != value:
                        problems.append(f"{key}: printed as {found[key][0]} in {found[key][1]} and as {value} in {name}")
                    found.setdefault(key, (value, name))
    return found


def main() -> int:
    if len(sys.argv) != 3:
        print(f"usage: {sys.argv[0]} OUT_DIR STORE", file=sys.stderr)
        return 2
    out_dir, store = Path(sys.argv[1]), Path(sys.argv[2]).resolve()
    problems: list[str] = []
    found = printed(out_dir, problems)
    exp = expected(Cli(store))
    for key in REQUIRED:
        if key not in exp:
            problems.append(f"{key}: a required figure the CLI output no longer has")
    for key, (value, nb) in sorted(found.items()):
        if key not in exp:
            problems.append(f"{key}={value} ({nb}): not a figure this check knows; add it to expected()")
        elif value != exp[key]:
            problems.append(f"{key}: notebook {nb} printed {value}, the CLI says {exp[key]}")
    for key in sorted(set(exp) - set(found)):
        problems.append(f"{key}: expected (CLI {exp[key]}) but no notebook printed it")
    if len(found) < MIN_FIGURES:
        problems.append(f"only {len(found)} FIGURE lines found, fewer than the {MIN_FIGURES} expected")
    if problems:
        print(f"check_numbers: {len(problems)} problem(s):", file=sys.stderr)
        for p in problems:
            print("  " + p, file=sys.stderr)
        return 1
    matched = sum(1 for k in found if k in exp)
    print(f"check_numbers: all {matched} figures in {len(NOTEBOOKS)} notebooks equal the CLI's")
    return 0


if __name__ == "__main__":
    sys.exit(main())
