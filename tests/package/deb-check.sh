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

# A host that ran the original: a stand-in for its package (Netronome's virtio-forwarder) owning
# its paths (the config as a conffile, the program, the unit), the config edited by its operator.
UNIT=$(dpkg-deb -c "$DEB" | grep -o '[^ ]*/virtio-forwarder\.service$' | sed 's|^\./||')
[ -n "$UNIT" ] || fail "the package has no virtio-forwarder.service"
STANDIN=$ROOTFS/tmp/standin
mkdir -p "$STANDIN/DEBIAN" "$STANDIN/etc/default" "$STANDIN/usr/bin" "$STANDIN/$(dirname "$UNIT")"
{
	echo "Package: virtio-forwarder"
	echo "Version: 1.2.99.19-1"
	echo "Architecture: amd64"
	echo "Maintainer: stand-in <nobody@example.org>"
	echo "Description: stand-in for the original virtio-forwarder package"
} >"$STANDIN/DEBIAN/control"
echo /etc/default/virtioforwarder >"$STANDIN/DEBIAN/conffiles"
cp "$ROOT/config/virtioforwarder" "$STANDIN/etc/default/virtioforwarder"
printf '#!/bin/sh\necho the original\n' >"$STANDIN/usr/bin/virtio-forwarder"
chmod 755 "$STANDIN/usr/bin/virtio-forwarder"
printf '[Service]\nExecStart=/usr/bin/virtio-forwarder\n' >"$STANDIN/$UNIT"
dpkg-deb --root-owner-group --build "$STANDIN" "$ROOTFS/tmp/virtio-forwarder_standin.deb" >/dev/null
in_root dpkg -i /tmp/virtio-forwarder_standin.deb >/dev/null || fail "the stand-in of the original package did not install"
printf '# edited by the operator\nVIRTIOFWD_LOG_LEVEL=7\n' >>"$ROOTFS/etc/default/virtioforwarder"
cp "$ROOTFS/etc/default/virtioforwarder" "$ROOTFS/tmp/edited"

# mmdebstrap leaves no package lists behind. As a user installs it: with its recommended VF drivers.
in_root apt-get update -qq >"$ROOTFS/tmp/apt.log" 2>&1 || { tail -20 "$ROOTFS/tmp/apt.log" >&2; fail "apt-get update failed"; }
in_root apt-get install -y "/tmp/$(basename "$DEB")" >>"$ROOTFS/tmp/apt.log" 2>&1 || { tail -20 "$ROOTFS/tmp/apt.log" >&2; fail "apt-get install over the original's package failed"; }
if in_root dpkg-query -W -f='${db:Status-Abbrev}' virtio-forwarder 2>/dev/null | grep -q '^ii'; then
	fail "the original's package is still installed beside vio4wd"
fi
cmp -s "$ROOTFS/tmp/edited" "$ROOTFS/etc/default/virtioforwarder" || fail "the operator's /etc/default/virtioforwarder changed when vio4wd replaced the original's package"
in_root virtio-forwarder --version | grep -q '^Virtio-forwarder version' || fail "/usr/bin/virtio-forwarder is still the original's"
# What is left of the original (its config-files state) goes, as an operator cleans up.
in_root dpkg --purge virtio-forwarder >/dev/null 2>&1 || true
cmp -s "$ROOTFS/tmp/edited" "$ROOTFS/etc/default/virtioforwarder" || fail "purging the original's remains took the operator's config"

root_daemon_check

in_root apt-get purge -y -qq vio4wd >/dev/null 2>&1 || fail "apt-get purge failed"
for path in usr/lib/vio4wd usr/bin/virtio-forwarder usr/bin/vio4wdctl etc/default/virtioforwarder var/lib/vio4wd \
	lib/systemd/system/virtio-forwarder.service usr/share/man/man8/virtio-forwarder.8.gz; do
	[ ! -e "$ROOTFS/$path" ] && [ ! -L "$ROOTFS/$path" ] || fail "$path is left after purge"
done
echo "deb-check: $(basename "$DEB") replaces the original's package in a fresh Debian $SUITE root (the operator's config kept), relays net_null0 (DeviceReady=True) and purges clean"
