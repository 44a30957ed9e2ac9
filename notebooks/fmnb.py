"""Helpers shared by the flowmeter notebooks: find the store, read its tables,
and walk git history from the `commits` and `refs` tables.

The store is a directory of Parquet files (see the README's "Where the data
lives"). Base tables are partitioned hive-style, `commits/repo=<name>/part-*.parquet`,
so the `repo` column lives in the directory name; derived tables such as
`deployment_stats/part-*.parquet` are not partitioned. A partition's live rows
are its newest snapshot plus the `-delta` files written after it.
"""

import math
import os
from pathlib import Path

import polars as pl


def data_dir() -> Path:
    """The store: $FLOWMETER_DATA, else the demo's store, else ./.flowmeter."""
    env = os.environ.get("FLOWMETER_DATA")
    candidates = [Path(env)] if env else [
        Path("../flowmeter-demo/store"),
        Path("flowmeter-demo/store"),
        Path(".flowmeter"),
    ]
    for c in candidates:
        if (c / "flowmeter.json").exists():
            return c.resolve()
    raise FileNotFoundError(
        f"no flowmeter store at {', '.join(map(str, candidates))}: "
        "run `flowmeter demo` or set FLOWMETER_DATA=/path/to/store"
    )


def _live(part_dir: Path) -> list[Path]:
    """The files whose rows are live: the newest snapshot and the deltas after it."""
    parts = []
    for p in part_dir.glob("part-*.parquet"):
        stem = p.name[len("part-"):-len(".parquet")]
        delta = stem.endswith("-delta")
        try:
            num = int(stem[: -len("-delta")] if delta else stem)
        except ValueError:
            continue
        parts.append((num, delta, p))
    base = max((n for n, d, _ in parts if not d), default=0)
    return [p for n, _, p in sorted(parts) if n >= base]


def table(data: Path, name: str) -> pl.LazyFrame | None:
    """A table as a LazyFrame, or None when it has no files yet."""
    root = data / name
    if not root.is_dir():
        return None
    partitions = sorted(d for d in root.glob("repo=*") if d.is_dir())
    if partitions:
        files = [str(f) for d in partitions for f in _live(d)]
        return pl.scan_parquet(files, hive_partitioning=True) if files else None
    files = [str(f) for f in _live(root)]
    return pl.scan_parquet(files) if files else None


def table_or_empty_note(data: Path, name: str, what_appears: str) -> pl.DataFrame | None:
    """Collects a table; prints what will appear when it is missing or empty."""
    lf = table(data, name)
    df = lf.collect() if lf is not None else None
    if df is None or df.height == 0:
        print(f"`{name}` is empty in {data}. {what_appears}")
        return None
    return df


def branch_deployments(commits: pl.DataFrame, repo: str, tip: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Deployment by branch, computed here from the base tables as a cross-check:
    each first-parent commit on the branch is a deployment at its committer
    time, and it ships the ancestors that no earlier deployment shipped. The
    first deployment's commits are baseline (history before observation).

    Returns (deploys, shipped): one row per deployment with its batch, and one
    row per shipped non-merge commit with its lead time."""
    c = commits.filter(pl.col("repo") == repo)
    parents = dict(zip(c["sha"].to_list(), c["parents"].to_list()))
    info = {
        r["sha"]: r
        for r in c.select("sha", "authored_at", "committed_at", "is_merge", "additions", "deletions").iter_rows(named=True)
    }
    chain, s = [], tip
    while s is not None:
        chain.append(s)
        ps = parents.get(s) or []
        s = ps[0] if ps else None
    chain.reverse()
    seen: set[str] = set()
    deploys, shipped = [], []
    for i, d in enumerate(chain):
        at = info[d]["committed_at"]
        stack, batch, lines = [d], 0, 0
        while stack:
            x = stack.pop()
            if x in seen or x not in info:
                continue
            seen.add(x)
            stack.extend(parents.get(x) or [])
            if not info[x]["is_merge"]:
                batch += 1
                lines += (info[x]["additions"] or 0) + (info[x]["deletions"] or 0)
                shipped.append({
                    "repo": repo, "deploy_sha": d, "sha": x, "deployed_at": at,
                    "authored_at": info[x]["authored_at"], "is_baseline": i == 0,
                })
        deploys.append({
            "repo": repo, "sha": d, "deployed_at": at, "is_merge": info[d]["is_merge"],
            "batch_commits": batch, "batch_lines": lines, "is_baseline": i == 0,
        })
    deploys = pl.DataFrame(deploys)
    shipped = pl.DataFrame(shipped).with_columns(
        lead_time_h=(pl.col("deployed_at") - pl.col("authored_at")).dt.total_seconds() / 3600
    )
    return deploys, shipped


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for k successes in n trials."""
    if n == 0:
        return (float("nan"), float("nan"))
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (centre - half, centre + half)


def logistic_fit(x: list[float], y: list[int], iters: int = 50) -> tuple[float, float, float]:
    """Maximum-likelihood logistic regression y ~ a + b·x by Newton's method.
    Returns (a, b, standard error of b)."""
    import numpy as np

    X = np.column_stack([np.ones(len(x)), np.asarray(x, dtype=float)])
    Y = np.asarray(y, dtype=float)
    beta = np.zeros(2)
    for _ in range(iters):
        p = 1 / (1 + np.exp(-X @ beta))
        W = p * (1 - p)
        H = X.T @ (X * W[:, None])
        g = X.T @ (Y - p)
        step = np.linalg.solve(H, g)
        beta += step
        if np.max(np.abs(step)) < 1e-10:
            break
    p = 1 / (1 + np.exp(-X @ beta))
    H = X.T @ (X * (p * (1 - p))[:, None])
    se = float(np.sqrt(np.linalg.inv(H)[1, 1]))
    return float(beta[0]), float(beta[1]), se
