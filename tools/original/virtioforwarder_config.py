#!/bin/sh
# virtio-forwarder's config tool at the original's path: asks the ZMQ config service
# (--config-ep, default ipc:///var/run/virtio-forwarder/config) and prints its ConfigResponse in
# protobuf text format, as the original did; exit 1 when no answer comes within 2 s.
#
# It hands the command line to `vio4wdctl config --config-ep`. Valid sh and Python, as
# virtioforwarder_port_control.py beside it.
''':'
here=$(dirname "$(readlink -f "$0")")
case " $* " in *" --config-ep"*) ;; *) set -- --config-ep ipc:///var/run/virtio-forwarder/config "$@" ;; esac
for ctl in "${VIO4WDCTL:-}" "$here/../vio4wd/vio4wdctl" /usr/bin/vio4wdctl; do
	if [ -n "$ctl" ] && [ -x "$ctl" ]; then exec "$ctl" config "$@"; fi
done
exec vio4wdctl config "$@"
# sh stops at the exec; the rest is a here-document to sh (so `sh -n` passes) and code to Python.
: <<'PYTHON'
'''
import os
import sys

here = os.path.dirname(os.path.realpath(__file__))
args = sys.argv[1:]
if not any(a == "--config-ep" or a.startswith("--config-ep=") for a in args):
    args = ["--config-ep", "ipc:///var/run/virtio-forwarder/config", *args]
for ctl in (os.environ.get("VIO4WDCTL"), os.path.join(here, "..", "vio4wd", "vio4wdctl"), "/usr/bin/vio4wdctl", "vio4wdctl"):
    if ctl and (os.access(ctl, os.X_OK) or ctl == "vio4wdctl"):
        os.execvp(ctl, [ctl, "config", *args])
PYTHON
