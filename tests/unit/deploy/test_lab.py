"""The lab's pieces that need no namespace: roles, the files each host
gets, the command line read back from its units, and the portal between
two sockets of this namespace."""

import configparser
import socket
import subprocess
import threading

import pytest

from arame.deploy.lab import portal, supervisor, topology, units
from tests.helpers.waiting import wait_until


def test_default_roles_controller_network_node_and_hypervisors():
    hosts = topology.default_roles(3)
    # nsa needs no hypervisor beside it: it plumbs the VXLAN port itself.
    assert [h.roles for h in hosts] == [
        ("controller", "storage", "network"),
        ("compute",),
        ("compute",),
    ]
    assert [h.name for h in hosts] == ["lab-h1", "lab-h2", "lab-h3"]
    assert hosts[2].mgmt_ip == "198.18.100.3"
    assert "compute" in topology.default_roles(2, True)[0].roles
    with pytest.raises(ValueError):
        topology.default_roles(1)


def test_daemons_follow_the_roles_agents_first():
    h1, h2, _ = topology.default_roles(3)
    assert units.daemons(h1) == [
        ("sta", "arame-sta"),
        ("nsa", "arame-nsa"),
        ("api", "arame-api"),
        ("scheduler", "arame-scheduler"),
        ("scheduler-2", "arame-scheduler"),
        ("collector", "arame-collector"),
    ]
    assert [n for n, _ in units.daemons(h2)] == ["hva"]


def test_units_are_the_repository_s_and_exec_start_honours_drop_ins(
    tmp_path,
):
    host = topology.default_roles(2)[1]
    units.write_units(str(tmp_path), host, "/opt/venv/bin")
    with (
        open(tmp_path / "arame-hva.service") as f,
        open(f"{units.UNIT_SOURCE}/arame-hva.service") as g,
    ):
        assert f.read() == g.read()
    assert units.exec_start(str(tmp_path), "arame-hva") == [
        "/opt/venv/bin/arame-hva",
        "--config-file",
        "/etc/arame/arame.conf",
    ]
    # Installed where the units expect it: no drop-in for the path.
    units.write_units(str(tmp_path), host, units.UNITS_BIN)
    assert units.exec_start(str(tmp_path), "arame-hva") == [
        "/usr/local/bin/arame-hva",
        "--config-file",
        "/etc/arame/arame.conf",
    ]


def test_config_is_shared_but_for_the_host(tmp_path):
    common = {"DEFAULT": {"transport_url": "rabbit://x"}, "hva": {"a": "1"}}
    texts = []
    for host in topology.default_roles(2):
        path = tmp_path / host.short / "arame.conf"
        units.write_config(str(path), common, host)
        assert oct(path.stat().st_mode & 0o777) == "0o600"
        cp = configparser.ConfigParser(interpolation=None)
        cp.read(path)
        assert cp["DEFAULT"]["host"] == host.name
        assert cp["hva"]["a"] == "1"
        texts.append(path.read_text().replace(host.name, "HOST"))
    assert texts[0] == texts[1]


def test_portal_forwards_both_ways():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    target = server.getsockname()[1]

    def echo():
        c, _ = server.accept()
        c.sendall(c.recv(100).upper())
        c.close()

    threading.Thread(target=echo, daemon=True).start()
    listener = portal.listen(("-", "127.0.0.1", 0))
    port = listener.getsockname()[1]
    threading.Thread(
        target=portal._serve,
        args=(listener, ("-", "127.0.0.1", target)),
        daemon=True,
    ).start()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
        c.sendall(b"hello")
        assert c.recv(100) == b"HELLO"
    assert portal.parse("lab-h1:198.18.100.1:5672=-:127.0.0.1:5672") == (
        ("lab-h1", "198.18.100.1", 5672),
        ("-", "127.0.0.1", 5672),
    )


def test_real_storage_gives_each_hypervisor_its_own_initiator(tmp_path):
    from arame.deploy.lab.lab import Lab

    lab = Lab(lab_dir=str(tmp_path), hosts=3, storage="zfs")
    h1, h2, h3 = lab.hosts
    # Fencing revokes one host's initiator: each hypervisor has its own.
    assert lab.own_config(h2) == {
        "libvirt": {"iscsi_initiator_address": "198.18.100.2"}
    }
    assert lab.own_config(h3) == {
        "libvirt": {"iscsi_initiator_address": "198.18.100.3"}
    }
    assert lab.own_config(h1) == {}
    sta = lab.common_config()["sta"]
    assert (sta["backend"], sta["target"], sta["pool"]) == (
        "zfs",
        "tgt",
        "alab-h1",
    )
    assert sta["iscsi_address"] == h1.mgmt_ip
    fake = Lab(lab_dir=str(tmp_path / "f"), hosts=3)
    assert fake.own_config(fake.hosts[1]) == {}
    assert "pool" not in fake.common_config()["sta"]
    with pytest.raises(ValueError):
        Lab(lab_dir=str(tmp_path / "x"), storage="nfs")


def test_a_supervised_process_is_alive_until_it_exits_even_as_a_zombie(
    monkeypatch,
):
    p = subprocess.Popen(["sleep", "30"])
    try:
        proc = supervisor.Proc("sleeper", p.pid, "/dev/null", "sleep")
        assert proc.alive()
        # Mid-exec (an empty command line for an instant) is not an exit.
        real_open = open

        def empty_cmdline(path, *args, **kw):
            if path == f"/proc/{p.pid}/cmdline":
                return real_open("/dev/null", "rb")
            return real_open(path, *args, **kw)

        monkeypatch.setattr("builtins.open", empty_cmdline)
        assert proc.alive()
        monkeypatch.undo()
        p.kill()
        # Not reaped yet: a zombie, which is gone.
        wait_until(
            lambda: supervisor._state(p.pid) == "Z", 10, "the sleeper dead"
        )
        assert not proc.alive()
    finally:
        p.kill()
        p.wait()
    assert not proc.alive()
