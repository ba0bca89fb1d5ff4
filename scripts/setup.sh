#!/usr/bin/env bash
# Installs everything the project needs on a fresh Debian 12 machine, as root:
# Debian packages (Wine 8.0, the mingw cross compiler for the Windows test
# programs, QEMU and Debian's cloud kernel with its headers for the device
# tests), the npm packages, the native addon, Wine's source (read, never
# committed) and the Windows corpus. Idempotent and quiet when done before.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $(id -u) -ne 0 ]]; then
  echo "setup.sh installs Debian packages: run it as root" >&2
  exit 1
fi

packages=(wine64 gcc-mingw-w64-x86-64 qemu-system-x86 linux-image-cloud-amd64 linux-headers-cloud-amd64
  busybox-static build-essential dpkg-dev xz-utils python3 make g++)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi

if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
fi
# The addon is built explicitly too: `npm ci` runs our install script, but a
# checkout whose node_modules is already current would keep a stale build.
if [[ ! -f native/build/Release/winekernel_fd.node || ! -f native/build/Release/winekernel_device.node ]] ||
   [[ -n $(find native/src kernel/lib kernel/include -newer native/build/Release/winekernel_fd.node -type f 2>/dev/null | head -n1) ]]; then
  npm run --silent build:native >/tmp/winekernel-node-gyp.log 2>&1 || { cat /tmp/winekernel-node-gyp.log >&2; exit 1; }
fi
bash scripts/fetch-wine-source.sh
if [[ -x scripts/build-corpus.sh ]]; then bash scripts/build-corpus.sh; fi
