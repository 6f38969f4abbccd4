#!/usr/bin/env bash
# Peak memory and wall time of `bitsdoctor analyze --out` (the full file set) as the input
# grows 5x: synth bench corpora of 400 MB / 12 files and 2000 MB / 40 files; then the same
# 400 MB as 8,000 hosts of one small log each (MANY=0 leaves that out), where any work per host
# x job or per log x log shows.
#
#   benches/fleet_rss.sh               # generate under a temporary folder, measure, delete
#   RUNS=9 BIN=target/release/bitsdoctor benches/fleet_rss.sh
#
# Each size is run RUNS times (5 unless set), alternating, and reported as the median with the
# range: peak RSS moves by up to 10% between runs of one binary with how the two threads
# interleave. Passes when the median peak RSS at 2000 MB is at most 256 MiB and at most 1.5x
# the median at 400 MB.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/bitsdoctor-fleet-rss.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

if [ -z "${BIN:-}" ]; then
  cargo build --release -q -p bitsdoctor -p synth
  BIN=target/release/bitsdoctor
fi
SYNTH=${SYNTH:-$(dirname "$BIN")/synth}

# Prints "wall_seconds peak_rss_kib" of one analyze --out run.
measure() {
  rm -rf "$WORK/out"
  /usr/bin/time -f "%e %M" -o "$WORK/time" "$BIN" analyze "$1" --out "$WORK/out" \
    >/dev/null 2>&1 || true
  cat "$WORK/time"
}

declare -A RSS WALL CORPUS
for spec in "400 12 1" "2000 40 7"; do
  read -r mb files seed <<<"$spec"
  CORPUS[$mb]="$WORK/synth-$mb"
  "$SYNTH" bench "${CORPUS[$mb]}" --mb "$mb" --files "$files" --seed "$seed" >/dev/null
done
# The two sizes alternate, so a slow or busy moment of the machine falls on both.
for _ in $(seq "$RUNS"); do
  for mb in 400 2000; do
    read -r wall rss <<<"$(measure "${CORPUS[$mb]}")"
    RSS[$mb]+="$rss "; WALL[$mb]+="$wall "
  done
done
# "median min max" of a list of numbers.
stats() { python3 -c "import statistics,sys; v=[float(x) for x in sys.argv[1:]]; print(statistics.median(v), min(v), max(v))" $1; }
for spec in "400 12 1" "2000 40 7"; do
  read -r mb files seed <<<"$spec"
  read -r rss_med rss_min rss_max <<<"$(stats "${RSS[$mb]}")"
  read -r wall_med wall_min wall_max <<<"$(stats "${WALL[$mb]}")"
  measure "${CORPUS[$mb]}" >/dev/null # once more, for the sizes of its output
  sizes=$(cd "$WORK/out" && du -k report.json events.csv report.html jobs.csv | awk '{printf "%s=%dMB ", $2, $1/1024}')
  echo "--mb $mb --files $files --seed $seed: wall ${wall_med}s (${wall_min}-${wall_max}), peak RSS $(( ${rss_med%.*} / 1024 )) MiB ($(( ${rss_min%.*} / 1024 ))-$(( ${rss_max%.*} / 1024 ))) over $RUNS runs; $sizes"
  RSS[$mb]=${rss_med%.*}
  rm -rf "${CORPUS[$mb]}"
done

if [ "${MANY:-1}" = 1 ]; then
  corpus="$WORK/synth-many"
  "$SYNTH" bench "$corpus" --mb 400 --files 8000 --seed 5 >/dev/null
  read -r wall rss <<<"$(measure "$corpus")"
  echo "--mb 400 --files 8000 --seed 5 (8,000 hosts): wall ${wall}s, peak RSS $((rss / 1024)) MiB"
  rm -rf "$corpus"
fi

ratio=$(python3 -c "print(round(${RSS[2000]} / ${RSS[400]}, 2))")
echo "peak RSS 2000 MB / 400 MB: ${ratio}x"
ok=1
(( RSS[2000] <= 256 * 1024 )) || { echo "FAIL: peak RSS at 2000 MB above 256 MiB"; ok=0; }
python3 -c "import sys; sys.exit(0 if $ratio <= 1.5 else 1)" || { echo "FAIL: memory grows more than 1.5x"; ok=0; }
(( ok )) && echo "PASS: memory flat as input grows"
(( ok ))
