#!/usr/bin/env bash
# Whole-process comparison of `bitsdoctor analyze` against `evtx_dump -o jsonl` (the evtx
# crate's own dumper) on the same files, plus peak memory and thread scaling.
#
#   benches/compare.sh            # 7 alternating runs per corpus
#   RUNS=11 benches/compare.sh
#
# Corpora (built once under bench-data/, never committed):
#   spliced/     ../shared/tools/make-bench-corpus: 400 MB of real 64 KiB chunks, 12 files
#   spliced-one/ the same 400 MB as one file
#   synth/       the synth generator: 400 MB in 12 files, mostly Security-log noise, ~4% BITS
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${BENCH_DIR:-bench-data}
RUNS=${RUNS:-7}
SHARED=${SHARED:-../shared}

cargo build --release -q -p bitsdoctor -p synth
BD=target/release/bitsdoctor
[ -d "$DATA/spliced" ] || python3 "$SHARED/tools/make-bench-corpus" "$DATA/spliced" 400 12
[ -d "$DATA/spliced-one" ] || python3 "$SHARED/tools/make-bench-corpus" "$DATA/spliced-one" 400 1 --one-file
[ -d "$DATA/synth" ] || target/release/synth bench "$DATA/synth" --mb 400 --files 12 >/dev/null
if ! command -v evtx_dump >/dev/null 2>&1; then
  [ -x "$DATA/tools/bin/evtx_dump" ] || cargo install evtx --locked --root "$DATA/tools"
  export PATH="$PWD/$DATA/tools/bin:$PATH"
fi

# Seconds taken by a command (wall clock).
secs() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N); calc "$t1 - $t0"; }
calc() { python3 -c "print(round($1, 3))"; }
median() { sort -g | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.3f", m}'; }
dump_all() { ls "$1"/*.evtx | xargs -P 2 -I{} sh -c 'evtx_dump -o jsonl "{}" > /dev/null'; }

for corpus in spliced synth spliced-one; do
  dir="$DATA/$corpus"
  a=(); d=()
  for _ in $(seq "$RUNS"); do   # alternate, so drift hits both alike
    a+=("$(secs "$BD" analyze "$dir" --format json --threads 2)")
    d+=("$(secs dump_all "$dir")")
  done
  ma=$(printf '%s\n' "${a[@]}" | median); md=$(printf '%s\n' "${d[@]}" | median)
  echo "$corpus: analyze median ${ma}s, evtx_dump median ${md}s, ratio $(calc "$ma / $md")"
done

# Same BITS event counts as a dump finds.
ours=$("$BD" analyze "$DATA/spliced" --format json | python3 -c '
import json, sys
r = json.load(sys.stdin)
print(sum(i.get("provider_records", {}).get("Microsoft-Windows-Bits-Client", 0) for i in r["inputs"]))')
theirs=0
for f in "$DATA"/spliced/*.evtx; do
  n=$(evtx_dump -o jsonl "$f" 2>/dev/null | grep -c '"Name":"Microsoft-Windows-Bits-Client"' || true)
  theirs=$((theirs + n))
done
echo "Bits-Client records: bitsdoctor $ours, evtx_dump | grep $theirs"

# Peak memory on one 400 MB file, and with 12 files.
for dir in "$DATA/spliced-one" "$DATA/spliced"; do
  rss=$(/usr/bin/time -v "$BD" analyze "$dir" --format json 2>&1 >/dev/null | awk '/Maximum resident/ {print $6}')
  echo "peak RSS $(basename "$dir"): $((rss / 1024)) MiB"
done

# 1 -> 2 threads.
for dir in "$DATA/spliced" "$DATA/spliced-one"; do
  t1=(); t2=()
  for _ in $(seq "$RUNS"); do
    t1+=("$(secs "$BD" analyze "$dir" --format json --threads 1)")
    t2+=("$(secs "$BD" analyze "$dir" --format json --threads 2)")
  done
  m1=$(printf '%s\n' "${t1[@]}" | median); m2=$(printf '%s\n' "${t2[@]}" | median)
  echo "$(basename "$dir"): 1 thread ${m1}s, 2 threads ${m2}s, speed-up $(calc "$m1 / $m2")x"
done
