"""A thin reader for the flowmeter notebooks. It holds no metric logic.

Every number the notebooks show comes from the `flowmeter` CLI: tables through
`flowmeter sql ... --format parquet` (so the store's live-file rule, snapshots
and deltas, stays in Rust), and the results of `metrics`, `risk`, `whatif`,
`compare` and `flow` through `--format json`. Headline numbers are printed as
`FIGURE name=value` lines, which `check_numbers.py` compares with the CLI.

Where things are found:

* the binary: $FLOWMETER_BIN, else `flowmeter` on PATH, else the repository's
  `target/debug/flowmeter`, else `$CARGO_TARGET_DIR/debug/flowmeter`;
* the store: $FLOWMETER_DATA, else the demo's store (`../flowmeter-demo/store`
  or `flowmeter-demo/store`), else `./.flowmeter`;
* the config: $FLOWMETER_CONFIG, else the `flowmeter.toml` next to the store
  (where `flowmeter demo` writes it), else the CLI's default. The config must
  be the one the store was analysed with, or the CLI redoes the analysis.
"""

import atexit
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import polars as pl

REPO_ROOT = Path(__file__).resolve().parent.parent


def flowmeter_bin() -> str:
    """The flowmeter binary (see the module docstring for the search order)."""
    env = os.environ.get("FLOWMETER_BIN")
    if env:
        if not (Path(env).is_file() and os.access(env, os.X_OK)):
            raise FileNotFoundError(f"FLOWMETER_BIN={env} is not an executable file")
        return env
    on_path = shutil.which("flowmeter")
    if on_path:
        return on_path
    tried = ["$FLOWMETER_BIN (unset)", "flowmeter on PATH (none)"]
    candidates = [REPO_ROOT / "target" / "debug" / "flowmeter"]
    if os.environ.get("CARGO_TARGET_DIR"):
        candidates.append(Path(os.environ["CARGO_TARGET_DIR"]) / "debug" / "flowmeter")
    for c in candidates:
        if c.is_file() and os.access(c, os.X_OK):
            return str(c)
        tried.append(str(c))
    raise FileNotFoundError(
        "no flowmeter binary found; tried " + ", ".join(tried)
        + ". Run `cargo build` in the repository, or set FLOWMETER_BIN=/path/to/flowmeter"
    )


def data_dir() -> Path:
    """The store: $FLOWMETER_DATA, else the demo's store, else ./.flowmeter."""
    env = os.environ.get("FLOWMETER_DATA")
    # A relative $FLOWMETER_DATA is taken from the working directory, else from
    # the repository root (a kernel started by `jupyter lab notebooks/` runs in notebooks/).
    candidates = list(dict.fromkeys([Path(env), REPO_ROOT / env])) if env else [
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


def config_file(data: Path | None = None) -> Path | None:
    """The config: $FLOWMETER_CONFIG, else flowmeter.toml next to the store, else None."""
    env = os.environ.get("FLOWMETER_CONFIG")
    if env:
        if not Path(env).is_file():
            raise FileNotFoundError(f"FLOWMETER_CONFIG={env} does not exist")
        return Path(env).resolve()
    sibling = (data or data_dir()).parent / "flowmeter.toml"
    return sibling.resolve() if sibling.is_file() else None


def _run(*args: str) -> str:
    data = data_dir()
    cmd = [flowmeter_bin(), "--data", str(data), "--quiet"]
    cfg = config_file(data)
    if cfg is not None:
        cmd += ["--config", str(cfg)]
    cmd += list(args)
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"`{' '.join(cmd)}` failed ({p.returncode}):\n{p.stderr.strip()}")
    return p.stdout


def cli_json(*args: str):
    """`flowmeter --data STORE [--config CFG] ARGS --format json`, parsed."""
    return json.loads(_run(*args, "--format", "json"))


_cache: Path | None = None
_tables: dict[str, Path] = {}


def _cache_dir() -> Path:
    global _cache
    if _cache is None:
        _cache = Path(tempfile.mkdtemp(prefix="fmnb-"))
        atexit.register(shutil.rmtree, _cache, True)
    return _cache


def table(name: str) -> pl.LazyFrame:
    """A table as a LazyFrame: `flowmeter sql "select * from NAME"` written as
    Parquet into a cache directory, then scanned. Fetched once per kernel."""
    if name not in _tables:
        out = _cache_dir() / f"{name}.parquet"
        _run("sql", f"select * from {name}", "--format", "parquet", "--output", str(out))
        _tables[name] = out
    return pl.scan_parquet(_tables[name])


def query(sql: str) -> pl.DataFrame:
    """The result of `flowmeter sql QUERY` (polars SQL, run by the CLI), collected."""
    out = _cache_dir() / f"query-{len(list(_cache_dir().iterdir()))}.parquet"
    _run("sql", sql, "--format", "parquet", "--output", str(out))
    return pl.read_parquet(out)


def derived(name: str) -> pl.DataFrame:
    """A derived table, collected; a clear error when `flowmeter analyze` has not filled it."""
    df = table(name).collect()
    if df.height == 0:
        raise RuntimeError(
            f"the derived table `{name}` is empty in {data_dir()}: "
            f"run `flowmeter --data {data_dir()} analyze` (with the store's config)"
        )
    return df


def fmt_figure(value) -> str:
    """How a FIGURE value is printed; check_numbers.py formats the CLI's value the same way."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format(value, ".6g")
    return str(value)


def figure(name: str, value) -> None:
    """Prints one machine-checkable headline number: `FIGURE name=value`."""
    print(f"FIGURE {name}={fmt_figure(value)}")


def period(metrics: dict, name: str = "all") -> dict:
    """One period of `flowmeter metrics --format json` (`all` is the whole range)."""
    for p in metrics["periods"]:
        if p["period"] == name:
            return p
    raise KeyError(f"no period {name!r} in the metrics output")


# The demo's switch from two-week trains to daily deployments, and the compare
# ranges around it. Override for your own data.
SWITCH = os.environ.get("FLOWMETER_SWITCH", "2025-07-01")
COMPARE_BEFORE = os.environ.get("FLOWMETER_COMPARE_BEFORE", "2025-01-01..2025-06-30")
COMPARE_AFTER = os.environ.get("FLOWMETER_COMPARE_AFTER", "2025-07-01..2025-12-31")
