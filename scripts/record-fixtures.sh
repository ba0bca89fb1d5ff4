#!/bin/bash
# Regenerates fixtures/recordings/*.wkrec.gz: real runs through
# `winekernel run --record`, each on a fresh copy of an initialised prefix,
# with wineserver's own +server trace kept beside it for the peer check and
# the prefix's registry files as they were before the run (<name>.hives.json.gz)
# for replay.
#
# usage: scripts/record-fixtures.sh [TEMPLATE_PREFIX]
#   TEMPLATE_PREFIX: an initialised prefix to copy (default: the test
#   template, /tmp/winekernel-test-prefix-template/<version>, built by the tests).
set -euo pipefail
cd "$(dirname "$0")/.."
out=fixtures/recordings
template=${1:-$(dirname "$(find /tmp/winekernel-test-prefix-template -maxdepth 3 -name system.reg 2>/dev/null | head -1)")}
if [ -z "$template" ] || [ ! -f "$template/system.reg" ]; then
  echo "record-fixtures: no initialised prefix (run the proxy tests once, or pass one)" >&2
  exit 1
fi
[ -f fixtures/corpus/bin/atoms.exe ] || bash scripts/build-corpus.sh
mkdir -p "$out"
work=$(mktemp -d /tmp/wk-fixtures-XXXXXX)
trap 'rm -rf "$work"' EXIT

record() { # name, then the command after `--`
  local name=$1; shift
  local prefix="$work/$name-prefix"
  cp -a "$template" "$prefix"
  rm -f "$prefix/wineserver"  # own wineserver directory for the copy
  # The registry the run starts from, for `winekernel replay` (docs/replay.md).
  node bin/winekernel.js replay --save-hives "$prefix" --out "$out/$name.hives.json.gz"
  WINEDEBUG=+server WINEDLLOVERRIDES='mscoree,mshtml=' DISPLAY= \
    node bin/winekernel.js run --prefix "$prefix" --record "$work/$name.wkrec" \
    --server-stderr "$work/$name.server-trace" -- "$@" > "$work/$name.stdout" 2> "$work/$name.stderr"  # not /dev/null: wine then disables its debug channels
  gzip -9 -n -c "$work/$name.wkrec" > "$out/$name.wkrec.gz"
  gzip -9 -n -c "$work/$name.server-trace" > "$out/$name.server-trace.gz"
  echo "recorded $name: $(stat -c %s "$out/$name.wkrec.gz") bytes"
}

record cmd-echo wine cmd /c echo hello
record reg-add wine reg add 'HKCU\Software\WineKernelFixture' /v Answer /t REG_SZ /d 42 /f
record atoms wine fixtures/corpus/bin/atoms.exe
