#!/usr/bin/env bash
# The main job: install everything, then run a real Windows program under
# Wine 8.0 with the winekernel proxy in front of wineserver, recording every
# request, reply and fd it relays, and print that recording in wineserver's
# own +server trace format; then run programs with the proxy answering the
# translated requests itself (--translate), replay the recording through the
# translators, and print the coverage summary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
work=$(mktemp -d /tmp/winekernel-main.XXXXXX)
trap 'WINEPREFIX=$work/prefix wineserver -k 2>/dev/null || true; rm -rf "$work"' EXIT
export WINEPREFIX=$work/prefix WINEDEBUG=-all WINEDLLOVERRIDES='mscoree,mshtml='
echo "== creating a Wine prefix through the proxy (wineboot --init)" >&2
node bin/winekernel.js run --prefix "$WINEPREFIX" -- wineboot --init
# The registry the recording starts from, so that `winekernel replay` can answer it again (docs/replay.md).
node bin/winekernel.js replay --save-hives "$WINEPREFIX" --out "$work/atoms.hives.json.gz"
echo "== running fixtures/corpus/bin/atoms.exe through the proxy, recording" >&2
node bin/winekernel.js run --prefix "$WINEPREFIX" --record "$work/atoms.wkrec" -- wine fixtures/corpus/bin/atoms.exe
echo "== the recording, as wineserver's +server trace (first 60 lines)" >&2
node bin/winekernel.js trace "$work/atoms.wkrec" | head -n 60
echo "== protocol summary" >&2
node bin/winekernel.js protocol | head -n 3
echo "== registry_notify.exe, atom_classes.exe, objdir.exe and handle_sharing.exe with the proxy answering registry, atoms, mutexes, directories and links itself, its handles inherited and duplicated across processes (--translate)" >&2
node bin/winekernel.js run --prefix "$WINEPREFIX" --translate --record "$work/translated.wkrec" -- wine fixtures/corpus/bin/registry_notify.exe
node bin/winekernel.js run --prefix "$WINEPREFIX" --translate -- wine fixtures/corpus/bin/atom_classes.exe
node bin/winekernel.js run --prefix "$WINEPREFIX" --translate -- wine fixtures/corpus/bin/objdir.exe
node bin/winekernel.js run --prefix "$WINEPREFIX" --translate -- wine fixtures/corpus/bin/handle_sharing.exe
echo "== replaying the atoms.exe recording through the translators (in-process backend)" >&2
node bin/winekernel.js replay "$work/atoms.wkrec" | tail -n 5
echo "== coverage of Wine 8.0's requests (summary)" >&2
node bin/winekernel.js coverage | tail -n 12
