#!/usr/bin/env bash
# Peak RSS of `bitsdoctor analyze` on inputs that are inside every limit but large:
#   1. a zip of ~1.6 MB holding 256 MiB of bitsadmin lines (one entry, deflated ~170:1)
#   2. a 512 MiB text file of a kind bitsdoctor does not read
#   3. a zip holding a 256 MiB event log (a sample's chunk over and over, deflated ~10:1)
# Each must stay under 256 MiB. Inputs are generated in a temporary folder and removed.
# Usage: benches/hostile_memory.sh [path/to/bitsdoctor]   (default: a release build)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-}
if [ -z "$BIN" ]; then
  cargo build --release --quiet
  BIN=target/release/bitsdoctor
fi
if [ ! -x /usr/bin/time ]; then
  echo "GNU time (/usr/bin/time) is needed: apt-get install time" >&2
  exit 2
fi
LIMIT_KB=$((256 * 1024))
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

python3 - "$TMP" <<'PY'
import sys, zipfile, os
tmp = sys.argv[1]
# 256 MiB of bitsadmin lines: the same failing job block, over and over (distinct GUIDs
# would not compress 170:1; a repeated block is what the hostile zip held).
block = open("samples/WS-FIN-01/bitsadmin.txt", encoding="utf-8").read()
head, body = block.split("GUID: {", 1)
body = "GUID: {" + body.split("Listed ", 1)[0]
target = 256 << 20
with zipfile.ZipFile(os.path.join(tmp, "bundle.zip"), "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    with z.open("WS01/bitsadmin.txt", "w", force_zip64=True) as f:
        f.write(head.encode())
        b = body.encode()
        n = 0
        while n < target:
            f.write(b)
            n += len(b)
# A 256 MiB event log: the file header of a sample, then its chunk 4096 times (the header's
# chunk count and checksum set to match), in a zip.
import struct, zlib
log = open("samples/WS-FIN-01/System.evtx", "rb").read()
header, chunk = bytearray(log[:4096]), log[4096:4096 + 65536]
n = (256 << 20) // 65536
struct.pack_into("<QQ", header, 8, 0, n - 1)
struct.pack_into("<H", header, 42, n)
struct.pack_into("<I", header, 124, zlib.crc32(bytes(header[:120])))
with zipfile.ZipFile(os.path.join(tmp, "logs.zip"), "w", zipfile.ZIP_DEFLATED) as z:
    with z.open("WS01/System.evtx", "w", force_zip64=True) as f:
        f.write(bytes(header))
        for _ in range(n):
            f.write(chunk)
# 512 MiB of text bitsdoctor does not read.
line = b"lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor\n"
with open(os.path.join(tmp, "notes.txt"), "wb") as f:
    chunk = line * ((1 << 20) // len(line) + 1)
    chunk = chunk[: 1 << 20]
    for _ in range(512):
        f.write(chunk)
PY

status=0
measure() {
  local name=$1 input=$2
  /usr/bin/time -v "$BIN" analyze "$input" --format json >/dev/null 2>"$TMP/time.txt" || true
  local kb
  kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$TMP/time.txt")
  local size
  size=$(stat -c %s "$input")
  printf '%-28s input %10d bytes  peak RSS %6d KiB (%d MiB)  %s\n' \
    "$name" "$size" "$kb" $((kb / 1024)) "$([ "$kb" -lt $LIMIT_KB ] && echo ok || echo OVER)"
  [ "$kb" -lt $LIMIT_KB ] || status=1
}
measure "zip: 256 MiB of bitsadmin" "$TMP/bundle.zip"
measure "512 MiB unknown text" "$TMP/notes.txt"
measure "zip: 256 MiB event log" "$TMP/logs.zip"
exit $status
