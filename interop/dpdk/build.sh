#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Provides the DPDK that libvio4wd.so links statically, for the DPDK release the host's Debian
# ships (22.11 LTS on Debian 12, 24.11 LTS on Debian 13), in one of two ways:
#
#   source  Debian's source package of that release (the same patches as its binary packages),
#           built with our patches for that release (patches/<major.minor>/), for more ports than Debian's 32 and with only the
#           libraries and drivers a relay host needs. The default wherever apt can fetch it.
#   system  The release's own static archives from libdpdk-dev (installed if missing), as
#           Debian built them: RTE_MAX_ETHPORTS 32, hence at most 32 relays, and without our
#           DPDK patches. Used where the source cannot be fetched (a mirror that serves binaries
#           only), or when asked for with VIO4WD_DPDK=system.
#
# VIO4WD_DPDK=auto (default) tries source, then system; =source or =system forces one.
#
# The result is cached outside the source tree, keyed by the DPDK version, the way and a hash of
# this script (which holds every option), so clean clones on one machine share it and a second
# build does nothing:
#   $VIO4WD_CACHE_DIR (default ${XDG_CACHE_HOME:-~/.cache}/vio4wd)/dpdk-<version>[-system]-<hash>/
#       vio4wd-dpdk.cmake (what the C build reads), include/, lib/ (source: the build; system:
#       links to the two files the tests read)
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
	# common/nfp: net/nfp needs it from 23.11 (22.11 has no such driver)
	common/iavf common/mlx5 common/nfp
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

# Our fixes to DPDK, per release (patches/22.11/*.patch, applied in name order to that release's
# source; none is needed for 24.11 so far): part of the cache key with this script.
patches=$(dirname "$0")/patches
script_hash=$(cat "$0" "$patches"/*/*.patch 2>/dev/null | sha256sum | cut -c1-12)
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
tag=${version//[:~+]/_}
source_prefix=$cache_root/dpdk-$tag-$script_hash
system_prefix=$cache_root/dpdk-$tag-system-$script_hash
way=${VIO4WD_DPDK:-auto}
case "$way" in
auto | source | system) ;;
*) echo "dpdk/build.sh: VIO4WD_DPDK is '$way'; use auto, source or system" >&2; exit 1 ;;
esac

# A finished entry of an allowed way wins; auto prefers our build, then Debian's (a machine that
# could not fetch the source once is not asked again until the version changes).
done_prefix=
for candidate in source system; do
	[ "$way" = auto ] || [ "$way" = "$candidate" ] || continue
	p=$source_prefix
	[ $candidate = source ] || p=$system_prefix
	if [ -f "$p/vio4wd-dpdk.done" ]; then done_prefix=$p; break; fi
done
if [ "${1:-}" = --prefix ]; then
	if [ -n "$done_prefix" ]; then echo "$done_prefix"
	elif [ "$way" = system ]; then echo "$system_prefix"
	else echo "$source_prefix"; fi
	exit 0
fi
# A system entry points into libdpdk-dev: reused only while that is installed (a cache shared
# with a new root of the same release finds it, without the package).
if [ -n "$done_prefix" ] && [ "$done_prefix" = "$system_prefix" ] &&
	[ "$(dpkg-query -W -f='${Status} ${Version}' libdpdk-dev 2>/dev/null || true)" != "install ok installed $version" ]; then
	done_prefix=
	way=system
fi
if [ -n "$done_prefix" ]; then
	echo "$done_prefix"
	exit 0
fi

log() { echo "dpdk/build.sh: $*" >&2; }
mkdir -p "$cache_root"
work=$(mktemp -d "$cache_root/build.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Source: apt with a private list of deb-src entries mirroring the system's deb entries, so the
# .dsc is verified against the archive's keys without touching /etc/apt. Kept per version, so a
# change of options rebuilds without fetching again.
src=$cache_root/src-$tag
fetch_source() {
	[ -f "$src/.complete" ] && return 0
	rm -rf "$src"
	mkdir -p "$work/apt/lists/partial" "$work/apt/sources.list.d" "$work/src"
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] && sed 's/^Types:.*/Types: deb-src/' "$f" > "$work/apt/sources.list.d/$(basename "$f")"
	done
	[ -f /etc/apt/sources.list ] && sed -n 's/^deb \(.*\)/deb-src \1/p' /etc/apt/sources.list > "$work/apt/sources.list"
	touch "$work/apt/sources.list"
	local apt_opts=(-o "Dir::Etc::SourceList=$work/apt/sources.list" -o "Dir::Etc::SourceParts=$work/apt/sources.list.d"
		-o "Dir::State::Lists=$work/apt/lists" -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache="
		-o Debug::NoLocking=1 -o APT::Sandbox::User=root)
	apt-get "${apt_opts[@]}" -qq update >&2 || return 1
	(cd "$work/src" && apt-get "${apt_opts[@]}" -qq source "dpdk=$version" >&2) || return 1
	local tree
	tree=$(find "$work/src" -mindepth 1 -maxdepth 1 -type d -name 'dpdk*' | head -1)
	[ -d "$tree" ] || { log "apt-get source dpdk=$version left no source tree"; return 1; }
	mv "$tree" "$src"
	touch "$src/.complete"
}

# write_cmake PREFIX ORIGIN MAX_ETHPORTS NET_DRIVERS INCLUDE_DIRS CFLAGS WHOLE_ARCHIVES
#   LIBRARY_ARCHIVES SYSTEM_LIBRARIES: what the C build reads (interop/CMakeLists.txt), then the
# marker of a complete cache entry.
write_cmake() {
	cat > "$1/vio4wd-dpdk.cmake" <<-EOF
	# Written by interop/dpdk/build.sh: DPDK $version, $2.
	set(DPDK_VERSION "$version")
	set(DPDK_ORIGIN "$2")
	set(DPDK_MAX_ETHPORTS $3)
	set(DPDK_NET_DRIVERS "$4")
	set(DPDK_INCLUDE_DIRS $5)
	set(DPDK_COMPILE_OPTIONS $(echo $6 | sed 's/-include \([^ ]*\)/"SHELL:-include \1"/g'))
	set(DPDK_ARCHIVES $(echo $7))
	set(DPDK_LIBRARY_ARCHIVES $(echo $8))
	set(DPDK_SYSTEM_LIBRARIES $(echo $9))
	EOF
	touch "$1/vio4wd-dpdk.done"
}

# system: the release's libdpdk-dev, linked as DPDK documents static linking: drivers whole (they
# register from constructors nothing references), the other driver and library archives as
# ordinary archives the linker takes what it needs from. Nothing is built; the prefix holds the
# CMake description and links to the two files the tests read.
use_system() {
	local installed
	installed=$(dpkg-query -W -f='${Status} ${Version}' libdpdk-dev 2>/dev/null || true)
	if [ "$installed" != "install ok installed $version" ]; then
		log "installing libdpdk-dev $version (the release's static DPDK archives)"
		local sudo=; [ "$(id -u)" -eq 0 ] || sudo=sudo
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "libdpdk-dev=$version" >&2
	fi
	local libdir incdir config ports wanted archive whole= rest= d
	libdir=$(pkg-config --variable=libdir libdpdk)
	config=$(find /usr/include -path '*dpdk/rte_build_config.h' | head -1)
	[ -n "$libdir" ] && [ -f "$config" ] || { log "libdpdk-dev gives no libdir or rte_build_config.h"; exit 1; }
	incdir=$(dirname "$config")
	ports=$(sed -n 's/^#define RTE_MAX_ETHPORTS \([0-9]*\)/\1/p' "$config")
	for d in "${DRIVERS[@]}"; do
		archive=${d/\//_}
		archive=$libdir/librte_${archive/%bonding/bond}.a # the one driver named apart from its folder
		if [ -f "$archive" ]; then whole+=" $archive"; else log "this DPDK has no driver $d"; fi
	done
	# Every other archive, libraries last, in the order of DPDK's pkg-config files (users first).
	for archive in $( { sed -n 's/^Libs.private: //p' "$libdir/pkgconfig/libdpdk.pc";
		sed -n 's/^Libs: //p' "$libdir/pkgconfig/libdpdk-libs.pc" | sed 's/-lrte_\([a-z0-9_]*\)/-l:librte_\1.a/g'; } |
		grep -o -- '-l:librte_[a-z0-9_]*\.a' | sed "s|^-l:|$libdir/|"); do
		case " $whole " in *" $archive "*) ;; *) rest+=" $archive" ;; esac
	done
	local system cflags net
	system=$( { sed -n 's/^Libs.private: //p' "$libdir/pkgconfig/libdpdk-libs.pc";
		pkg-config --libs $(sed -n 's/^Requires\(.private\)\?: //p' "$libdir/pkgconfig/libdpdk.pc" |
			tr ',' '\n' | sed 's/[<>=].*//' | grep -v '^ *libdpdk' | tr -d ' ' | grep . | sort -u); } |
		tr ' ' '\n' | grep -- '^-[lp]' | awk '!seen[$0]++')
	cflags=$(pkg-config --cflags libdpdk | tr ' ' '\n' | grep -v '^-I' | tr '\n' ' ')
	net=$(for a in $whole; do basename "$a"; done | sed -n 's/librte_net_\(.*\)\.a/\1/p' | tr '\n' ' ')
	rm -rf "$system_prefix"
	mkdir -p "$system_prefix/include" "$system_prefix/lib/pkgconfig"
	ln -s "$config" "$system_prefix/include/rte_build_config.h"
	ln -s "$libdir/pkgconfig/libdpdk.pc" "$system_prefix/lib/pkgconfig/libdpdk.pc"
	write_cmake "$system_prefix" "Debian's libdpdk-dev" "$ports" "${net% }" \
		"$(pkg-config --cflags-only-I libdpdk | sed 's/-I//g')" "$cflags" "$whole" "$rest" "$system"
	log "using Debian's static DPDK $version from libdpdk-dev: RTE_MAX_ETHPORTS $ports (at most $ports relays), without our DPDK patches; net drivers ${net% }"
	echo "$system_prefix"
}

if [ "$way" = system ]; then
	use_system
	exit 0
fi
if ! fetch_source; then
	if [ "$way" = source ]; then
		log "cannot fetch the source of DPDK $version (apt-get source dpdk=$version); VIO4WD_DPDK=system links Debian's own static DPDK instead"
		exit 1
	fi
	log "cannot fetch the source of DPDK $version from this machine's apt sources (a mirror without source packages?): linking Debian's own static DPDK (libdpdk-dev) instead"
	use_system
	exit 0
fi
prefix=$source_prefix
log "building DPDK $version (max_ethports $MAX_ETHPORTS, ${#DRIVERS[@]} drivers) into $prefix"

# The cached source stays as Debian ships it; the build uses a patched copy.
cp -a "$src" "$work/src-patched"
for p in "$patches/$(echo "$version" | cut -d. -f1,2)"/*.patch; do
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
write_cmake "$prefix" "our build of Debian's source package" "$MAX_ETHPORTS" "${net% }" "$prefix/include" \
	"$cflags" "$archives" "" "$system"
log "done: net drivers $net"
echo "$prefix"
