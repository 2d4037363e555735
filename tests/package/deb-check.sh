#!/usr/bin/env bash
# make package-test, part 2: the .deb (make deb) in a fresh Debian 12 root made with mmdebstrap
# from the same mirror: it installs with apt, its programs run, the installed daemon relays a
# net_null VF (vio4wdctl sees DeviceReady=True), and purging leaves nothing of it behind.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DEB=$(ls "$ROOT"/out/deb/vio4wd_*_amd64.deb | head -n 1)
MIRROR=${VIO4WD_DEBIAN_MIRROR:-http://deb.debian.org/debian}
CH=$(mktemp -d /tmp/vio4wd-debroot.XXXXXX)
PREFIX_DPDK=vio4wd-deb-$$
DAEMON_PID=

cleanup() {
	[ -n "$DAEMON_PID" ] && kill "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID" 2>/dev/null
	for m in dev/pts dev proc sys; do umount -l "$CH/$m" 2>/dev/null || true; done
	[ -n "${KEEP_ROOT:-}" ] || rm -rf "$CH"; rm -rf "/var/run/dpdk/$PREFIX_DPDK"
}
trap cleanup EXIT
fail() { echo "deb-check: $*" >&2; exit 1; }
in_root() { chroot "$CH" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root "$@"; }

mmdebstrap --quiet --variant=apt bookworm "$CH" "$MIRROR"
cp /etc/resolv.conf "$CH/etc/resolv.conf"
mount -t proc proc "$CH/proc"
mount --rbind /sys "$CH/sys"
mount --rbind /dev "$CH/dev"
cp "$DEB" "$CH/tmp/"
# mmdebstrap leaves no package lists behind.
in_root apt-get update -qq >"$CH/tmp/apt.log" 2>&1 || { tail -20 "$CH/tmp/apt.log" >&2; fail "apt-get update failed"; }
# As a user installs it (with its recommended VF drivers), plus net_null: this test's VF.
in_root apt-get install -y "/tmp/$(basename "$DEB")" librte-net-null23 >>"$CH/tmp/apt.log" 2>&1 || { tail -20 "$CH/tmp/apt.log" >&2; fail "apt-get install failed"; }

in_root virtio-forwarder --version | grep -q '^Virtio-forwarder version' || fail "virtio-forwarder --version"
in_root virtio-forwarder --check-config --config /etc/default/virtioforwarder >/dev/null || fail "--check-config on the installed config"
in_root vio4wdctl --version >/dev/null || fail "vio4wdctl --version"

# The installed config as it is, with this machine's CPU, a net_null VF and no hugepages.
chroot "$CH" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin virtio-forwarder --config /etc/default/virtioforwarder --nodaemon \
	-C 1 -P net_null0=0 --eal-args "--no-huge -m 256 --no-pci --file-prefix=$PREFIX_DPDK" >"$CH/tmp/daemon.log" 2>&1 &
DAEMON_PID=$!
ready=
for _ in $(seq 200); do
	if in_root vio4wdctl describe 0 2>/dev/null | grep -q 'DeviceReady *True'; then ready=y; break; fi
	kill -0 "$DAEMON_PID" 2>/dev/null || break
	sleep 0.2
done
[ -n "$ready" ] || { cat "$CH/tmp/daemon.log" >&2; fail "relay 0 never became DeviceReady in the installed daemon"; }
in_root vio4wdctl status | grep -q '^0 ' || fail "vio4wdctl status does not list relay 0"
kill "$DAEMON_PID"; wait "$DAEMON_PID" || true; DAEMON_PID=

in_root apt-get purge -y -qq vio4wd >/dev/null 2>&1 || fail "apt-get purge failed"
for path in usr/lib/vio4wd usr/bin/virtio-forwarder usr/bin/vio4wdctl etc/default/virtioforwarder \
	lib/systemd/system/virtio-forwarder.service usr/share/man/man8/virtio-forwarder.8.gz; do
	[ ! -e "$CH/$path" ] && [ ! -L "$CH/$path" ] || fail "$path is left after purge"
done
echo "deb-check: $(basename "$DEB") installs in a fresh Debian 12 root, relays net_null0 (DeviceReady=True) and purges clean"
