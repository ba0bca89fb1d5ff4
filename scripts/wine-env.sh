#!/usr/bin/env bash
# Environment for running Wine by hand the way the tests do
# (test/support/wine.ts: wineEnv). Source it:
#
#   source scripts/wine-env.sh /tmp/my-prefix
#   wine fixtures/corpus/bin/atoms.exe
#   WINEDEBUG=+server wine fixtures/corpus/bin/atoms.exe 2>trace.txt
#   wineserver -k
#
# Without an argument WINEPREFIX is left as it is (or set to ./.cache/wine-prefix).
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    echo "wine-env.sh must be sourced: source scripts/wine-env.sh [prefix]" >&2
    exit 1
fi
if [ -n "${1:-}" ]; then
    export WINEPREFIX="$(realpath -m "$1")"
elif [ -z "${WINEPREFIX:-}" ]; then
    export WINEPREFIX="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.cache/wine-prefix"
fi
export WINEDEBUG="${WINEDEBUG:--all}"
export WINEDLLOVERRIDES="mscoree,mshtml="
unset DISPLAY WAYLAND_DISPLAY WINESERVER WINELOADER
echo "WINEPREFIX=$WINEPREFIX WINEDEBUG=$WINEDEBUG (run 'wineboot --init' once for a new prefix)" >&2
