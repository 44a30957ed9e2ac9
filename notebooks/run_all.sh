#!/usr/bin/env bash
# Executes every notebook headless with nbclient against a flowmeter store and
# fails on the first failing cell.
#
#   notebooks/run_all.sh DATA_DIR [OUT_DIR]
#
# DATA_DIR is the store (e.g. flowmeter-demo/store). The executed notebooks,
# outputs included, go to OUT_DIR (default: a temporary directory), so the
# committed notebooks stay output-free. Run it with the Python of a venv that
# has notebooks/requirements.txt installed, or set PYTHON.
set -euo pipefail
if [ $# -lt 1 ]; then
    echo "usage: $0 DATA_DIR [OUT_DIR]" >&2
    exit 2
fi
here="$(cd "$(dirname "$0")" && pwd)"
data="$(cd "$1" && pwd)"
out="${2:-$(mktemp -d)}"
mkdir -p "$out"
py="${PYTHON:-python3}"
export FLOWMETER_DATA="$data"
"$py" - "$here" "$out" <<'PY'
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
