#!/usr/bin/env bash
# Builds the Windows test corpus: fixtures/corpus/src/NAME.c -> fixtures/corpus/bin/NAME.exe
# with Debian's MinGW-w64 cross compiler (installed via apt if missing).
# Idempotent: a program is rebuilt only when its source, the shared header or
# this script is newer than the .exe. Set FORCE=1 to rebuild everything.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src_dir="$repo_root/fixtures/corpus/src"
bin_dir="$repo_root/fixtures/corpus/bin"
cc="${CC_MINGW:-x86_64-w64-mingw32-gcc}"

if ! command -v "$cc" >/dev/null 2>&1; then
    echo "build-corpus: $cc not found, installing gcc-mingw-w64-x86-64 via apt" >&2
    if [ "$(id -u)" -ne 0 ]; then
        echo "build-corpus: need root to apt-get install gcc-mingw-w64-x86-64" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y --no-install-recommends gcc-mingw-w64-x86-64 >/dev/null 2>&1; then
        apt-get update
        apt-get install -y --no-install-recommends gcc-mingw-w64-x86-64
    fi
fi

mkdir -p "$bin_dir"

# -static-libgcc / -static: the .exe needs only system DLLs Wine provides
# (kernel32, advapi32, ntdll, msvcrt), never libgcc_s or libwinpthread.
cflags=(-O2 -Wall -Wextra -Werror -std=gnu11 -static-libgcc -static -s)
libs=(-ladvapi32 -luser32 -lntdll)

shared_inputs=("$src_dir/corpus.h" "${BASH_SOURCE[0]}")
built=0
uptodate=0
for src in "$src_dir"/*.c; do
    name="$(basename "$src" .c)"
    exe="$bin_dir/$name.exe"
    stale=0
    if [ "${FORCE:-0}" = 1 ] || [ ! -e "$exe" ] || [ "$src" -nt "$exe" ]; then
        stale=1
    else
        for dep in "${shared_inputs[@]}"; do
            if [ "$dep" -nt "$exe" ]; then stale=1; fi
        done
    fi
    if [ "$stale" = 0 ]; then
        uptodate=$((uptodate + 1))
        continue
    fi
    # Build to a temporary name (unique per build, test workers may build
    # concurrently) so an interrupted build never leaves a truncated .exe
    # that looks up to date; rename is atomic.
    tmp="$exe.tmp.$$"
    if ! "$cc" "${cflags[@]}" -I "$src_dir" -o "$tmp" "$src" "${libs[@]}"; then
        rm -f "$tmp"
        echo "build-corpus: failed to build $name.exe" >&2
        exit 1
    fi
    mv -f "$tmp" "$exe"
    built=$((built + 1))
    echo "build-corpus: built $name.exe"
done
echo "build-corpus: $built built, $uptodate up to date in $bin_dir"
