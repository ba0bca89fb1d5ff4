#!/bin/sh
# /init of the winekernel test guest (runs under busybox, as PID 1).
# Mounts the host's root read-only and the project read-write (virtiofs),
# loads winekernel.ko, runs the command of this run chrooted into the host
# tree, checks the kernel log and reports the status on the status port
# (/dev/ttyS1, a file on the host), then powers off.
export PATH=/bin

status_port=/dev/ttyS1
report() {
	echo "WINEKERNEL_VM_STATUS=$1" > "$status_port"
	sync
	poweroff -f
}
fail() {
	echo "[guest] error: $*"
	report "fail:$*"
}

mkdir -p /proc /sys /dev /host
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev

# Parameters come on the kernel command line: wk.run=<host dir of this run>.
run_dir=
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	wk.run=*) run_dir="${arg#wk.run=}" ;;
	wk.project=*) project="${arg#wk.project=}" ;;
	wk.watchdog=*) watchdog="${arg#wk.watchdog=}" ;;
	esac
done
[ -n "$run_dir" ] || fail "no wk.run= on the kernel command line"

for m in $(cat /modules.order); do
	insmod "/modules/$m" || fail "insmod $m"
done

mount -t virtiofs -o ro hostroot /host || fail "mount host root (virtiofs)"
cp "/host$run_dir/cmd.sh" /cmd.sh || fail "no command script in $run_dir"

mount -t tmpfs -o mode=1777 tmp /host/tmp || fail "mount /tmp"
mount -t proc proc /host/proc
mount -t sysfs sys /host/sys
mount -t devtmpfs dev /host/dev
mkdir -p /host/dev/pts /host/dev/shm 2>/dev/null
mount -t devpts devpts /host/dev/pts
mount -t tmpfs -o mode=1777 shm /host/dev/shm
mount -t tmpfs run /host/run 2>/dev/null
if [ -n "$project" ]; then
	# A project under /tmp (a CI checkout, say) is hidden by the guest's own
	# /tmp: make its mount point there.
	[ -d "/host$project" ] || mkdir -p "/host$project" || fail "mount point for $project"
	mount -t virtiofs project "/host$project" || fail "mount project $project"
fi
cp /cmd.sh /host/tmp/winekernel-cmd.sh

insmod /winekernel.ko || fail "insmod winekernel.ko"
[ -c /host/dev/winekernel ] || fail "/dev/winekernel did not appear"
hostname winekernel-vm

# Shortly before the host's timeout, list every process with its state and
# where it sleeps in the kernel, and the blocked tasks' stacks (sysrq w):
# a hung command then says where it hung.
if [ -n "$watchdog" ]; then
	(
		sleep "$watchdog"
		echo "[guest] watchdog: the command still runs after ${watchdog}s; processes:"
		for dir in /proc/[0-9]*; do
			pid="$(basename "$dir")"
			args="$(tr "\\0" " " < "$dir/cmdline" 2>/dev/null | cut -c1-160)"
			[ -n "$args" ] || continue # a kernel thread
			read -r stat < "$dir/stat" 2>/dev/null || continue
			echo "[guest]   $pid state=$(echo "$stat" | cut -d" " -f3) wchan=$(cat "$dir/wchan" 2>/dev/null) $args"
		done
		echo w > /proc/sysrq-trigger 2>/dev/null
	) &
fi

echo "[guest] running command"
# stdout and stderr of the command go to their own ports (ttyS2, ttyS3),
# raw, so the host can pass them through byte for byte.
stty -F /dev/ttyS2 raw -echo 2>/dev/null
stty -F /dev/ttyS3 raw -echo 2>/dev/null
chroot /host /bin/bash /tmp/winekernel-cmd.sh >/dev/ttyS2 2>/dev/ttyS3
rc=$?
echo "[guest] command exited with status $rc"

# The module must unload cleanly once every session is gone.
if ! rmmod winekernel; then
	echo "[guest] rmmod winekernel failed"
	[ "$rc" = 0 ] && rc=98
fi

bad="$(dmesg | grep -E 'BUG:|WARNING:|Oops|KASAN|leak')"
if [ -n "$bad" ]; then
	echo "[guest] kernel log shows a problem:"
	echo "$bad"
	[ "$rc" = 0 ] && rc=99
fi
report "$rc"
