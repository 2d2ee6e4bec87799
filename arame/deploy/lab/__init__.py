"""`tools/lab up|down|status --hosts N`: Arame on N hosts of one machine.

Each host is a set of namespaces (topology.py) running the daemons of its
roles with the command lines of the systemd units an operator installs
(units.py, supervisor.py), from one arame.conf with the host's own
`[DEFAULT] host`; libvirtd runs on each compute host, its taps and the
tenant bridges in that host's namespace, joined to the other hosts by
VXLAN over the lab's underlay. lab.py puts it together; portal.py connects
the lab to this machine's broker, database and loopback.
doc/source/admin/many-hosts.rst, "The multi-host lab", is the user's guide.
"""
