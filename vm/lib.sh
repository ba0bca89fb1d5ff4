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

# Whether KVM actually runs a guest here. /dev/kvm can exist and still be
# unusable (some nested setups stall in early boot), so boot the kernel
# without a root file system once and look for the expected panic. The
# answer is cached per machine in /tmp (tmpfs or rebooted with the machine).
wk_kvm_usable() {
	local kernel="$1" cache=/tmp/winekernel-vm-kvm-probe log
	[ -r /dev/kvm ] && [ -w /dev/kvm ] || return 1
	if [ ! -s "$cache" ]; then
		log "probing KVM (once per machine)..."
		log="$(mktemp /tmp/winekernel-kvm-probe.XXXXXX)"
		timeout -k 5 30 qemu-system-x86_64 -enable-kvm -cpu host -m 256 \
			-nodefaults -display none -no-reboot -kernel "$kernel" \
			-append "console=ttyS0 panic=-1" -serial "file:$log" \
			</dev/null >/dev/null 2>&1 || true
		if grep -q "Kernel panic" "$log"; then echo yes > "$cache"; else echo no > "$cache"; fi
		rm -f "$log"
		log "KVM usable: $(cat "$cache")"
	fi
	[ "$(cat "$cache")" = yes ]
}
