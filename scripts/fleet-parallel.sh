#!/usr/bin/env bash
# Map/reduce over many bundles with GNU parallel (apt install parallel rsync):
#   map    = `bitsdoctor analyze BUNDLE --out` on the workers, one bundle per job; each worker
#            gets the bitsdoctor binary and the bundle over ssh, and sends back the bundle's
#            report set (with its summary.json);
#   reduce = `bitsdoctor merge` of every summary.json here, into one fleet report.
#
#   scripts/fleet-parallel.sh -S 4/alice@host1 -S 8/host2 OUT BUNDLE...
#   scripts/fleet-parallel.sh -S : OUT BUNDLE...          # this machine only
#
# Options are GNU parallel's -S/--sshlogin (repeatable; `N/` = jobs at once on that worker) and
# --ssh CMD (what reaches a worker; default ssh). BITSDOCTOR names the binary sent to the
# workers (same OS and CPU as theirs; default: `bitsdoctor` on PATH).
# Results: OUT/bundles/<bundle>/ (one report set per bundle) and OUT/fleet/ (the merged report).
set -euo pipefail

logins=()
ssh_cmd=()
while [ $# -gt 0 ]; do
  case "$1" in
    -S | --sshlogin) logins+=(-S "$2"); shift 2 ;;
    --ssh) ssh_cmd=(--ssh "$2"); shift 2 ;;
    -h | --help) sed -n '2,17p' "$0"; exit 0 ;;
    *) break ;;
  esac
done
if [ $# -lt 2 ] || [ ${#logins[@]} -eq 0 ]; then
  echo "usage: $0 -S SSHLOGIN [-S SSHLOGIN]... [--ssh CMD] OUT BUNDLE..." >&2
  exit 2
fi
for tool in parallel rsync tar; do
  command -v "$tool" >/dev/null || { echo "$0: $tool is not installed" >&2; exit 2; }
done
bin=${BITSDOCTOR:-$(command -v bitsdoctor || true)}
[ -x "$bin" ] || { echo "$0: set BITSDOCTOR to the bitsdoctor binary" >&2; exit 2; }

# rsync 3.2.4 and later quote the remote file names themselves; GNU parallel quotes them too, so
# a bundle whose name holds a space would come back as "'./name.tar'" (not found). Let parallel
# do the quoting alone.
export RSYNC_OLD_ARGS=1

out=$1; shift
mkdir -p "$out/bundles"
out=$(cd "$out" && pwd)
bin_dir=$(cd "$(dirname "$bin")" && pwd)

# Each bundle as DIR/./NAME: the part after /./ is its path on the worker.
names=()
for b in "$@"; do
  b=${b%/}
  dir=$(cd "$(dirname "$b")" && pwd)
  name=$(basename "$b")
  case " ${names[*]-} " in *" $name "*) echo "$0: two bundles named $name" >&2; exit 2 ;; esac
  names+=("$name")
  printf '%s/./%s\n' "$dir" "$name"
done >"$out/bundles.list"

# Map. On the worker: analyse, pack the report set, send it back; the worker keeps nothing
# (the job removes the bundle, --cleanup the binary and the pack). On this machine (`:`)
# GNU parallel copies nothing: the job runs the binary and reads the bundle where they are.
(
  cd "$out/bundles"
  parallel --halt now,fail=1 "${logins[@]}" "${ssh_cmd[@]}" \
    --basefile "$bin_dir/./$(basename "$bin")" --transferfile {} --return {/}.tar --cleanup \
    "if [ \"\$PARALLEL_SSHLOGIN\" = : ]; then bd=$(printf %q "$bin"); in={}; else bd=./$(basename "$bin"); in={/}; fi; " \
    "\$bd analyze \"\$in\" --out {/}.out >/dev/null; s=\$?; " \
    "if [ \$s -le 1 ] && [ -f {/}.out/summary.json ]; then tar cf {/}.tar {/}.out; fi; " \
    "rm -rf {/}.out; [ \"\$in\" = {} ] || rm -rf {/}; exit \$s" \
    <"$out/bundles.list"
  for name in "${names[@]}"; do
    [ -f "$name.tar" ] || { echo "$0: no report came back for $name" >&2; exit 1; }
    rm -rf "$name"
    tar xf "$name.tar" && mv "$name.out" "$name" && rm -f "$name.tar"
  done
)

# Reduce, in bundle order.
summaries=()
for name in "${names[@]}"; do summaries+=("$out/bundles/$name/summary.json"); done
"$bin" merge "${summaries[@]}" --out "$out/fleet"
