#!/usr/bin/env bash
# The main job: install everything, then run a real Windows program under
# Wine 8.0 with the winekernel proxy in front of wineserver, recording every
# request, reply and fd it relays, and print that recording in wineserver's
# own +server trace format.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
work=$(mktemp -d /tmp/winekernel-main.XXXXXX)
trap 'WINEPREFIX=$work/prefix wineserver -k 2>/dev/null || true; rm -rf "$work"' EXIT
export WINEPREFIX=$work/prefix WINEDEBUG=-all WINEDLLOVERRIDES='mscoree,mshtml='
echo "== creating a Wine prefix through the proxy (wineboot --init)" >&2
node bin/winekernel.js run --prefix "$WINEPREFIX" -- wineboot --init
echo "== running fixtures/corpus/bin/atoms.exe through the proxy, recording" >&2
node bin/winekernel.js run --prefix "$WINEPREFIX" --record "$work/atoms.wkrec" -- wine fixtures/corpus/bin/atoms.exe
echo "== the recording, as wineserver's +server trace (first 60 lines)" >&2
node bin/winekernel.js trace "$work/atoms.wkrec" | head -n 60
echo "== protocol summary" >&2
node bin/winekernel.js protocol | head -n 3
