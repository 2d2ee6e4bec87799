"""The bench's deployment: start it and wait until every fake host can take
calls, stop it (timing each daemon), and read its logs for errors."""

import concurrent.futures
import os
import time

from arame.common import waiting
from arame.deploy import infra, local
from arame.sdk import Client

from .broker import rpc_queues_with_consumers
from .run import Deadline, log


def split(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def parse_overrides(items: list[str]) -> dict:
    conf: dict[str, dict] = {}
    for item in items:
        key, _, value = item.partition("=")
        section, _, opt = key.rpartition(".")
        if not opt or not _:
            raise SystemExit(f"--set {item!r}: expected SECTION.KEY=VALUE")
        conf.setdefault(section, {})[opt] = value
    return conf


def start_deployment(
    dep: local.LocalDeployment, args, deadline: Deadline
) -> dict:
    t0 = time.perf_counter()
    dep.prepare()
    t_prep = time.perf_counter()
    for i in range(1, args.collectors + 1):
        dep.start(
            "collector",
            f"collector-{i}",
            overlay={"DEFAULT": {"host": f"coll{i}"}},
        )
    for i in range(1, args.schedulers + 1):
        dep.start(
            "scheduler",
            f"scheduler-{i}",
            overlay={"DEFAULT": {"host": f"sched{i}"}},
        )
    for i, n in enumerate(split(args.hosts, args.hva_procs), 1):
        if n:
            dep.start(
                "hva",
                f"hva-{i}",
                overlay={
                    "DEFAULT": {"host": f"hva{i}"},
                    "fake_hva": {"host_count": n},
                },
            )
    # Instances on the shared network get their names from a naming agent
    # (fake driver: in memory) before they spawn.
    dep.start("nsa")
    dep.start("api")
    t_started = time.perf_counter()
    timeout = max(1.0, min(args.startup_timeout, deadline.left()))
    dep.wait_ready(timeout, hypervisors=0)
    t_api = time.perf_counter()
    token = dep.token()
    last_log = [0.0]

    def hosts_up():
        for name, d in dep.daemons.items():
            if not d.alive():
                raise infra.InfraError(f"{name} exited; see {d.log_path}")
        r = Client(dep.api_url, token=token, timeout=30)
        try:
            items = r.hosts._session.get("/v1/hosts")["items"]
        finally:
            r.close()
        up = sum(
            1 for h in items if h.get("hypervisor_type") and h["state"] == "up"
        )
        if time.monotonic() - last_log[0] > 10:
            last_log[0] = time.monotonic()
            log(f"  {up}/{args.hosts} hosts up")
        return up >= args.hosts

    waiting.wait_for(
        hosts_up,
        max(1.0, min(args.startup_timeout - (t_api - t0), deadline.left())),
        f"{args.hosts} fake hosts to report",
        interval=1.0,
    )
    t_hosts = time.perf_counter()

    # A host is "up" as soon as its process's first heartbeat lands, which
    # goes before the RPC servers start (arame/agents/hva/service.py); a
    # call to a host whose queue has no consumer yet would wait for its
    # deadline. So also wait until every hva.<host> queue has a consumer.
    with Client(dep.api_url, token=token, timeout=60) as c:
        names = [
            h["name"]
            for h in c.hosts._session.get("/v1/hosts")["items"]
            if h.get("hypervisor_type")
        ]
    last_log[0] = 0.0

    def consumers_ready():
        n = rpc_queues_with_consumers(
            dep.rabbit, dep.vhost, [f"hva.{h}" for h in names]
        )
        if time.monotonic() - last_log[0] > 10:
            last_log[0] = time.monotonic()
            log(f"  {n}/{len(names)} hva.<host> queues have a consumer")
        return n >= len(names)

    waiting.wait_for(
        consumers_ready,
        max(
            1.0,
            min(
                args.startup_timeout - (time.perf_counter() - t0),
                deadline.left(),
            ),
        ),
        "every fake host's RPC queue to have a consumer",
        interval=2.0,
    )
    t_queues = time.perf_counter()
    return {
        "prepare_s": t_prep - t0,
        "spawn_s": t_started - t_prep,
        "api_ready_s": t_api - t0,
        "hosts_up_s": t_hosts - t0,
        "rpc_ready_s": t_queues - t0,
        "token": token,
    }


def teardown(dep: local.LocalDeployment) -> dict:
    """Stop the daemons in LocalDeployment.down's order (API, then
    schedulers and collectors, then agents), each group in parallel, timing
    each stop; then down(drop=True) drops the vhost and the database.
    Returns {daemon: {"stop_s", "exit"}} (exit -9: it was SIGKILLed after
    the 30 s grace)."""
    out = {}
    groups = [["api"], ["scheduler", "collector"], None]
    names = list(dep.daemons)

    def stop(n):
        t = time.perf_counter()
        code = dep.stop(n)
        out[n] = {"stop_s": round(time.perf_counter() - t, 1), "exit": code}

    for roles in groups:
        batch = [n for n in names if roles is None or n.split("-")[0] in roles]
        names = [n for n in names if n not in batch]
        with concurrent.futures.ThreadPoolExecutor(max(1, len(batch))) as ex:
            list(ex.map(stop, batch))
    dep.down(drop=True)
    return out


def log_errors(log_dir: str, limit: int = 20) -> dict:
    out = {}
    if not os.path.isdir(log_dir):
        return out
    for name in sorted(os.listdir(log_dir)):
        try:
            with open(os.path.join(log_dir, name), errors="replace") as f:
                bad = [
                    line.rstrip()
                    for line in f
                    if " ERROR " in line
                    or " CRITICAL " in line
                    or line.startswith("Traceback")
                ]
        except OSError:
            continue
        if bad:
            out[name] = {"count": len(bad), "first": bad[:limit]}
    return out
