#!/usr/bin/env bash
# make package-test: `make install PREFIX=/usr DESTDIR=<tmp>` and what the tree must hold and do.
# The installed daemon runs with one net_null static VF from the installed config (no hugepages),
# and the installed vio4wdctl sees the relay with DeviceReady=True.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DEST=$(mktemp -d /tmp/vio4wd-install.XXXXXX)
PREFIX_DPDK=vio4wd-install-$$
DAEMON_PID=
cleanup() {
	[ -n "$DAEMON_PID" ] && kill "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID" 2>/dev/null
	rm -rf "$DEST" "/var/run/dpdk/$PREFIX_DPDK"
}
trap cleanup EXIT

fail() { echo "install-check: $*" >&2; exit 1; }

make -s -C "$ROOT" install PREFIX=/usr DESTDIR="$DEST" >/dev/null

for path in usr/bin/virtio-forwarder usr/bin/vio4wdctl usr/bin/vio4wd-core-scheduler \
	usr/lib/vio4wd/libvio4wd.so usr/lib/vio4wd/libcoreclr.so \
	lib/systemd/system/virtio-forwarder.service lib/systemd/system/vio4wd_core_scheduler.service \
	etc/default/virtioforwarder usr/share/bash-completion/completions/vio4wdctl \
	usr/lib/virtio-forwarder/virtioforwarder_port_control.py usr/lib/virtio-forwarder/virtioforwarder_config.py \
	usr/lib/virtio-forwarder/virtioforwarder.proto usr/lib64/virtio-forwarder/virtioforwarder_port_control.py \
	usr/share/man/man8/virtio-forwarder.8 usr/share/man/man8/vio4wdctl.8 usr/share/man/man8/vio4wd-core-scheduler.8; do
	[ -e "$DEST/$path" ] || fail "$path is missing"
done
[ "$(readlink "$DEST/usr/bin/virtio-forwarder")" = ../lib/vio4wd/virtio-forwarder ] || fail "usr/bin/virtio-forwarder is not a link into usr/lib/vio4wd"
# Self-contained: no dotnet on PATH is needed, and no SDK's files are referred to.
grep -q '"includedFrameworks"' "$DEST/usr/lib/vio4wd/virtio-forwarder.runtimeconfig.json" || fail "virtio-forwarder is not self-contained"
# ReadyToRun: the assemblies carry native code (a managed-only image has no R2R header).
grep -q RTR "$DEST/usr/lib/vio4wd/Vio4wd.Core.dll" || fail "Vio4wd.Core.dll is not ReadyToRun"
grep -q '^ExecStart=/usr/bin/virtio-forwarder ' "$DEST/lib/systemd/system/virtio-forwarder.service" || fail "the unit does not run /usr/bin/virtio-forwarder"
man -l "$DEST/usr/share/man/man8/virtio-forwarder.8" 2>/dev/null | grep -q -- '--check-config' || fail "the man page lacks --check-config"

# vio4wdctl's completion, as bash-completion loads it.
words=$(bash -c "source /usr/share/bash-completion/bash_completion; source '$DEST/usr/share/bash-completion/completions/vio4wdctl'
	COMP_WORDS=(vio4wdctl st); COMP_CWORD=1; COMP_LINE='vio4wdctl st'; COMP_POINT=\${#COMP_LINE}; _vio4wdctl; echo \"\${COMPREPLY[*]}\"
	COMP_WORDS=(vio4wdctl stats -o ''); COMP_CWORD=3; COMP_LINE='vio4wdctl stats -o '; COMP_POINT=\${#COMP_LINE}; _vio4wdctl; echo \"\${COMPREPLY[*]}\"")
[ "$words" = "$(printf 'status stats\ntable json flat')" ] || fail "vio4wdctl completion offered: $words"

# An existing config is the operator's: installing again keeps it byte for byte, puts the shipped
# one beside it and says so.
echo '# edited by the operator' >>"$DEST/etc/default/virtioforwarder"
cp "$DEST/etc/default/virtioforwarder" "$DEST/edited"
said=$(make -s -C "$ROOT" install-config PREFIX=/usr DESTDIR="$DEST")
cmp -s "$DEST/edited" "$DEST/etc/default/virtioforwarder" || fail "make install overwrote an existing /etc/default/virtioforwarder"
cmp -s "$ROOT/config/virtioforwarder" "$DEST/etc/default/virtioforwarder.new" || fail "the shipped config is not beside the kept one"
case $said in *"is kept"*) ;; *) fail "make install did not say it kept the config: $said" ;; esac
rm "$DEST/edited" "$DEST/etc/default/virtioforwarder.new"

# The programs, run with no dotnet on PATH.
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$DEST/usr/bin/virtio-forwarder" --version | grep -q '^Virtio-forwarder version' || fail "--version"
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$DEST/usr/bin/vio4wdctl" --version >/dev/null || fail "vio4wdctl --version"
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$DEST/usr/bin/vio4wd-core-scheduler" --help >/dev/null || fail "vio4wd-core-scheduler --help"

# The installed config, pointed at this machine: CPU 1, no hugepages, one net_null VF, paths in DEST.
config=$DEST/etc/default/virtioforwarder
run=$DEST/run
mkdir -p "$run"
sed -i -e "s|^VIRTIOFWD_CPU_MASK=.*|VIRTIOFWD_CPU_MASK=1|" \
	-e "s|^VIRTIOFWD_STATIC_VFS=.*|VIRTIOFWD_STATIC_VFS=(net_null0=0)|" \
	-e "s|^VIRTIOFWD_EAL_ARGS=.*|VIRTIOFWD_EAL_ARGS=\"--no-huge -m 256 --no-pci --file-prefix=$PREFIX_DPDK\"|" \
	-e "s|^VIRTIOFWD_SOCKET_DIR=.*|VIRTIOFWD_SOCKET_DIR=$run/sockets|" \
	-e "s|^VIRTIOFWD_PID_DIR=.*|VIRTIOFWD_PID_DIR=$run|" \
	-e "s|^VIRTIOFWD_CONTROL_SOCK=.*|VIRTIOFWD_CONTROL_SOCK=$run/control.sock|" \
	-e "s|^VIRTIOFWD_STATE_DIR=.*|VIRTIOFWD_STATE_DIR=$DEST/var/lib/vio4wd|" \
	-e "s|ipc:///var/run/virtio-forwarder/|ipc://$run/|" "$config"
"$DEST/usr/bin/virtio-forwarder" --check-config --config "$config" >/dev/null || fail "--check-config on the installed config"
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$DEST/usr/bin/virtio-forwarder" --config "$config" --nodaemon >"$DEST/daemon.log" 2>&1 &
DAEMON_PID=$!
for _ in $(seq 600); do
	if VIO4WD_CONTROL_SOCK=$run/control.sock "$DEST/usr/bin/vio4wdctl" describe 0 2>/dev/null | grep -q 'DeviceReady *True'; then
		ps -o comm= -p "$DAEMON_PID" | grep -qx virtio-forwarde || fail "the process is called $(ps -o comm= -p "$DAEMON_PID"), not virtio-forwarder"
		# The original's port control tool where os-vif runs it (lib64), run directly and by
		# python3: exit 0 on OK, 1 with the response in text format on a refusal.
		tool=$DEST/usr/lib64/virtio-forwarder/virtioforwarder_port_control.py
		env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$tool" remove --conditional --virtio-id=9 --pci-addr=0000:00:09.0 --zmq_ep="ipc://$run/port_control" \
			|| fail "$tool: a conditional remove of nothing did not exit 0"
		refused=$(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin python3 "$tool" remove --virtio-id=9 --pci-addr=0000:00:09.0 --zmq_ep="ipc://$run/port_control") \
			&& fail "$tool: a refused remove exited 0"
		case $refused in *'error_code: 4'*'error_code_source: "virtio_forwarder_remove_vf2()"'*) ;; *) fail "$tool: refused with: $refused" ;; esac
		echo "install-check: installed tree complete; the installed daemon relays net_null0 (DeviceReady=True); the original's port control tool answers at its lib64 path"
		exit 0
	fi
	kill -0 "$DAEMON_PID" 2>/dev/null || { cat "$DEST/daemon.log" >&2; fail "the installed daemon exited"; }
	sleep 0.1
done
cat "$DEST/daemon.log" >&2
fail "relay 0 never became DeviceReady"
