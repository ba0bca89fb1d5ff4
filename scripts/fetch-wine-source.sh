#!/usr/bin/env bash
# Fetches Debian's source package of Wine (the version installed by apt) and
# unpacks the parts the project reads: server/ (protocol.def, and the server
# itself, read for facts), include/, tools/, dlls/ntdll/unix/ and VERSION.
# They land in third_party/wine-src, which git ignores: Wine's files are
# never committed. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=third_party/wine-src
if [[ -f $dest/server/protocol.def && -f $dest/VERSION ]]; then
  exit 0
fi
if ! grep -qs 'deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/* && ! grep -qs '^Types:.*deb-src' /etc/apt/sources.list.d/*.sources; then
  echo "enabling deb-src in /etc/apt/sources.list.d/debian.sources" >&2
  sed -i 's/^Types: deb$/Types: deb deb-src/' /etc/apt/sources.list.d/debian.sources
  apt-get update -q >/dev/null
fi
mkdir -p third_party
cd third_party
if ! ls wine_*.orig.tar.xz >/dev/null 2>&1; then
  apt-get source -q --download-only wine >/dev/null 2>&1 || { apt-get update -q >/dev/null; apt-get source -q --download-only wine; }
fi
mkdir -p wine-src
tar -xJf wine_*.orig.tar.xz -C wine-src --strip-components=1 --wildcards \
  '*/VERSION' '*/server/*' '*/include/*' '*/tools/*' '*/dlls/ntdll/unix/*'
deb=$(ls wine_*.debian.tar.xz | head -n1)
mkdir -p debian-wine && tar -xJf "$deb" -C debian-wine
echo "Wine source: $(cat wine-src/VERSION)" >&2
