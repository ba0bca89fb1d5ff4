#!/usr/bin/env bash
# Prepares this machine to run the winekernel device in a QEMU guest:
#  - installs QEMU, Debian's cloud kernel and its headers, a static busybox
#    and a C toolchain (idempotent; apt-get update only when something is missing);
#  - builds kernel/module/winekernel.ko against the cloud kernel's headers.
# The host kernel is not Debian's and cannot load the module: everything
# device-related runs in the guest (vm/run.sh).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=vm/lib.sh
. "$ROOT/vm/lib.sh"

PACKAGES=(qemu-system-x86 linux-image-cloud-amd64 linux-headers-cloud-amd64
	busybox-static build-essential cpio)

missing=()
for pkg in "${PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$pkg")
	fi
done
if [ "${#missing[@]}" -gt 0 ]; then
	log "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

KVER="$(wk_cloud_kernel_version)"
log "cloud kernel: $KVER"
[ -d "/lib/modules/$KVER/build" ] || die "headers for $KVER missing (/lib/modules/$KVER/build)"
[ -f "/boot/vmlinuz-$KVER" ] || die "kernel image /boot/vmlinuz-$KVER missing"
[ -x "$(wk_virtiofsd)" ] || die "virtiofsd not found (qemu-system-common should ship it)"
wk_busybox >/dev/null || die "no static busybox (busybox-static)"

wk_build_module "$KVER"
log "module built: $ROOT/kernel/module/winekernel.ko"
