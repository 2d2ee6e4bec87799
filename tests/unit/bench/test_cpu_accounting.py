"""How the side-by-side run finds and sums the CPU it compares: the
servers by their listening port, the peer's processes by group."""

import os
import socket

from lib import listeners, peer_measure, resources


def test_listener_pid_is_the_process_holding_the_listening_socket():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert listeners.listener_pid(port) == os.getpid()
    assert listeners.listener_pid(port) is None


def test_group_meter_sums_the_processes_of_a_group(monkeypatch):
    monkeypatch.setattr(
        peer_measure, "infra_pids", lambda r, d: {9: "mariadbd"}
    )
    cpu = {1: 10.0, 2: 20.0, 3: 5.0, 9: 1.0, os.getpid(): 0.0}
    clock = iter([100.0, 110.0])
    # start() is CPUMeter's, stop() GroupCPUMeter's: patch both modules.
    for mod in (peer_measure, resources):
        monkeypatch.setattr(mod, "proc_cpu_seconds", cpu.get)
        monkeypatch.setattr(mod, "machine_cpu", lambda: (0, 100))
    monkeypatch.setattr(resources.time, "monotonic", lambda: next(clock))
    m = peer_measure.GroupCPUMeter(
        {1: "nova-compute (x2)", 2: "nova-compute (x2)", 3: "nova-api"}
    )
    m.start()
    cpu.update({1: 12.0, 2: 23.0, 3: 6.0, 9: 3.0, os.getpid(): 1.0})
    out = m.stop()
    assert out["wall_s"] == 10.0
    assert out["per_process_cores"] == {
        "nova-compute (x2)": 0.5,
        "mariadbd": 0.2,
        "nova-api": 0.1,
        "bench (load generator)": 0.1,
    }
