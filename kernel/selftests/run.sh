#!/usr/bin/env bash
# Runs the winekernel selftests against /dev/winekernel (inside the VM:
# vm/run.sh -- kernel/selftests/run.sh). Builds them first (make, so only
# when out of date). Arguments go to winekernel_test (-l, -t NAME). TAP on stdout; exit status non-zero if any test failed.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# Default: build/ here, so a build made on the host (fast) is reused in the
# guest (slow under TCG) when it is up to date.
out="${WINEKERNEL_SELFTEST_OUT:-$here/build}"
mkdir -p "$out"
make -s -C "$here" OUTPUT="$out" >&2
if [ ! -c /dev/winekernel ]; then
	echo "Bail out! /dev/winekernel is missing (run this inside vm/run.sh)"
	exit 1
fi
start=$(date +%s.%N)
set +e
"$out/winekernel_test" "$@"
rc=$?
set -e
end=$(date +%s.%N)
echo "# selftests took $(echo "$end - $start" | bc 2>/dev/null || echo "?") s"
exit "$rc"
