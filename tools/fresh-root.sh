#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Runs make targets in a clean clone of this repository inside a FRESH Debian root, as a new user
# on a new machine would: nothing installed but what a minimal Debian server has (priority
# required + important: apt, mount, systemd, ...) plus git and make, and the .NET SDK the README
# asks for, bind-mounted read-only from this machine. Whatever the project's own files do not
# install is missing there, so a missing install step fails here rather than on a user's machine.
#
#   tools/fresh-root.sh [--suite bookworm|trixie] [--keep] [--no-dpdk-cache] [--commit REV] -- COMMAND...
#
#   --suite S         the Debian release: bookworm (Debian 12, default) or trixie (Debian 13)
#   --commit REV      the commit to clone (default HEAD: commit first, the work tree is not used)
#   --no-dpdk-cache   do not share this machine's DPDK cache (see below)
#   --keep            leave the root in place (its path is printed); default: removed at the end
#   COMMAND           run in the clone as root, e.g. `make demo`, or `make demo && make test`
#                     (default: make demo)
#
# Only the DPDK cache is shared with this machine ($VIO4WD_CACHE_DIR or ~/.cache/vio4wd, bind-
# mounted): it is keyed by DPDK version, way and options, so what the root finds there is what a
# user's second build finds, and what the root builds is kept for the next run. Nothing else of
# this machine's state is visible: no packages, no NuGet cache, no build output.
#
# The machine's CA certificates and its certificate and .NET environment pass through: package
# registries are reached through them. Needs root, mmdebstrap (installed if missing) and about
# 3 GB in /var/tmp. Exit status: the command's (2 when the root cannot be made).
set -euo pipefail

suite=bookworm
keep=0
share_cache=1
commit=HEAD
while [ $# -gt 0 ]; do
	case "$1" in
	--suite) suite=$2; shift 2 ;;
	--commit) commit=$2; shift 2 ;;
	--keep) keep=1; shift ;;
	--no-dpdk-cache) share_cache=0; shift ;;
	--) shift; break ;;
	-h | --help) sed -n '4,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || set -- make demo
case "$suite" in bookworm | trixie) ;; *) echo "fresh-root: --suite is bookworm or trixie, not '$suite'" >&2; exit 2 ;; esac
[ "$(id -u)" = 0 ] || { echo "fresh-root: run as root" >&2; exit 2; }
command -v dotnet >/dev/null || { echo "fresh-root: the .NET SDK ('dotnet') is not on PATH" >&2; exit 2; }

repo=$(git rev-parse --show-toplevel)
rev=$(git -C "$repo" rev-parse "$commit")
dotnet_dir=$(dirname "$(readlink -f "$(command -v dotnet)")")
cache=${VIO4WD_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/vio4wd}
command -v mmdebstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap >/dev/null

R=$(mktemp -d /var/tmp/vio4wd-fresh-root.XXXXXX)
cleanup() {
	local status=$?
	# Processes still running in the root (a failed test's daemon), then every mount under it,
	# deepest first: ours and those the command made (network namespaces, hugetlbfs, ...).
	for pid in $(ls /proc | grep -E '^[0-9]+$'); do
		[ "$(readlink "/proc/$pid/root" 2>/dev/null)" = "$R" ] && kill -KILL "$pid" 2>/dev/null || true
	done
	awk -v r="$R" '$2 == r || index($2, r "/") == 1 {print $2}' /proc/mounts | sort -r | while read -r m; do
		umount -l "$m" 2>/dev/null || true
	done
	if [ $keep = 0 ]; then rm -rf --one-file-system "$R" "$R.log"; else echo "fresh-root: kept $R"; fi
	exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

started=$(date +%s)
echo "fresh-root: Debian $suite into $R"
# What the README asks for beforehand: git, make and the .NET SDK, whose runtime needs ICU, OpenSSL
# and zlib (Microsoft's dotnet-sdk-10.0 package depends on them; here the SDK is bind-mounted).
case "$suite" in
bookworm) sdk_deps=libicu72,libssl3,zlib1g,tzdata ;;
trixie) sdk_deps=libicu76,libssl3t64,zlib1g,tzdata ;;
esac
if ! mmdebstrap --variant=important --include="ca-certificates,git,make,$sdk_deps" "$suite" "$R" >"$R.log" 2>&1; then
	tail -5 "$R.log" >&2
	exit 2
fi
# The machine's own CA certificates (a machine of this kind reaches its registries through them).
if compgen -G '/usr/local/share/ca-certificates/*' >/dev/null; then
	cp -r /usr/local/share/ca-certificates/. "$R/usr/local/share/ca-certificates/"
	chroot "$R" update-ca-certificates >/dev/null 2>&1 || true
fi
# The root is a private mount point of its own, so tools that remount / (ip netns exec makes /
# a slave) work inside it.
mount --bind "$R" "$R"
mount --make-private "$R"
for m in proc sys dev dev/pts dev/shm; do
	mkdir -p "$R/$m"
	mount --bind "/$m" "$R/$m"
done
mkdir -p "$R/usr/share/dotnet" "$R/dev/hugepages"
mount --bind -o ro "$dotnet_dir" "$R/usr/share/dotnet"
ln -sf /usr/share/dotnet/dotnet "$R/usr/bin/dotnet"
if [ $share_cache = 1 ]; then
	mkdir -p "$cache" "$R/root/.cache/vio4wd"
	mount --bind "$cache" "$R/root/.cache/vio4wd"
fi
git clone -q --no-local "$repo" "$R/root/project"
git -C "$R/root/project" checkout -q "$rev"
echo "fresh-root: root ready in $(($(date +%s) - started)) s; running '$*' in a clean clone of $(git -C "$repo" rev-parse --short "$rev")"

# The machine's environment as CI gets it: certificate and .NET settings, nothing else.
pass=()
while IFS='=' read -r name _; do
	case "$name" in
	SSL_CERT* | CURL_CA* | REQUESTS_CA* | PIP_CERT* | NODE_EXTRA_CA* | GIT_SSL* | NUGET_* | DOTNET_*) pass+=("$name=${!name}") ;;
	esac
done < <(env)
set +e
chroot "$R" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	TERM=dumb CI=true LANG=C.UTF-8 "${pass[@]}" /bin/bash -c 'cd /root/project && eval "$*"' fresh-root "$@"
status=$?
set -e
echo "fresh-root: '$*' on Debian $suite exited $status after $(($(date +%s) - started)) s"
exit $status
