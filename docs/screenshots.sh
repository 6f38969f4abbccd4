#!/usr/bin/env bash
# Regenerate the README's screenshots of the HTML report of samples/ at desktop (1400 px) and
# phone (390 px) width with headless Chromium (Debian: apt-get install -y chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v chromium >/dev/null || { echo "chromium is not installed: apt-get install -y chromium" >&2; exit 1; }
cargo build -q
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
target/debug/bitsdoctor analyze samples --format html > "$tmp/report.html" || [ $? -eq 1 ]
for w in 1400 390; do
  chromium --headless --no-sandbox --disable-gpu --disable-background-networking --no-first-run \
    --hide-scrollbars --user-data-dir="$tmp/profile-$w" --screenshot="docs/report-$w.png" \
    --window-size="$w,1800" "file://$tmp/report.html"
done
