"""Nova's side of `control_plane.py --peer nova`: up, warm-up, the timed
cycles with the CPU of every process counted, down."""

import os
import time

from . import nova_load
from .nova_peer import API_URL, DEFAULT_DIR, VERSIONS, NovaPeer
from .resources import CPUMeter, infra_pids, machine_cpu, proc_cpu_seconds
from .run import Deadline, log

__all__ = ["DEFAULT_DIR", "install", "measure"]
INSTALL_TIMEOUT = 1200.0


class GroupCPUMeter(CPUMeter):
    """CPUMeter over {pid: group}, the CPU of a group's processes summed
    (Nova's services fork workers; 50 computes are one group). The broker,
    the database (the machine's, which nova-peer.sh uses) and this process
    are found and named as CPUMeter finds and names them, so both sides of
    the comparison count the same things."""

    def __init__(
        self,
        procs: dict[int, str],
        rabbit_port: int = 5672,
        db_port: int = 3306,
    ):
        self.procs = dict(procs)
        for pid, comm in infra_pids(rabbit_port, db_port).items():
            self.procs[pid] = comm
        self.procs[os.getpid()] = "bench (load generator)"

    def stop(self) -> dict:
        wall = time.monotonic() - self.t0
        busy1, total1 = machine_cpu()
        busy = (busy1 - self.m0[0]) / max(1, total1 - self.m0[1])
        per: dict[str, float] = {}
        for pid, name in self.procs.items():
            c1 = proc_cpu_seconds(pid)
            if c1 is not None and self.c0.get(pid) is not None:
                per[name] = per.get(name, 0.0) + (c1 - self.c0[pid]) / wall
        per = {k: round(v, 3) for k, v in per.items()}
        ncpu = os.cpu_count() or 1
        return {
            "wall_s": round(wall, 2),
            "cores": ncpu,
            "machine_busy_fraction": round(busy, 3),
            "machine_busy_cores": round(busy * ncpu, 3),
            "per_process_cores": dict(
                sorted(per.items(), key=lambda kv: -kv[1])
            ),
            "other_cores": round(max(0.0, busy * ncpu - sum(per.values())), 3),
        }


def install(args) -> None:
    """Before the sitting: a first install takes minutes and must not eat
    either side's time."""
    NovaPeer(args.peer_dir, args.hosts).install(INSTALL_TIMEOUT)


def measure(args, deadline: Deadline) -> dict:
    """{"versions", "startup_s", "warmup", "load", "cpu"} of the peer, and
    "failure" if it stopped short (what was measured until then is kept);
    it is brought down whatever happens."""
    peer = NovaPeer(args.peer_dir, args.hosts)
    out: dict = {
        "name": "nova",
        "versions": dict(VERSIONS),
        "peer_dir": peer.dir,
        "computes": args.hosts,
        "poll_s": args.peer_poll,
        "oslo_messaging_reply_fix": True,
    }
    # A run killed earlier may have left its peer up: `up` refuses then.
    peer.down()
    try:
        log(f"nova: up with {args.hosts} fake computes ...")
        t0 = time.monotonic()
        peer.up(deadline.left())
        out["startup_s"] = round(time.monotonic() - t0, 1)
        log(f"nova: up in {out['startup_s']} s")
        nova_load.ensure_flavor(API_URL)
        if args.warmup:
            log(f"nova warm-up: {args.warmup} cycles")
            wrec, wwall = nova_load.run_load(
                API_URL, args.warmup, args, deadline, "warm"
            )
            w = nova_load.analyse(wrec, wwall, args.warmup)
            out["warmup"] = {
                k: w[k]
                for k in ("cycles_ok", "cycles_attempted", "cycles_per_s")
            }
        log(f"nova load: {args.cycles} cycles at {args.concurrency}")
        meter = GroupCPUMeter(peer.processes())
        meter.start()
        rec, wall = nova_load.run_load(
            API_URL, args.cycles, args, deadline, "bench"
        )
        cpu = meter.stop()
        load = nova_load.analyse(rec, wall, args.cycles)
        if load["cycles_ok"]:
            cpu["cpu_ms_per_cycle"] = {
                k: round(v * cpu["wall_s"] * 1000 / load["cycles_ok"], 1)
                for k, v in cpu["per_process_cores"].items()
            }
        out["load"], out["cpu"] = load, cpu
    except BaseException as e:  # noqa: B902 - keep what was measured
        out["failure"] = f"{type(e).__name__}: {e}"
    finally:
        log("nova: down (its processes, databases, vhost) ...")
        try:
            peer.down()
        except Exception as e:
            out["teardown_error"] = f"{type(e).__name__}: {e}"
    return out
