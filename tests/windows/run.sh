#!/usr/bin/env bash
# The Windows build, tested under Wine (CI runs this from .ci/run):
#  1. cross-build bitsdoctor.exe for x86_64-pc-windows-gnu (debug profile: the dependencies are
#     optimised anyway by [profile.dev.package."*"], and it builds faster than --release);
#  2. build the test-only ProcessPrng shim (processprng.c, see why there) beside the exe;
#  3. run tests/windows_wine.rs, which runs the exe under Wine on samples/, the corpus
#     (BITSDOCTOR_CORPUS) and a zip bundle and compares its reports with the Linux build's,
#     checks Windows path forms, and runs `collect` under Wine.
# Skips with a notice (exit 0) when the cross compiler, the Rust target or wine is missing.
# Set BITSDOCTOR_WINDOWS_PROFILE=release to test a release build instead.
set -euo pipefail
cd "$(dirname "$0")/../.."

target=x86_64-pc-windows-gnu
missing=()
command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || missing+=("x86_64-w64-mingw32-gcc (apt-get install gcc-mingw-w64-x86-64)")
command -v wine >/dev/null 2>&1 || missing+=("wine (apt-get install wine64)")
rustup target list --installed 2>/dev/null | grep -qx "$target" || missing+=("the Rust target (rustup target add $target)")
if [ ${#missing[@]} -gt 0 ]; then
  echo "NOTICE: skipping the Windows build tests under Wine; missing: ${missing[*]}"
  exit 0
fi

profile="${BITSDOCTOR_WINDOWS_PROFILE:-debug}"
flags=()
[ "$profile" = release ] && flags+=(--release)
start=$(date +%s)
nice -n 10 cargo build --target "$target" --bin bitsdoctor "${flags[@]}"
echo "cross-build ($profile): $(( $(date +%s) - start )) s"

dir="target/$target/$profile"
x86_64-w64-mingw32-gcc -shared -O2 -o "$dir/bcryptprimitives.dll" \
  tests/windows/processprng.c tests/windows/bcryptprimitives.def -ladvapi32

export WINEPREFIX="${WINEPREFIX:-$PWD/target/wine-prefix}"
export WINEDEBUG=-all
mkdir -p "$WINEPREFIX"
# Create the prefix once (first run: about half a minute), without a display.
DISPLAY= wineboot --init >/dev/null 2>&1 || true
wine "$dir/bitsdoctor.exe" --version

BITSDOCTOR_WINDOWS_EXE="$PWD/$dir/bitsdoctor.exe" \
  cargo test --test windows_wine -- --test-threads=1 --nocapture
