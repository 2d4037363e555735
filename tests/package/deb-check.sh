#!/usr/bin/env bash
# make package-test, part 2: the .deb (make deb) in a fresh root of the Debian release it was built on made with mmdebstrap
# from the same mirror: it installs with apt, its programs run, the installed daemon relays a
# net_null VF (vio4wdctl sees DeviceReady=True), and purging leaves nothing of it behind.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DEB=$(ls "$ROOT"/out/deb/vio4wd_*_amd64.deb | head -n 1)
MIRROR=${VIO4WD_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# The release the package was built on (its dependencies are that release's): Debian 12 or 13.
SUITE=${VIO4WD_DEBIAN_SUITE:-$(. /etc/os-release && echo "$VERSION_CODENAME")}
ROOTFS=$(mktemp -d /tmp/vio4wd-debroot.XXXXXX)
fail() { echo "deb-check: $*" >&2; exit 1; }
. "$HERE/lib.sh"
trap 'root_umount "$ROOTFS"; rm -rf "$ROOTFS"' EXIT

mmdebstrap --quiet --variant=apt "$SUITE" "$ROOTFS" "$MIRROR"
root_mount "$ROOTFS"
cp "$DEB" "$ROOTFS/tmp/"
# mmdebstrap leaves no package lists behind. As a user installs it: with its recommended VF drivers.
in_root apt-get update -qq >"$ROOTFS/tmp/apt.log" 2>&1 || { tail -20 "$ROOTFS/tmp/apt.log" >&2; fail "apt-get update failed"; }
in_root apt-get install -y "/tmp/$(basename "$DEB")" >>"$ROOTFS/tmp/apt.log" 2>&1 || { tail -20 "$ROOTFS/tmp/apt.log" >&2; fail "apt-get install failed"; }

root_daemon_check

in_root apt-get purge -y -qq vio4wd >/dev/null 2>&1 || fail "apt-get purge failed"
for path in usr/lib/vio4wd usr/bin/virtio-forwarder usr/bin/vio4wdctl etc/default/virtioforwarder \
	lib/systemd/system/virtio-forwarder.service usr/share/man/man8/virtio-forwarder.8.gz; do
	[ ! -e "$ROOTFS/$path" ] && [ ! -L "$ROOTFS/$path" ] || fail "$path is left after purge"
done
echo "deb-check: $(basename "$DEB") installs in a fresh Debian $SUITE root, relays net_null0 (DeviceReady=True) and purges clean"
