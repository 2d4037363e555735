#!/usr/bin/env bash
# make package-test, part 3: the OCI image (make image), unpacked with umoci as a runtime would,
# holds a root in which the daemon does what it does from the .deb; its config names it vio4wd:<version>.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
VERSION=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$ROOT/Directory.Build.props")
ARCHIVE=$ROOT/out/image/vio4wd_${VERSION}.oci.tar
WORK=$(mktemp -d /tmp/vio4wd-imagecheck.XXXXXX)
ROOTFS=$WORK/bundle/rootfs
fail() { echo "image-check: $*" >&2; exit 1; }
. "$HERE/lib.sh"
trap 'root_umount "$ROOTFS"; rm -rf "$WORK"' EXIT

mkdir "$WORK/oci"
tar -xf "$ARCHIVE" -C "$WORK/oci"
umoci unpack --image "$WORK/oci:$VERSION" "$WORK/bundle" >/dev/null
config=$(skopeo inspect --config "oci:$WORK/oci:$VERSION")
grep -q '"Entrypoint": *\[ *"/usr/bin/virtio-forwarder"' <<<"$(tr -d '\n' <<<"$config")" || fail "the entrypoint is not the daemon"
grep -q "\"org.opencontainers.image.version\": \"$VERSION\"" <<<"$config" || fail "no version label"
grep -q '"org.opencontainers.image.revision": "[0-9a-f]\{40\}"' <<<"$config" || fail "no revision label"
# The VF drivers are linked into libvio4wd.so; no DPDK package is needed or wanted.
grep -q net_iavf "$ROOTFS/usr/lib/vio4wd/libvio4wd.so" || fail "libvio4wd.so in the image has no iavf VF driver"
[ ! -e "$ROOTFS/usr/lib/x86_64-linux-gnu/dpdk" ] || fail "the image carries Debian's DPDK beside our own"

root_mount "$ROOTFS"
root_daemon_check
echo "image-check: $(basename "$ARCHIVE") unpacks to a root whose daemon relays net_null0 (DeviceReady=True)"
