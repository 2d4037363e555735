#!/usr/bin/env bash
# make image: an OCI image of the .deb (make deb) on a slim root of the Debian release it was built on, built without a container
# daemon: mmdebstrap makes the root file system (apt installs the package and its dependencies
# from the mirror; the VF drivers are inside libvio4wd.so), umoci turns it into an OCI image layout, and the layout is archived as
# out/image/vio4wd_<version>.oci.tar (the oci-archive transport of skopeo, podman and containerd).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
VERSION=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$ROOT/Directory.Build.props")
REVISION=$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)
DEB=$ROOT/out/deb/vio4wd_${VERSION}_amd64.deb
MIRROR=${VIO4WD_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# The release the package was built on (its dependencies are that release's): Debian 12 or 13.
SUITE=${VIO4WD_DEBIAN_SUITE:-$(. /etc/os-release && echo "$VERSION_CODENAME")}
OUTDIR=$ROOT/out/image
ARCHIVE=$OUTDIR/vio4wd_${VERSION}.oci.tar
WORK=$(mktemp -d /tmp/vio4wd-image.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

[ -f "$DEB" ] || { echo "image: $DEB is missing: run make deb" >&2; exit 1; }

# No documentation, man pages or apt lists in the image; the package's own files stay.
mmdebstrap --quiet --variant=apt \
	--dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
	--dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
	--customize-hook="copy-in $DEB /tmp" \
	--customize-hook="chroot \"\$1\" apt-get install -y --no-install-recommends /tmp/$(basename "$DEB")" \
	--customize-hook='rm -f "$1"/tmp/*.deb' \
	--customize-hook='chroot "$1" apt-get clean' \
	"$SUITE" "$WORK/rootfs.tar" "$MIRROR"

umoci init --layout "$WORK/oci"
umoci new --image "$WORK/oci:$VERSION"
umoci unpack --image "$WORK/oci:$VERSION" "$WORK/bundle" >/dev/null
tar -xf "$WORK/rootfs.tar" -C "$WORK/bundle/rootfs"
umoci repack --image "$WORK/oci:$VERSION" "$WORK/bundle"
umoci config --image "$WORK/oci:$VERSION" \
	--config.entrypoint=/usr/bin/virtio-forwarder \
	--config.cmd=--config --config.cmd=/etc/default/virtioforwarder --config.cmd=--nodaemon \
	--config.env=PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	--config.label=org.opencontainers.image.title=vio4wd \
	--config.label=org.opencontainers.image.version="$VERSION" \
	--config.label=org.opencontainers.image.revision="$REVISION" \
	--config.label=org.opencontainers.image.source=https://github.com/vio4wd/vio4wd \
	--config.label=org.opencontainers.image.description="virtio-forwarder (vio4wd): SR-IOV VFs to vhost-user VMs" \
	--manifest.annotation=org.opencontainers.image.version="$VERSION" \
	--manifest.annotation=org.opencontainers.image.revision="$REVISION"
umoci gc --layout "$WORK/oci"

mkdir -p "$OUTDIR"
tar -C "$WORK/oci" -cf "$ARCHIVE.part" .
mv "$ARCHIVE.part" "$ARCHIVE"
echo "image: $ARCHIVE (vio4wd:$VERSION, $(du -h "$ARCHIVE" | cut -f1)); load it with"
echo "  skopeo copy oci-archive:$ARCHIVE:$VERSION docker://REGISTRY/vio4wd:$VERSION"
