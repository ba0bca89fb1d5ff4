#!/usr/bin/env bash
# Builds the C device benchmark on the host and runs it in the VM
# (vm/run.sh). Prints the benchmark's JSON on stdout; logs go to stderr.
#   bench/device-c/run.sh [--quick]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
mkdir -p "$here/build"
gcc -O2 -Wall -Wextra -Werror -std=gnu11 -I"$root/kernel/include" -I"$root/kernel/lib" \
	-o "$here/build/winekernel_bench" "$here/winekernel_bench.c" "$root/kernel/lib/winekernel.c"
exec "$root/vm/run.sh" --timeout "${WINEKERNEL_BENCH_TIMEOUT:-1800}" -- \
	"$here/build/winekernel_bench" "$@"
