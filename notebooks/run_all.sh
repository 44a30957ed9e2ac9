#!/usr/bin/env bash
# Executes every notebook headless with nbclient against a flowmeter store, then
# checks that every FIGURE line they print equals the CLI's (check_numbers.py).
#
#   notebooks/run_all.sh DATA_DIR [OUT_DIR]
#
# DATA_DIR is the store (e.g. flowmeter-demo/store). The executed notebooks,
# outputs included, go to OUT_DIR (default: a temporary directory), so the
# committed notebooks stay output-free. Run it with the Python of a venv that
# has notebooks/requirements.txt installed, or set PYTHON.
#
# The notebooks and the check run the flowmeter binary: FLOWMETER_BIN, else
# `flowmeter` on PATH, else target/debug/flowmeter, else
# $CARGO_TARGET_DIR/debug/flowmeter. It is resolved once here and exported, so
# both use the same one. The config is FLOWMETER_CONFIG, else the
# flowmeter.toml next to the store (where `flowmeter demo` writes it).
set -euo pipefail
if [ $# -lt 1 ]; then
    echo "usage: $0 DATA_DIR [OUT_DIR]" >&2
    exit 2
fi
here="$(cd "$(dirname "$0")" && pwd)"
data="$(cd "$1" && pwd)"
out="${2:-$(mktemp -d)}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
py="${PYTHON:-python3}"
if [ -z "${FLOWMETER_BIN:-}" ]; then
    for c in "$(command -v flowmeter || true)" "$here/../target/debug/flowmeter" \
             "${CARGO_TARGET_DIR:+$CARGO_TARGET_DIR/debug/flowmeter}"; do
        if [ -n "$c" ] && [ -x "$c" ]; then FLOWMETER_BIN="$c"; break; fi
    done
fi
if [ -z "${FLOWMETER_BIN:-}" ] || [ ! -x "$FLOWMETER_BIN" ]; then
    echo "$0: no flowmeter binary: set FLOWMETER_BIN, put flowmeter on PATH, or cargo build" >&2
    exit 2
fi
export FLOWMETER_BIN="$(cd "$(dirname "$FLOWMETER_BIN")" && pwd)/$(basename "$FLOWMETER_BIN")"
export FLOWMETER_DATA="$data"
if [ -z "${FLOWMETER_CONFIG:-}" ] && [ -f "$data/../flowmeter.toml" ]; then
    export FLOWMETER_CONFIG="$(cd "$data/.." && pwd)/flowmeter.toml"
fi
echo "binary: $FLOWMETER_BIN"
echo "store:  $FLOWMETER_DATA"
echo "config: ${FLOWMETER_CONFIG:-none, the CLI default}"
status=0
"$py" - "$here" "$out" <<'PY' || status=1
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

here, out = Path(sys.argv[1]), Path(sys.argv[2])
failed = False
for path in sorted(here.glob("[0-9][0-9]_*.ipynb")):
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(here)}})
    try:
        client.execute()
        print(f"ok      {path.name}")
    except CellExecutionError as e:
        failed = True
        print(f"FAILED  {path.name}\n{e}", file=sys.stderr)
    nbformat.write(nb, out / path.name)
print(f"executed notebooks in {out}")
sys.exit(1 if failed else 0)
PY
"$py" "$here/check_numbers.py" "$out" "$data" || status=1
exit $status
