# What the package checks share: a Debian root (mmdebstrap, or an image's unpacked rootfs) with
# vio4wd installed, in which the installed programs must run and the installed daemon relay a VF.

# root_mount ROOT: /proc, /sys and /dev of the host, and its resolver (apt inside needs the mirror).
root_mount() {
	cp /etc/resolv.conf "$1/etc/resolv.conf"
	mount -t proc proc "$1/proc"
	mount --rbind /sys "$1/sys"
	mount --rbind /dev "$1/dev"
}

root_umount() {
	local m
	for m in dev proc sys; do umount -l "$1/$m" 2>/dev/null || true; done
}

in_root() { chroot "$ROOTFS" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root "$@"; }

# root_daemon_check: the installed programs run; the daemon from the installed config, with this
# machine's CPU, no hugepages and net_null as the VF (built into libvio4wd.so like every driver),
# comes up with relay 0 DeviceReady=True in vio4wdctl.
root_daemon_check() {
	local prefix=vio4wd-root-$$ ready= pid _
	in_root virtio-forwarder --version | grep -q '^Virtio-forwarder version' || fail "virtio-forwarder --version"
	in_root virtio-forwarder --check-config --config /etc/default/virtioforwarder >/dev/null || fail "--check-config on the installed config"
	in_root vio4wdctl --version >/dev/null || fail "vio4wdctl --version"

	chroot "$ROOTFS" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin virtio-forwarder --config /etc/default/virtioforwarder --nodaemon \
		-C 1 -P net_null0=0 --eal-args "--no-huge -m 256 --no-pci --file-prefix=$prefix" >"$ROOTFS/tmp/daemon.log" 2>&1 &
	pid=$!
	for _ in $(seq 200); do
		if in_root vio4wdctl describe 0 2>/dev/null | grep -q 'DeviceReady *True'; then ready=y; break; fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
	in_root vio4wdctl status | grep -q '^0 ' || ready=
	kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
	rm -rf "/var/run/dpdk/$prefix"
	[ -n "$ready" ] || { cat "$ROOTFS/tmp/daemon.log" >&2; fail "relay 0 never became DeviceReady in the installed daemon"; }
}
