#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Installs the Debian packages that give what a make target runs, checking for the programs and
# files themselves rather than for package names: a package that stops shipping a program (as
# Debian 12's point release 22.11.11 moved dpdk-testpmd from `dpdk` to `dpdk-dev`) is caught
# here, on the machine, with the name of what is missing.
#
#   tools/deps.sh TARGET NEED:PACKAGE...
#
# A NEED is a command on PATH (`dpdk-testpmd`), an absolute path or glob (`/usr/include/numa.h`),
# a shared library the dynamic linker finds (`lib:libzmq.so.5`), a pkg-config module (`pc:libbsd`:
# headers whose folder differs between releases) or a Python module of Debian's python3 (`py:zmq`). Only packages whose needs are missing are installed (apt-get update first,
# once); a second run installs nothing.
set -euo pipefail

target=$1
shift

have() {
	case "$1" in
	# grep reads to the end (no -q): an early exit would kill ldconfig with SIGPIPE, failing the pipe.
	lib:*) ldconfig -p | grep -F "	${1#lib:} (" >/dev/null ;;
	pc:*) command -v pkg-config >/dev/null && pkg-config --exists "${1#pc:}" ;;
	py:*) [ -x /usr/bin/python3 ] && /usr/bin/python3 -c "import ${1#py:}" 2>/dev/null ;;
	/*) compgen -G "$1" >/dev/null ;;
	*) command -v "$1" >/dev/null ;;
	esac
}

missing=()
packages=()
for entry in "$@"; do
	need=${entry%:*}
	package=${entry##*:}
	if ! have "$need"; then
		missing+=("$need")
		case " ${packages[*]} " in *" $package "*) ;; *) packages+=("$package") ;; esac
	fi
done
if [ ${#packages[@]} = 0 ]; then
	echo "$target: all $# needs present"
	exit 0
fi

echo "$target: installing ${packages[*]} (for ${missing[*]})"
sudo=
[ "$(id -u)" = 0 ] || sudo=sudo
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null

status=0
for entry in "$@"; do
	need=${entry%:*}
	package=${entry##*:}
	if ! have "$need"; then
		echo "$target: package $package is installed but gives no $need (has it moved to another package?)" >&2
		status=1
	fi
done
exit $status
