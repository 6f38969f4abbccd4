#!/usr/bin/env bash
# Peak memory and wall time of `bitsdoctor analyze --out` (the full file set) as the input
# grows 5x: synth bench corpora of 400 MB / 12 files and 2000 MB / 40 files; then the same
# 400 MB as 8,000 hosts of one small log each (MANY=0 leaves that out), where any work per host
# x job or per log x log shows.
#
#   benches/fleet_rss.sh               # generate under a temporary folder, measure, delete
#   RUNS=3 BIN=target/release/bitsdoctor benches/fleet_rss.sh
#
# Passes when peak RSS at 2000 MB is at most 256 MiB and at most 1.5x the 400 MB figure.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-1}
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

declare -A RSS WALL
for spec in "400 12 1" "2000 40 7"; do
  read -r mb files seed <<<"$spec"
  corpus="$WORK/synth-$mb"
  "$SYNTH" bench "$corpus" --mb "$mb" --files "$files" --seed "$seed" >/dev/null
  best_rss=0; best_wall=999999
  for _ in $(seq "$RUNS"); do
    read -r wall rss <<<"$(measure "$corpus")"
    (( rss > best_rss )) && best_rss=$rss
    best_wall=$(python3 -c "print(min($best_wall, $wall))")
  done
  sizes=$(cd "$WORK/out" && du -k report.json events.csv report.html jobs.csv | awk '{printf "%s=%dMB ", $2, $1/1024}')
  echo "--mb $mb --files $files --seed $seed: wall ${best_wall}s, peak RSS $((best_rss / 1024)) MiB; $sizes"
  RSS[$mb]=$best_rss; WALL[$mb]=$best_wall
  rm -rf "$corpus"
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
