#!/usr/bin/env python3
"""Runs the organisation roll-up (rollup.sql) on DuckDB or Spark over a store.

    analysis/sql/rollup.py STORE [--engine duckdb|spark] [--env NAME ...]
    analysis/sql/rollup.py STORE --check FLOWMETER [--engine ...] [--config FILE]

The first form prints one JSON object a month. The second runs
`FLOWMETER metrics --by month --format json` on the same store and fails,
naming each difference, unless every month and every number agree: counts
exactly, rates and medians to 1e-9. With --check the production environments
are the ones flowmeter reports, so both sides measure the same thing.
`--self-test` also checks that a changed number is caught.

The store is read as flowmeter reads it: per table directory, the newest
snapshot file and the deltas written after it (docs/store.md). Spark runs in
local mode (`pip install pyspark`, Java 17); DuckDB from `pip install duckdb`.
"""

import argparse
import json
import math
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SQL = (HERE / "rollup.sql").read_text()
TABLES = ["deployment_stats", "changes"]
COUNTS = ["deployments", "deploy_days", "failed", "rework"]
FLOATS = ["change_fail_rate", "recovery_median_h", "rework_rate", "lead_time_median_h"]
PART = re.compile(r"^part-(\d+)(-delta)?\.parquet$")


def live_files(table_dir: Path) -> list:
    """The newest snapshot and the later deltas of each partition under it."""
    out = []
    dirs = {p.parent for p in table_dir.rglob("part-*.parquet")}
    for d in sorted(dirs):
        parts = []
        for p in d.iterdir():
            m = PART.match(p.name)
            if m:
                parts.append((int(m.group(1)), m.group(2) is not None, p))
        snapshots = [seq for seq, delta, _ in parts if not delta]
        base = max(snapshots) if snapshots else 0
        out += [str(p) for seq, delta, p in sorted(parts) if seq >= base and (seq == base or delta)]
    if not out:
        sys.exit(f"{table_dir}: no Parquet files; run `flowmeter analyze` first")
    return out


def run_duckdb(store: Path, envs: list, sql: str = SQL) -> list:
    import duckdb

    con = duckdb.connect()
    for t in TABLES:
        files = ", ".join("'" + f.replace("'", "''") + "'" for f in live_files(store / t))
        con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet([{files}])")
    con.execute("CREATE TABLE production_environments (environment VARCHAR)")
    con.executemany("INSERT INTO production_environments VALUES (?)", [[e] for e in envs])
    cur = con.execute(sql)
    names = [c[0] for c in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def run_spark(store: Path, envs: list, sql: str = SQL) -> list:
    import os

    # Local mode on the loopback interface only, and no UI server.
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[2]")
        .appName("flowmeter-rollup")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    try:
        for t in TABLES:
            spark.read.parquet(*live_files(store / t)).createOrReplaceTempView(t)
        spark.createDataFrame([(e,) for e in envs], "environment string").createOrReplaceTempView(
            "production_environments"
        )
        return [r.asDict() for r in spark.sql(sql).collect()]
    finally:
        spark.stop()


def month(key: int) -> str:
    return f"{key // 100:04d}-{key % 100:02d}"


def normalise(rows: list) -> dict:
    out = {}
    for r in rows:
        row = {k: (int(r[k]) if r[k] is not None else None) for k in COUNTS}
        row.update({k: (float(r[k]) if r[k] is not None else None) for k in FLOATS})
        out[month(int(r["month_key"]))] = row
    return out


def flowmeter_months(flowmeter: str, store: Path, config) -> tuple:
    cmd = [flowmeter, "--data", str(store)]
    if config:
        cmd += ["--config", str(config)]
    cmd += ["metrics", "--by", "month", "--format", "json"]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{out.stderr}")
    doc = json.loads(out.stdout)
    months = {}
    for p in doc["periods"]:
        if p["period"] == "all" or p["deployments"] == 0:
            continue
        months[p["period"]] = {k: p[k] for k in COUNTS + FLOATS}
    return doc["summary"]["environments"], months


def differences(ours: dict, theirs: dict, engine: str) -> list:
    problems = []
    for m in sorted(set(ours) | set(theirs)):
        if m not in ours:
            problems.append(f"{m}: flowmeter has it, {engine} does not")
            continue
        if m not in theirs:
            problems.append(f"{m}: {engine} has it, flowmeter does not")
            continue
        for k in COUNTS + FLOATS:
            a, b = ours[m][k], theirs[m][k]
            same = a == b if (a is None or b is None or k in COUNTS) else math.isclose(a, b, rel_tol=0, abs_tol=1e-9)
            if not same:
                problems.append(f"{m} {k}: {engine} {a!r}, flowmeter {b!r}")
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("store", type=Path)
    ap.add_argument("--engine", choices=["duckdb", "spark"], default="duckdb")
    ap.add_argument("--env", action="append", help="a production environment (default: production)")
    ap.add_argument("--check", metavar="FLOWMETER", help="compare with this flowmeter binary's metrics")
    ap.add_argument("--config", type=Path, help="flowmeter.toml for --check")
    ap.add_argument("--self-test", action="store_true", help="with --check: a changed number must be caught")
    a = ap.parse_args()
    a.store = a.store.resolve()
    run = run_duckdb if a.engine == "duckdb" else run_spark
    if not a.check:
        for m, row in normalise(run(a.store, a.env or ["production"])).items():
            print(json.dumps({"month": m, **row}))
        return 0
    envs, theirs = flowmeter_months(a.check, a.store, a.config)
    ours = normalise(run(a.store, envs))
    problems = differences(ours, theirs, a.engine)
    if a.self_test and not problems:
        # A changed count and a lead time off by a millionth of an hour are
        # both caught...
        m = sorted(ours)[len(ours) // 2]
        bent = {k: dict(v) for k, v in ours.items()}
        bent[m]["lead_time_median_h"] = (bent[m]["lead_time_median_h"] or 0) + 1e-6
        bent[m]["deployments"] += 1
        if len(differences(bent, theirs, a.engine)) != 2:
            problems.append("self-test: a changed lead time and count were not both caught")
        # ...and so is another median: the lower middle value instead of the
        # interpolated one differs from flowmeter somewhere on this store.
        lower = SQL.replace("percentile_cont(", "percentile_disc(")
        if not differences(normalise(run(a.store, envs, lower)), theirs, a.engine):
            problems.append("self-test: percentile_disc agrees too; the store cannot tell the medians apart")
    if problems:
        print(f"rollup on {a.engine}: {len(problems)} differences from flowmeter metrics", file=sys.stderr)
        for p in problems:
            print("  " + p, file=sys.stderr)
        return 1
    n = len(ours) * len(COUNTS + FLOATS)
    print(f"rollup on {a.engine}: {len(ours)} months, {n} numbers, all equal to flowmeter metrics ({', '.join(envs)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
