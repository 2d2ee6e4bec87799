"""CPU per process between two instants (from /proc), and a `top` snapshot."""

import os
import subprocess
import time

from arame.deploy import local

from .listeners import listener_pid

CLK_TCK = os.sysconf("SC_CLK_TCK")


def proc_cpu_seconds(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime
    except (OSError, IndexError, ValueError):
        return None


def machine_cpu() -> tuple[float, float]:
    """(busy, total) jiffies summed over every CPU."""
    with open("/proc/stat") as f:
        vals = [int(x) for x in f.readline().split()[1:]]
    idle = vals[3] + vals[4]
    total = sum(vals[:8])
    return total - idle, total


def pids_by_comm(names: set[str]) -> dict[int, str]:
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/comm") as f:
                comm = f.read().strip()
        except OSError:
            continue
        if comm in names:
            out[int(d)] = comm
    return out


def infra_pids(
    rabbit_port: int, db_port: int, private: int | None = None
) -> dict[int, str]:
    """{pid: comm} of the broker and the database the run uses (and of the
    machine broker beside a private one): the servers listening on their
    ports. The machine may run other brokers and MariaDBs (tests' private
    nodes, a galera cluster) whose CPU is not the run's; only if no
    listener is found, every beam.smp and mariadbd is taken."""
    ours = {listener_pid(rabbit_port), listener_pid(db_port)}
    if private is not None:
        ours.add(listener_pid(5672))
    ours.discard(None)
    found = pids_by_comm({"mariadbd", "mysqld", "beam.smp"})
    return {pid: c for pid, c in found.items() if not ours or pid in ours}


class CPUMeter:
    """CPU seconds each process of interest used between start() and stop()."""

    def __init__(self, dep: local.LocalDeployment):
        self.procs: dict[int, str] = {
            d.pid: name for name, d in dep.daemons.items()
        }
        private = getattr(dep.rabbit, "beam_pid", lambda: None)()
        for pid, comm in infra_pids(
            dep.rabbit.port, dep.mariadb.port, private
        ).items():
            if comm == "beam.smp":
                comm = (
                    "beam.smp (bench's broker)"
                    if pid == private
                    else "beam.smp (machine broker)"
                    if private
                    else comm
                )
            self.procs[pid] = comm
        self.procs[os.getpid()] = "bench (load generator)"

    def start(self) -> None:
        self.t0 = time.monotonic()
        self.m0 = machine_cpu()
        self.c0 = {pid: proc_cpu_seconds(pid) for pid in self.procs}

    def stop(self) -> dict:
        wall = time.monotonic() - self.t0
        busy1, total1 = machine_cpu()
        busy = (busy1 - self.m0[0]) / max(1, total1 - self.m0[1])
        per = {}
        for pid, name in self.procs.items():
            c1 = proc_cpu_seconds(pid)
            if c1 is not None and self.c0.get(pid) is not None:
                per[name] = round((c1 - self.c0[pid]) / wall, 3)
        accounted = sum(per.values())
        ncpu = os.cpu_count() or 1
        return {
            "wall_s": round(wall, 2),
            "cores": ncpu,
            "machine_busy_fraction": round(busy, 3),
            "machine_busy_cores": round(busy * ncpu, 3),
            "per_process_cores": dict(
                sorted(per.items(), key=lambda kv: -kv[1])
            ),
            "other_cores": round(max(0.0, busy * ncpu - accounted), 3),
        }


def top_snapshot() -> list[str]:
    """The second frame of `top` (the first one averages since boot)."""
    try:
        out = subprocess.run(
            ["top", "-b", "-c", "-n", "2", "-d", "1", "-w", "180"],
            capture_output=True,
            text=True,
            timeout=15,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    frames = out.split("\ntop - ")
    lines = frames[-1].splitlines()
    # Summary lines, the header, and the busiest processes.
    return [line.rstrip() for line in lines[:20]]
