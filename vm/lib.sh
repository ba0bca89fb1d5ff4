# Shared helpers of vm/setup.sh and vm/run.sh (sourced, not executed).

log() { printf '[vm] %s\n' "$*" >&2; }
die() { printf '[vm] error: %s\n' "$*" >&2; exit 2; }

# The newest installed Debian cloud kernel (e.g. 6.1.0-56-cloud-amd64).
wk_cloud_kernel_version() {
	local v
	v="$(ls -d /lib/modules/*-cloud-amd64 2>/dev/null | sed 's|.*/||' | sort -V | tail -n1)"
	[ -n "$v" ] || die "no Debian cloud kernel installed (run vm/setup.sh)"
	printf '%s\n' "$v"
}

wk_virtiofsd() {
	local p
	for p in /usr/lib/qemu/virtiofsd /usr/libexec/virtiofsd /usr/bin/virtiofsd; do
		[ -x "$p" ] && { printf '%s\n' "$p"; return 0; }
	done
	printf '%s\n' /usr/lib/qemu/virtiofsd
}

# A statically linked busybox (the initramfs has no libc).
wk_busybox() {
	local p
	for p in /bin/busybox /usr/bin/busybox; do
		if [ -x "$p" ] && ! LC_ALL=C readelf -l "$p" 2>/dev/null | grep -q 'INTERP'; then
			printf '%s\n' "$p"
			return 0
		fi
	done
	return 1
}

# Builds kernel/module against the headers of kernel $1 (quietly, W=1,
# warnings are errors so a warning cannot slip in unnoticed).
wk_build_module() {
	local kver="$1" out
	if ! out="$(make -s -C "$ROOT/kernel/module" KDIR="/lib/modules/$kver/build" \
		W=1 KCFLAGS=-Werror 2>&1)"; then
		printf '%s\n' "$out" >&2
		die "module build failed"
	fi
	if printf '%s\n' "$out" | grep -qi 'warning'; then
		printf '%s\n' "$out" >&2
		die "module build produced warnings"
	fi
}
