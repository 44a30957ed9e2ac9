#!/usr/bin/env bash
# Renders flowmeter's HTML outputs in headless Chromium and fails when a page
# logs to the console, makes any network request, or screenshots blank.
#
# Usage: .ci/browser-check.sh                  # self-test, then the fixture's reports
#        .ci/browser-check.sh FILE.html[#fragment]...
#        .ci/browser-check.sh --self-test      # proves each check can fail
#
# With no arguments it runs the self-test, builds the report test fixture
# (tests/it/report.rs, hostile commit message and PR title included) with
# cargo, writes the monthly report and the deck, and checks report.html and
# every slide of deck.html.
#
# Installs nothing: `.ci/run` does `apt-get install -y chromium`. Needs python3
# (standard library only) to read the net log and decode the PNG screenshot.
#
# Method (no DevTools protocol):
# - network: Chromium writes every request its network stack starts to a
#   --log-net-log JSON file. Any URL other than file:, data: or about: in it is
#   a failure, except Chromium's own background requests (time sync,
#   component updater, account check), recognised by their traffic-annotation
#   ids, which page loads never carry. A self-test page that loads an image
#   from 127.0.0.1 proves the detector sees page requests.
# - console: with --enable-logging=stderr --v=0 Chromium prints every console
#   message (log, warning, error, uncaught exception) as a line containing
#   ":CONSOLE". Our pages log nothing, so any such line is a failure.
# - blank: the screenshot's pixels are decoded (zlib + PNG filters) and must
#   contain at least 0.5% non-background pixels and at least 3 distinct colours.
set -euo pipefail

CHROMIUM=${CHROMIUM:-chromium}
WIDTH=${WIDTH:-1600}
HEIGHT=${HEIGHT:-1000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

render() { # url outdir
    local url=$1 out=$2
    mkdir -p "$out"
    timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu \
        --disable-background-networking --disable-component-update --disable-sync \
        --no-first-run --user-data-dir="$(mktemp -d -p "$work")" \
        --disable-extensions --disable-default-apps --no-default-browser-check \
        --enable-logging=stderr --v=0 \
        --log-net-log="$out/netlog.json" --net-log-capture-mode=Default \
        --window-size="$WIDTH,$HEIGHT" --hide-scrollbars \
        --virtual-time-budget=3000 \
        --screenshot="$out/shot.png" "$url" >"$out/stdout.txt" 2>"$out/stderr.txt" || true
}

check() { # url outdir -> prints problems, returns 1 if any
    python3 - "$1" "$2" <<'PY'
import json, re, struct, sys, zlib
url, out = sys.argv[1], sys.argv[2]
problems = []

# Console messages.
for line in open(f"{out}/stderr.txt", errors="replace"):
    if ":CONSOLE" in line:
        problems.append("console: " + line.strip())

# Network requests from the net log (the file may lack its closing brackets
# when Chromium exits; keep the URLs with a regex).
try:
    log = open(f"{out}/netlog.json", errors="replace").read()
except FileNotFoundError:
    log = ""
    problems.append("no net log written")
# Chromium's own background traffic (time sync, component updater, account
# check) survives the flags on some builds; it is recognised by its network
# traffic annotation, which a page can never use. Everything else is the page.
BACKGROUND = {46188932, 54845618, 35565745}
background = set()
for m in re.finditer(r'"traffic_annotation":(\d+),"url":"([^"]+)"', log):
    if int(m.group(1)) in BACKGROUND:
        background.add(m.group(2))
urls = set(re.findall(r'"url"\s*:\s*"([^"]+)"', log))
for u in sorted(urls):
    if not re.match(r"^(file|data|about|chrome|blob):", u) and u not in background:
        problems.append("network request: " + u)

# Screenshot non-blank.
def pixels(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", chunk[:10])
            assert depth == 8 and ctype in (2, 6), f"unexpected PNG type {depth}/{ctype}"
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + n
    raw, stride, rows, prev = zlib.decompress(idat), w * bpp, [], bytearray(w * bpp)
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + b) & 255
            elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line)); prev = line
    return w, h, bpp, rows

try:
    w, h, bpp, rows = pixels(f"{out}/shot.png")
    bg = rows[0][:3]
    colours, differ, total = set(), 0, 0
    for row in rows[::4]:
        for x in range(0, w * bpp, bpp * 4):
            px = row[x:x + 3]
            total += 1
            colours.add(px)
            differ += px != bg
    if differ < total * 0.005 or len(colours) < 3:
        problems.append(f"blank screenshot: {differ}/{total} sampled pixels differ from the background, {len(colours)} colours")
except Exception as e:  # noqa: BLE001
    problems.append(f"no usable screenshot: {e}")

for p in problems:
    print(f"  {url}: {p}")
sys.exit(1 if problems else 0)
PY
}

run_one() { # target -> 0/1
    local target=$1 file frag url out
    file=${target%%#*}
    frag=""
    [[ $target == *"#"* ]] && frag="#${target#*#}"
    url="file://$(realpath "$file")$frag"
    out="$work/$(echo "$target" | tr -c 'A-Za-z0-9' '_')"
    render "$url" "$out"
    if check "$url" "$out"; then
        echo "ok: $target"
        [[ -n ${KEEP_SCREENSHOTS:-} ]] && cp "$out/shot.png" "$KEEP_SCREENSHOTS/$(basename "$out").png"
        return 0
    fi
    echo "FAILED: $target"
    return 1
}

if [[ ${1:-} == --self-test ]]; then
    # Each bad page must be caught; the good page must pass.
    d="$work/selftest"; mkdir -p "$d"
    printf '<!DOCTYPE html><title>t</title><h1 style="font-size:80px">hello</h1><p style="background:#0072b2;height:300px">x</p>' >"$d/good.html"
    printf '<!DOCTYPE html><title>t</title><h1>x</h1><script>console.error("boom")</script>' >"$d/console.html"
    printf '<!DOCTYPE html><title>t</title><h1>x</h1><img src="http://127.0.0.1:9/x.png">' >"$d/network.html"
    printf '<!DOCTYPE html><title>t</title><body style="background:#fff"></body>' >"$d/blank.html"
    run_one "$d/good.html" >/dev/null || { echo "self-test: a good page failed"; exit 1; }
    for bad in console network blank; do
        if run_one "$d/$bad.html" >/dev/null; then
            echo "self-test: the $bad page was not caught"; exit 1
        fi
    done
    echo "self-test ok: console, network and blank pages are caught"
    exit 0
fi

if [[ $# -eq 0 ]]; then
    "$0" --self-test
    d="$work/fixture"
    FLOWMETER_REPORT_FIXTURE="$d/store" cargo test -q --test it report::write_fixture_store -- --ignored >/dev/null
    cargo run -q -- -q --data "$d/store" report monthly --month 2026-11 --out "$d/out"
    cargo run -q -- -q --data "$d/store" report deck --out "$d/out"
    slides=$(ls "$d/out"/slide-*.png | wc -l)
    set -- "$d/out/report.html"
    for n in $(seq 1 "$slides"); do set -- "$@" "$d/out/deck.html#$n"; done
fi
status=0
for t in "$@"; do run_one "$t" || status=1; done
exit $status
