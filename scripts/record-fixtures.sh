#!/bin/bash
# Regenerates fixtures/recordings/*.wkrec.gz: real runs through
# `winekernel run --record`, each on a fresh copy of an initialised prefix,
# with wineserver's own +server trace kept beside it for the peer check and
# the prefix's registry files as they were before the run (<name>.hives.json.gz)
# for replay (docs/replay.md).
#
# usage: scripts/record-fixtures.sh [TEMPLATE_PREFIX] [NAME...]
#   TEMPLATE_PREFIX: an initialised prefix to copy (default: the test
#   template, /tmp/winekernel-test-prefix-template/<version>/prefix, built by
#   the tests: ensureTemplatePrefix in test/support/wine.ts; it is built here
#   when missing).
#   NAME: record only these fixtures (default: all of them).
set -euo pipefail
cd "$(dirname "$0")/.."
out=fixtures/recordings
template=
if [ $# -gt 0 ] && [ -d "$1" ]; then template=$1; shift; fi
only=("$@")
find_template() { dirname "$(find /tmp/winekernel-test-prefix-template -maxdepth 3 -name system.reg 2>/dev/null | head -1)"; }
if [ -z "$template" ]; then
  template=$(find_template)
  if [ ! -f "$template/system.reg" ]; then
    echo "record-fixtures: building the test template prefix (wineboot --init)" >&2
    npx tsx -e "import('./test/support/wine.ts').then((m) => m.ensureTemplatePrefix()).then((p) => console.log(p))"
    template=$(find_template)
  fi
fi
if [ -z "$template" ] || [ ! -f "$template/system.reg" ]; then
  echo "record-fixtures: no initialised prefix (pass one, or let the tests build the template)" >&2
  exit 1
fi
bash scripts/build-corpus.sh
mkdir -p "$out"
work=$(mktemp -d /tmp/wk-fixtures-XXXXXX)
trap 'rm -rf "$work"' EXIT

wanted() { # name
  [ ${#only[@]} -eq 0 ] && return 0
  local n
  for n in "${only[@]}"; do [ "$n" = "$1" ] && return 0; done
  return 1
}

record() { # name, then the command after `--`
  local name=$1; shift
  wanted "$name" || return 0
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

corpus() { # name of a corpus program: it must end with "<name>: all checks passed"
  local name=$1
  wanted "$name" || return 0
  record "$name" wine "fixtures/corpus/bin/$name.exe"
  if ! grep -q "^$name: all checks passed" "$work/$name.stdout"; then
    echo "record-fixtures: $name did not pass its checks:" >&2
    cat "$work/$name.stdout" "$work/$name.stderr" | tail -20 >&2
    exit 1
  fi
}

record cmd-echo wine cmd /c echo hello
record reg-add wine reg add 'HKCU\Software\WineKernelFixture' /v Answer /t REG_SZ /d 42 /f
record atoms wine fixtures/corpus/bin/atoms.exe
corpus objdir
corpus security
corpus mutexes
corpus registry_keys
