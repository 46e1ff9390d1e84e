#!/usr/bin/env bash
# Renders each chart of a loadtest HTML report to a PNG with headless
# Chromium (apt-get install chromium), for docs/benchmarks.md.
# Usage: loadtest/scripts/chart-pngs.sh REPORT.html OUTDIR PREFIX
set -euo pipefail
html=$1 outdir=$2 prefix=$3
tmp=$(mktemp -d)
mkdir -p "$outdir"
python3 - "$html" "$tmp" <<'PY'
import re, sys
page = open(sys.argv[1]).read()
for i, m in enumerate(re.finditer(r'<svg .*?</svg>', page, re.S)):
    svg = m.group(0)
    w, h = re.search(r'width="(\d+)" height="(\d+)"', svg).groups()
    open(f"{sys.argv[2]}/{i:02d}-{w}x{h}.html", "w").write(
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><style>body{{margin:0;font-family:sans-serif}}</style></head><body>{svg}</body></html>')
PY
for f in "$tmp"/*.html; do
  base=$(basename "$f" .html)
  size=${base#*-}
  chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$tmp/profile" --hide-scrollbars --window-size="${size/x/,}" \
    --screenshot="$outdir/$prefix-${base%%-*}.png" "file://$f" >/dev/null 2>&1
done
ls -la "$outdir"/"$prefix"-*.png
