#!/bin/bash
# make demo: the main job on one machine with no hardware and no hugepages.
#   ovsdb-server (private)  <-  ovs-vsctl, as the user guide says
#   virtio-forwarder        VF = a kernel tap (net_tap) in namespace vio4wd-host
#   VM stand-in             dpdk-testpmd: net_virtio_user <-> a kernel tap in namespace vio4wd-vm
# then a ping from the "VM" to the "host" crosses the relay. Everything it starts is removed on
# exit, Ctrl-C included.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$ROOT/out/bin
WORK=$(mktemp -d /tmp/vio4wd-demo.XXXXXX)
PREFIX=vio4wd-demo-$$
VM_PREFIX=vio4wd-demo-vm-$$
HOST_NS=vio4wd-host
VM_NS=vio4wd-vm
VF_TAP=vio4wd-vf$$
VM_TAP=vio4wd-vm$$
PIDS=()

export VIO4WD_CONTROL_SOCK=$WORK/control.sock
VSCTL=(ovs-vsctl --db="unix:$WORK/db.sock" --no-wait --timeout=10)

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

cleanup() {
	local status=$?
	trap - EXIT INT TERM
	if [ "$status" != 0 ]; then
		for log in daemon vm; do
			[ -f "$WORK/$log.log" ] && { step "Last lines of the $log log"; tail -n 25 "$WORK/$log.log"; }
		done
	fi
	step "Cleaning up"
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null || true
	done
	ip netns del "$HOST_NS" 2>/dev/null || true
	ip netns del "$VM_NS" 2>/dev/null || true
	rm -rf "/var/run/dpdk/$PREFIX" "/var/run/dpdk/$VM_PREFIX" "$WORK"
	echo "done"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
	local seconds=$1 what=$2
	shift 2
	for _ in $(seq $((seconds * 10))); do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 0.1
	done
	echo "demo: timed out waiting for $what" >&2
	return 1
}

[ "$(id -u)" = 0 ] || { echo "demo: run as root (DPDK, taps and network namespaces)" >&2; exit 1; }
[ -x "$BIN/virtio-forwarder" ] || { echo "demo: run 'make build' first" >&2; exit 1; }
for ns in "$HOST_NS" "$VM_NS"; do
	if ip netns list | grep -qw "$ns"; then echo "demo: network namespace $ns exists (another demo running?)" >&2; exit 1; fi
done

step "A private ovsdb-server"
ovsdb-tool create "$WORK/conf.db" /usr/share/openvswitch/vswitch.ovsschema
ovsdb-server "$WORK/conf.db" --remote="punix:$WORK/db.sock" --unixctl="$WORK/ovsdb.ctl" \
	--no-chdir --log-file="$WORK/ovsdb.log" -vconsole:off &
PIDS+=($!)
wait_for 10 "ovsdb-server" test -S "$WORK/db.sock"
"${VSCTL[@]}" init
echo "listening on $WORK/db.sock"

step "virtio-forwarder (no hugepages), following that OVSDB"
# The demo's VF is a tap vdev, which an OVSDB row may name only with --allow-runtime-devargs
# (a real host names PCI addresses and leaves it off).
"$BIN/virtio-forwarder" --nodaemon --loglevel 5 -C 1 -V "$WORK/sockets" -O "unix:$WORK/db.sock" --allow-runtime-devargs \
	--pid-path "$WORK" --control-sock "$VIO4WD_CONTROL_SOCK" --state-dir "$WORK/state" \
	--eal-args "--no-huge -m 512 --no-pci --file-prefix=$PREFIX" > "$WORK/daemon.log" 2>&1 &
PIDS+=($!)
wait_for 60 "the daemon" test -S "$VIO4WD_CONTROL_SOCK"
# The control socket answers at once; the VM needs the relay's own socket.
wait_for 60 "relay 0's vhost-user socket" test -S "$WORK/sockets/virtio-forwarder0.sock"
grep -E "Starting|Forwarding" "$WORK/daemon.log" || true

step "The VM stand-in (dpdk-testpmd with net_virtio_user, bridged to a tap)"
stdbuf -oL dpdk-testpmd -l 0,1 --no-pci --no-huge -m 512 --single-file-segments --file-prefix="$VM_PREFIX" \
	--vdev "net_virtio_user0,path=$WORK/sockets/virtio-forwarder0.sock" --vdev "net_tap1,iface=$VM_TAP" \
	-- --forward-mode=io --auto-start --total-num-mbufs=4096 --stats-period=3600 < /dev/null > "$WORK/vm.log" 2>&1 &
PIDS+=($!)
# Not just its tap, which testpmd makes while it probes: its pools, ports and forwarding come after
# and took seconds on a cold first run, so pings sent at the tap's sight were lost (issue 24).
wait_for 60 "the VM stand-in to forward" grep -q 'packet forwarding - ports=' "$WORK/vm.log"

step "The user guide's command (the VF is a tap here, named in external_ids)"
run "${VSCTL[@]}" add-br br-virtio -- add-port br-virtio eth100 -- set interface eth100 \
	external_ids:virtio_forwarder=1 \
	"external_ids:virtio_forwarder_dev=\"net_tap0,iface=$VF_TAP\"" external_ids:virtio_forwarder_relay=0
run "$BIN/vio4wdctl" wait --for=ready 0 --timeout 60s

step "What the operator sees"
run "$BIN/vio4wdctl" status | head -3
run "${VSCTL[@]}" get interface eth100 external_ids

step "Ping from the VM's namespace to the host's, across the relay"
ip netns add "$HOST_NS"
ip netns add "$VM_NS"
ip link set "$VF_TAP" netns "$HOST_NS"
ip link set "$VM_TAP" netns "$VM_NS"
ip -n "$HOST_NS" addr add 10.199.0.1/24 dev "$VF_TAP"
ip -n "$VM_NS" addr add 10.199.0.2/24 dev "$VM_TAP"
ip -n "$HOST_NS" link set "$VF_TAP" up
ip -n "$VM_NS" link set "$VM_TAP" up
if ! run ip netns exec "$VM_NS" ping -c 5 -i 0.2 -W 2 10.199.0.1; then
	step "Where the pings went"
	"$BIN/vio4wdctl" stats --delay 0 -o flat 0 || true
	ip -n "$VM_NS" -s link show "$VM_TAP" || true
	ip -n "$HOST_NS" -s link show "$VF_TAP" || true
	ip -n "$VM_NS" neigh || true
	exit 1
fi

step "Counted by the relay"
echo "$ $BIN/vio4wdctl stats -o flat 0 | grep -E 'active|pkts_(rx|tx)'"
"$BIN/vio4wdctl" stats --delay 0 -o flat 0 | grep -E "active|pkts_(rx|tx)"

step "The demo worked"
