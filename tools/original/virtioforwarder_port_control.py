#!/bin/sh
# virtio-forwarder's port control tool at the original's path, with its command line (OP
# add|remove|add_sock|remove_sock|query_pci, --pci-addr (repeatable), --vhost-path, --virtio-id,
# --name, --mode, --conditional, --zmq_ep), output and exit codes: 0 on OK (the query string
# printed, if any); 1 on a refused request (the response in protobuf text format) or no answer
# within 2 s. os-vif's agilio_ovs plug runs it as
#   /usr/lib64/virtio-forwarder/virtioforwarder_port_control.py add_sock --pci-addr=VF --vhost-path=SOCKET
#
# It hands the command line to `vio4wdctl port`, which speaks the protocol (one implementation,
# tested against the daemon), so no python3-zmq or python3-protobuf is needed. The file is valid
# sh (run directly) and Python (`python3 virtioforwarder_port_control.py ...`): sh runs the lines
# below up to the exec; Python reads them as a string and runs what follows it.
''':'
here=$(dirname "$(readlink -f "$0")")
for ctl in "${VIO4WDCTL:-}" "$here/../vio4wd/vio4wdctl" /usr/bin/vio4wdctl; do
	if [ -n "$ctl" ] && [ -x "$ctl" ]; then exec "$ctl" port "$@"; fi
done
exec vio4wdctl port "$@"
# sh stops at the exec; the rest is a here-document to sh (so `sh -n` passes) and code to Python.
: <<'PYTHON'
'''
import os
import sys

here = os.path.dirname(os.path.realpath(__file__))
for ctl in (os.environ.get("VIO4WDCTL"), os.path.join(here, "..", "vio4wd", "vio4wdctl"), "/usr/bin/vio4wdctl", "vio4wdctl"):
    if ctl and (os.access(ctl, os.X_OK) or ctl == "vio4wdctl"):
        os.execvp(ctl, [ctl, "port", *sys.argv[1:]])
PYTHON
