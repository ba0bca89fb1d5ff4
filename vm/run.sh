#!/usr/bin/env bash
# Runs a command inside a QEMU guest booted from Debian's cloud kernel, with
# kernel/module/winekernel.ko loaded and /dev/winekernel available.
#
#   vm/run.sh [--timeout SECONDS] [--keep] -- CMD ARGS...
#
# The guest sees the host's root file system read-only at the same paths
# (so node, node_modules and the project are where they are here), the
# project directory read-write, and a fresh tmpfs on /tmp. CMD runs as root
# with the current directory set to the current directory here (if it is
# inside the project; the project root otherwise).
#
# Exit status: CMD's status, read from the guest's status port (never from
# the console log); 99 if the kernel log showed BUG/WARNING/Oops, 98 if the
# module did not unload, 124 on timeout, 125 if the guest died without a
# status (panic: oops=panic, panic_on_warn=1). The console log's path is
# printed on stderr.
#
# Environment:
#   WINEKERNEL_VM_ACCEL=kvm|tcg   force an accelerator (default: kvm if a probe
#                                 boot succeeds, cached in /tmp; else tcg)
#   WINEKERNEL_VM_MEM=2048        guest memory, MiB
#   WINEKERNEL_VM_CPUS=2
#   WINEKERNEL_VM_ENV="A B"       extra host variables to pass to CMD
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=vm/lib.sh
. "$ROOT/vm/lib.sh"

timeout_s=1800
keep=0
while [ $# -gt 0 ]; do
	case "$1" in
	--timeout) timeout_s="$2"; shift 2 ;;
	--keep) keep=1; shift ;;
	--) shift; break ;;
	*) die "usage: vm/run.sh [--timeout S] [--keep] -- CMD ARGS..." ;;
	esac
done
[ $# -gt 0 ] || die "usage: vm/run.sh [--timeout S] [--keep] -- CMD ARGS..."

command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing: run vm/setup.sh"
KVER="$(wk_cloud_kernel_version)"
KERNEL="/boot/vmlinuz-$KVER"
MODDIR="/lib/modules/$KVER"
[ -r "$KERNEL" ] || die "$KERNEL missing: run vm/setup.sh"
VIRTIOFSD="$(wk_virtiofsd)"
[ -x "$VIRTIOFSD" ] || die "virtiofsd missing: run vm/setup.sh"
BUSYBOX="$(wk_busybox)" || die "static busybox missing: run vm/setup.sh"

# Always (re)build: make is incremental, and a stale .ko would be a lie.
wk_build_module "$KVER"

RUN_DIR="$(mktemp -d /tmp/winekernel-vm.XXXXXX)"
LOG="$RUN_DIR/console.log"
STATUS="$RUN_DIR/status"
pids=()
cleanup() {
	local pid
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	if [ "$keep" = 0 ]; then
		# Keep the console log (its path was printed); drop the rest.
		rm -rf "$RUN_DIR/initramfs" "$RUN_DIR/initramfs.cpio.gz" "$RUN_DIR"/*.sock \
			"$RUN_DIR/cmd.sh"
	fi
}
trap cleanup EXIT

# The initramfs: static busybox, the virtio/virtiofs modules, winekernel.ko.
IR="$RUN_DIR/initramfs"
mkdir -p "$IR/bin" "$IR/modules"
cp "$BUSYBOX" "$IR/bin/busybox"
for applet in sh mount mkdir cat cp insmod rmmod chroot dmesg grep echo sync \
	poweroff hostname sleep ls stty basename cut tr; do
	ln -s busybox "$IR/bin/$applet"
done
# Modules in dependency order (modules.dep lists each one's deps).
declare -A seen=()
order=()
add_module() {
	local rel="$1" dep deps
	[ -n "${seen[$rel]:-}" ] && return
	seen[$rel]=1
	deps="$(awk -v m="$rel:" '$1 == m { $1 = ""; print }' "$MODDIR/modules.dep")"
	for dep in $deps; do
		add_module "$dep"
	done
	order+=("$rel")
}
for name in virtio_pci virtiofs; do
	rel="$(awk -F: -v n="/$name.ko" 'index($1, n) && substr($1, length($1) - length(n) + 1) == n { print $1 }' "$MODDIR/modules.dep" | head -n1)"
	[ -n "$rel" ] || die "module $name not found in $MODDIR"
	add_module "$rel"
done
: > "$IR/modules.order"
for rel in "${order[@]}"; do
	base="$(basename "$rel")"
	case "$base" in
	*.ko) cp "$MODDIR/$rel" "$IR/modules/$base" ;;
	*.ko.xz) xz -dc "$MODDIR/$rel" > "$IR/modules/${base%.xz}"; base="${base%.xz}" ;;
	*.ko.zst) zstd -qdc "$MODDIR/$rel" > "$IR/modules/${base%.zst}"; base="${base%.zst}" ;;
	*) die "unknown module format: $rel" ;;
	esac
	echo "$base" >> "$IR/modules.order"
done
cp "$ROOT/kernel/module/winekernel.ko" "$IR/winekernel.ko"
cp "$ROOT/vm/init.sh" "$IR/init"
chmod +x "$IR/init"
(cd "$IR" && find . | cpio -o -H newc --quiet | gzip -1) > "$RUN_DIR/initramfs.cpio.gz"

# The command, as a bash script run in the guest's chroot.
cwd="$PWD"
case "$cwd/" in
"$ROOT"/*) ;;
*) cwd="$ROOT" ;;
esac
{
	echo 'export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
	echo 'export HOME=/root LANG=C.UTF-8 TERM=dumb WINEKERNEL_IN_VM=1'
	# The guest has no network: npm and npx must never try the registry (an
	# update check or a package lookup would wait out its timeouts).
	echo 'export npm_config_offline=true npm_config_update_notifier=false npm_config_audit=false npm_config_fund=false'
	for var in CI NODE_OPTIONS ${WINEKERNEL_VM_ENV:-}; do
		if [ -n "${!var+x}" ]; then
			printf 'export %s=%q\n' "$var" "${!var}"
		fi
	done
	printf 'cd %q || exit 97\n' "$cwd"
	printf 'exec'
	printf ' %q' "$@"
	printf '\n'
} > "$RUN_DIR/cmd.sh"

# virtiofs daemons: host root (mounted read-only in the guest) and the project.
start_virtiofsd() {
	local sock="$1" src="$2"
	"$VIRTIOFSD" --socket-path="$sock" -o source="$src" -o cache=auto \
		-o sandbox=chroot -o log_level=err >>"$RUN_DIR/virtiofsd.log" 2>&1 &
	pids+=($!)
}
start_virtiofsd "$RUN_DIR/root.sock" /
start_virtiofsd "$RUN_DIR/project.sock" "$ROOT"
for sock in "$RUN_DIR/root.sock" "$RUN_DIR/project.sock"; do
	for _ in $(seq 1 100); do
		[ -S "$sock" ] && break
		sleep 0.05
	done
	[ -S "$sock" ] || die "virtiofsd did not start (see $RUN_DIR/virtiofsd.log)"
done

mem="${WINEKERNEL_VM_MEM:-2048}"
cpus="${WINEKERNEL_VM_CPUS:-2}"
accel="${WINEKERNEL_VM_ACCEL:-}"
if [ -z "$accel" ]; then
	if wk_kvm_usable "$KERNEL"; then accel=kvm; else accel=tcg; fi
fi
case "$accel" in
kvm) accel_args=(-enable-kvm -cpu host) ;;
tcg) accel_args=(-accel tcg,thread=multi -cpu max) ;;
*) die "WINEKERNEL_VM_ACCEL must be kvm or tcg" ;;
esac

cmdline="console=ttyS0 panic_on_warn=1 oops=panic panic=-1 loglevel=4"
cmdline+=" wk.run=$RUN_DIR wk.project=$ROOT"
# The guest describes what it is doing shortly before the host gives up on it.
if [ "$timeout_s" -gt 60 ]; then cmdline+=" wk.watchdog=$((timeout_s - 30))"; fi

log "kernel $KVER, accel $accel, ${cpus} vCPUs, ${mem} MiB"
log "console log: $LOG"
start=$(date +%s)
: > "$RUN_DIR/stdout"
: > "$RUN_DIR/stderr"
timeout --foreground -k 10 "$timeout_s" qemu-system-x86_64 \
	"${accel_args[@]}" -smp "$cpus" -m "$mem" \
	-object memory-backend-memfd,id=mem,size="${mem}M",share=on \
	-numa node,memdev=mem \
	-nodefaults -display none -no-reboot \
	-kernel "$KERNEL" -initrd "$RUN_DIR/initramfs.cpio.gz" -append "$cmdline" \
	-serial "file:$LOG" -serial "file:$STATUS" \
	-serial "file:$RUN_DIR/stdout" -serial "file:$RUN_DIR/stderr" \
	-chardev socket,id=root,path="$RUN_DIR/root.sock" \
	-device vhost-user-fs-pci,chardev=root,tag=hostroot \
	-chardev socket,id=project,path="$RUN_DIR/project.sock" \
	-device vhost-user-fs-pci,chardev=project,tag=project \
	</dev/null >>"$RUN_DIR/qemu.log" 2>&1 &
qemu_pid=$!
pids+=("$qemu_pid")
# Stream the command's output while the guest runs.
tail -n +1 -f --pid="$qemu_pid" "$RUN_DIR/stdout" &
tail_out=$!
tail -n +1 -f --pid="$qemu_pid" "$RUN_DIR/stderr" >&2 &
tail_err=$!
set +e
wait "$qemu_pid"
qemu_rc=$?
wait "$tail_out" "$tail_err"
set -e
elapsed=$(( $(date +%s) - start ))

if [ "$qemu_rc" = 124 ] || [ "$qemu_rc" = 137 ]; then
	log "timeout after ${timeout_s}s (console log: $LOG)"
	log "last console lines (the guest's watchdog lists its processes there):"
	tail -n 60 "$LOG" >&2 || true
	exit 124
fi
token="$(grep -a -o 'WINEKERNEL_VM_STATUS=[^[:space:]]*' "$STATUS" 2>/dev/null | tail -n1 || true)"
if [ -z "$token" ]; then
	log "guest ended without a status (panic?) after ${elapsed}s; qemu exit $qemu_rc"
	log "last console lines:"
	tail -n 40 "$LOG" >&2 || true
	[ -s "$RUN_DIR/qemu.log" ] && cat "$RUN_DIR/qemu.log" >&2
	log "console log: $LOG"
	exit 125
fi
value="${token#WINEKERNEL_VM_STATUS=}"
log "guest status: $value (${elapsed}s; console log: $LOG)"
case "$value" in
'' | *[!0-9]*) exit 125 ;;
*) exit "$value" ;;
esac
