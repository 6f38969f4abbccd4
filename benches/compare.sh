#!/usr/bin/env bash
# Whole-process comparison of `bitsdoctor analyze` against `evtx_dump -o jsonl` (the evtx
# crate's own dumper) on the same files and the same two cores, plus peak memory and thread
# scaling.
#
#   benches/compare.sh                          # 7 alternating runs per corpus
#   RUNS=11 benches/compare.sh
#   CORPORA="spliced spliced-one" EXTRAS=0 benches/compare.sh   # ratios only
#   BD=/tmp/old-bitsdoctor benches/compare.sh    # another build of bitsdoctor (before/after)
#
# Fair baseline: analyze runs with --threads 2. evtx_dump runs single-threaded (`-t 1`), two
# processes at a time (`xargs -P 2`): the same two cores, no more threads than cores (its
# default thread count per process would put 2 x cores threads on them). A corpus of one file
# cannot keep two processes busy, so there evtx_dump gets `-t 2` in its one process.
# Wall time and user / system CPU (of the process and everything it waited for) are medians over
# RUNS alternating runs (analyze, dump, analyze, dump ...), so drift on a shared machine hits
# both alike.
#
# Corpora (built once under bench-data/, never committed):
#   spliced/     ../shared/tools/make-bench-corpus: 400 MB of real 64 KiB chunks, 12 files
#   spliced-one/ the same 400 MB as one file
#   synth/       the synth generator: 400 MB in 12 files, mostly Security-log noise, ~4% BITS
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${BENCH_DIR:-bench-data}
case "$DATA" in /*) ;; *) DATA="$PWD/$DATA" ;; esac
RUNS=${RUNS:-7}
SHARED=${SHARED:-../shared}
CORPORA=${CORPORA:-spliced synth spliced-one}
EXTRAS=${EXTRAS:-1}

if [ -z "${BD:-}" ]; then
  cargo build --release -q -p bitsdoctor
  BD=target/release/bitsdoctor
fi
[ -d "$DATA/spliced" ] || python3 "$SHARED/tools/make-bench-corpus" "$DATA/spliced" 400 12
[ -d "$DATA/spliced-one" ] || python3 "$SHARED/tools/make-bench-corpus" "$DATA/spliced-one" 400 1 --one-file
if [[ " $CORPORA " == *" synth "* ]] && [ ! -d "$DATA/synth" ]; then
  cargo build --release -q -p synth
  target/release/synth bench "$DATA/synth" --mb 400 --files 12 >/dev/null
fi
if ! command -v evtx_dump >/dev/null 2>&1; then
  [ -x "$DATA/tools/bin/evtx_dump" ] || cargo install evtx --version 0.15.1 --locked --root "$DATA/tools"
  export PATH="$DATA/tools/bin:$PATH"
fi

calc() { python3 -c "print(round($1, 3))"; }
median() { sort -g | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.3f", m}'; }
# "wall user sys" in seconds for one run of a command (its output discarded).
TIMES=$(mktemp)
trap 'rm -f "$TIMES"' EXIT
measure() {
  local t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -f '%U %S' -o "$TIMES" "$@" >/dev/null 2>&1
  t1=$(date +%s.%N)
  echo "$(calc "$t1 - $t0") $(cat "$TIMES")"
}
dump_all() {
  local n
  n=$(ls "$1"/*.evtx | wc -l)
  if [ "$n" -eq 1 ]; then
    evtx_dump -t 2 -o jsonl "$1"/*.evtx >/dev/null
  else
    ls "$1"/*.evtx | xargs -P 2 -I{} sh -c 'evtx_dump -t 1 -o jsonl "{}" > /dev/null'
  fi
}
export -f dump_all
# Median of column $2 (1 wall, 2 user, 3 sys) of the lines in $1.
col() { printf '%s\n' "$1" | awk -v c="$2" 'NF {print $c}' | median; }

for corpus in $CORPORA; do
  dir="$DATA/$corpus"
  a=""; d=""
  for _ in $(seq "$RUNS"); do   # alternate, so drift hits both alike
    a+="$(measure "$BD" analyze "$dir" --format json --threads 2)"$'\n'
    d+="$(measure bash -c 'dump_all "$0"' "$dir")"$'\n'
  done
  aw=$(col "$a" 1); au=$(col "$a" 2); as=$(col "$a" 3)
  dw=$(col "$d" 1); du=$(col "$d" 2); ds=$(col "$d" 3)
  echo "$corpus: analyze wall ${aw}s (user ${au}s, sys ${as}s); evtx_dump wall ${dw}s (user ${du}s, sys ${ds}s); ratio wall $(calc "$aw / $dw"), cpu $(calc "($au + $as) / ($du + $ds)")"
done

[ "$EXTRAS" = 1 ] || exit 0

# Same BITS event counts as a dump finds.
ours=$("$BD" analyze "$DATA/spliced" --format json | python3 -c '
import json, sys
r = json.load(sys.stdin)
print(sum(i.get("provider_records", {}).get("Microsoft-Windows-Bits-Client", 0) for i in r["inputs"]))')
theirs=0
for f in "$DATA"/spliced/*.evtx; do
  n=$(evtx_dump -t 1 -o jsonl "$f" 2>/dev/null | grep -c '"Name":"Microsoft-Windows-Bits-Client"' || true)
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
  t1=""; t2=""
  for _ in $(seq "$RUNS"); do
    t1+="$(measure "$BD" analyze "$dir" --format json --threads 1)"$'\n'
    t2+="$(measure "$BD" analyze "$dir" --format json --threads 2)"$'\n'
  done
  m1=$(col "$t1" 1); m2=$(col "$t2" 1)
  echo "$(basename "$dir"): 1 thread ${m1}s (user $(col "$t1" 2)s, sys $(col "$t1" 3)s), 2 threads ${m2}s, speed-up $(calc "$m1 / $m2")x"
done
