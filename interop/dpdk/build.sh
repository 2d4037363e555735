#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Builds the DPDK that libvio4wd.so links statically: Debian's source package of the DPDK release
# Debian ships (the same 22.11 LTS and patches as its binary packages), configured for more ports
# than Debian's 32 and with only the libraries and drivers a relay host needs.
#
# The result is cached outside the source tree, keyed by the DPDK version and a hash of this
# script (which holds every option), so clean clones on one machine share it and a second build
# does nothing:
#   $VIO4WD_CACHE_DIR (default ${XDG_CACHE_HOME:-~/.cache}/vio4wd)/dpdk-<version>-<hash>/
#       include/  lib/*.a  vio4wd-dpdk.cmake (what the C build reads)
#
#   build.sh            builds if needed, then prints the prefix
#   build.sh --prefix   prints the prefix without building (empty output if the version is unknown)
set -euo pipefail

# Ports: one per relay's VF, bond members and the bond itself; 512 leaves room for 256 relays
# with bonds. Changing anything below changes the hash, hence the cache entry.
MAX_ETHPORTS=512
DRIVERS=(
	bus/pci bus/vdev bus/auxiliary
	mempool/ring mempool/stack
	common/iavf common/mlx5
	# VFs of real hosts
	net/iavf net/i40e net/ice net/ixgbe net/nfp net/bnxt net/mlx5
	# Bonds and the virtual devices the tests, the demo and users of vdevs use
	net/bonding net/null net/pcap net/tap net/ring net/memif net/virtio net/vhost net/af_packet
)
# Optional libraries a relay does not need (22.11 cannot disable the rest; the linker leaves out
# what is unused).
DISABLED_LIBS=(
	bitratestats cfgfile flow_classify gpudev jobstats kni latencystats metrics node pdump
	pipeline port power table
)

# Our fixes to DPDK (patches/, applied in name order): part of the cache key with this script.
patches=$(dirname "$0")/patches
script_hash=$(cat "$0" "$patches"/*.patch 2>/dev/null | sha256sum | cut -c1-12)
cache_root=${VIO4WD_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/vio4wd}

# The version Debian offers now (binary and source packages share it).
dpdk_version() {
	apt-cache policy dpdk 2>/dev/null | sed -n 's/^ *Candidate: *//p' | grep -v '(none)' || true
}

version=$(dpdk_version)
if [ -z "$version" ]; then
	echo "dpdk/build.sh: apt knows no 'dpdk' package (run apt-get update?)" >&2
	[ "${1:-}" = --prefix ] && exit 0
	exit 1
fi
prefix=$cache_root/dpdk-${version//[:~+]/_}-$script_hash

if [ "${1:-}" = --prefix ]; then
	echo "$prefix"
	exit 0
fi
if [ -f "$prefix/vio4wd-dpdk.done" ]; then
	echo "$prefix"
	exit 0
fi

log() { echo "dpdk/build.sh: $*" >&2; }
log "building DPDK $version (max_ethports $MAX_ETHPORTS, ${#DRIVERS[@]} drivers) into $prefix"
mkdir -p "$cache_root"
work=$(mktemp -d "$cache_root/build.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Source: apt with a private list of deb-src entries mirroring the system's deb entries, so the
# .dsc is verified against the archive's keys without touching /etc/apt. Kept per version, so a
# change of options rebuilds without fetching again.
src=$cache_root/src-${version//[:~+]/_}
if [ ! -f "$src/.complete" ]; then
	rm -rf "$src"
	mkdir -p "$work/apt/lists/partial" "$work/apt/sources.list.d" "$work/src"
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] && sed 's/^Types:.*/Types: deb-src/' "$f" > "$work/apt/sources.list.d/$(basename "$f")"
	done
	[ -f /etc/apt/sources.list ] && sed -n 's/^deb \(.*\)/deb-src \1/p' /etc/apt/sources.list > "$work/apt/sources.list"
	touch "$work/apt/sources.list"
	apt_opts=(-o "Dir::Etc::SourceList=$work/apt/sources.list" -o "Dir::Etc::SourceParts=$work/apt/sources.list.d"
		-o "Dir::State::Lists=$work/apt/lists" -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache="
		-o Debug::NoLocking=1 -o APT::Sandbox::User=root)
	apt-get "${apt_opts[@]}" -qq update >&2
	(cd "$work/src" && apt-get "${apt_opts[@]}" -qq source "dpdk=$version" >&2)
	tree=$(find "$work/src" -mindepth 1 -maxdepth 1 -type d -name 'dpdk*' | head -1)
	[ -d "$tree" ] || { log "apt-get source dpdk=$version left no source tree"; exit 1; }
	mv "$tree" "$src"
	touch "$src/.complete"
fi

# The cached source stays as Debian ships it; the build uses a patched copy.
cp -a "$src" "$work/src-patched"
for p in "$patches"/*.patch; do
	[ -f "$p" ] || continue
	log "applying $(basename "$p")"
	patch -d "$work/src-patched" -p1 --quiet --forward < "$p" >&2
done

drivers=$(printf '%s,' "${DRIVERS[@]}")
disabled_libs=$(printf '%s,' "${DISABLED_LIBS[@]}")
meson setup "$work/build" "$work/src-patched" --prefix="$prefix" --libdir=lib --buildtype=release \
	--default-library=static -Dmax_ethports=$MAX_ETHPORTS -Dplatform=generic \
	-Dtests=false -Dexamples= -Denable_docs=false -Ddisable_apps='*' \
	-Denable_kmods=false -Denable_driver_sdk=false \
	-Ddisable_libs="${disabled_libs%,}" -Denable_drivers="${drivers%,}" >&2
ninja -C "$work/build" >&2
rm -rf "$prefix"
meson install -C "$work/build" --quiet >&2

# Only the static archives are kept: a shared librte_* or a plugin directory in the prefix could
# end up loaded beside the copy linked into libvio4wd.so.
rm -rf "$prefix/lib/dpdk" "$prefix/bin" "$prefix/share"
find "$prefix/lib" -maxdepth 1 -name 'librte_*.so*' -delete

# What the C build needs (interop/CMakeLists.txt includes it): the archives pkg-config's static
# flags link whole, in its order; the system libraries are the direct ones of the pkg-config
# files, not their private dependencies, which `pkg-config --static` would drag in.
pc=$prefix/lib/pkgconfig
archives=$(sed -n 's/^Libs.private: //p' "$pc/libdpdk.pc" | grep -o 'librte_[a-z0-9_]*\.a' | sed "s|^|$prefix/lib/|")
requires=$(sed -n 's/^Requires\(.private\)\?: //p' "$pc/libdpdk.pc" | tr ', ' '\n\n' | grep -v '^libdpdk' | grep . | sort -u)
system=$( { sed -n 's/^Libs.private: //p' "$pc/libdpdk-libs.pc"; pkg-config --libs $requires; } |
	tr ' ' '\n' | grep -- '^-' | awk '!seen[$0]++')
cflags=$(sed -n 's/^Cflags: //p' "$pc/libdpdk-libs.pc" | sed 's/-I[^ ]*//g')
net=$(cd "$prefix/lib" && ls librte_net_*.a | sed 's/librte_net_\(.*\)\.a/\1/' | tr '\n' ' ')
cat > "$prefix/vio4wd-dpdk.cmake" <<EOF
# Written by interop/dpdk/build.sh for DPDK $version.
set(DPDK_VERSION "$version")
set(DPDK_MAX_ETHPORTS $MAX_ETHPORTS)
set(DPDK_NET_DRIVERS "${net% }")
set(DPDK_INCLUDE_DIRS "$prefix/include")
set(DPDK_COMPILE_OPTIONS $(echo $cflags | sed 's/-include \([^ ]*\)/"SHELL:-include \1"/g'))
set(DPDK_ARCHIVES $(echo $archives))
set(DPDK_SYSTEM_LIBRARIES $(echo $system))
EOF
# The marker of a complete cache entry.
touch "$prefix/vio4wd-dpdk.done"
log "done: net drivers $net"
echo "$prefix"
