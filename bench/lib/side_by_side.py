"""Arame beside a peer (Nova): what the CPU per cycle sums, the ratios,
and the text of the comparison. Pure: no processes, no clock."""

import textwrap

# What the CPU of a cycle is made of, on both sides. The broker and the
# database are the machine's own on both sides (shared, so anything else
# using them in the same seconds is counted too, on both sides alike);
# the load generator is this process on both sides.
INFRA = ("mariadbd", "mysqld")
LOAD_GENERATOR = "bench (load generator)"


def is_broker(name: str) -> bool:
    return name.startswith("beam.smp")


def is_control_plane(name: str) -> bool:
    return not (name == LOAD_GENERATOR or name in INFRA or is_broker(name))


def cpu_split(cpu_ms_per_cycle: dict[str, float]) -> dict[str, float]:
    """ms of CPU per completed cycle: the control plane's own processes,
    database + broker, the load generator, and their sum."""
    own = infra = gen = 0.0
    for name, ms in cpu_ms_per_cycle.items():
        if name == LOAD_GENERATOR:
            gen += ms
        elif name in INFRA or is_broker(name):
            infra += ms
        else:
            own += ms
    return {
        "control_plane": round(own, 1),
        "database_and_broker": round(infra, 1),
        "load_generator": round(gen, 1),
        "total": round(own + infra + gen, 1),
    }


def side(load: dict | None, cpu: dict | None) -> dict | None:
    """The figures compared, from one side's load and cpu results."""
    if not load:
        return None
    running = load.get("api_to_running_ms") or {}
    per_cycle = (cpu or {}).get("cpu_ms_per_cycle") or {}
    return {
        "cycles_ok": load["cycles_ok"],
        "cycles_attempted": load["cycles_attempted"],
        "success_rate": load["success_rate"],
        "cycles_per_s": load["cycles_per_s"],
        "api_to_running_p50_ms": running.get("p50"),
        "api_to_running_p95_ms": running.get("p95"),
        "delete_p50_ms": (load.get("delete_ms") or {}).get("p50"),
        "http_requests_per_cycle": load.get("http_requests_per_cycle"),
        "cpu_ms_per_cycle": cpu_split(per_cycle),
        "control_plane_processes": sorted(
            n for n in per_cycle if is_control_plane(n)
        ),
    }


def _over(a, b):
    return a / b if a and b else None


def ratios(arame: dict | None, peer: dict | None) -> dict:
    """Each 'how many times better Arame is': > 1 means Arame is ahead.
    Throughput Arame/peer; p50 and CPU per cycle peer/Arame (less is
    better)."""
    if not arame or not peer:
        return {}
    ac, pc = arame["cpu_ms_per_cycle"], peer["cpu_ms_per_cycle"]
    return {
        "throughput": _over(arame["cycles_per_s"], peer["cycles_per_s"]),
        "api_to_running_p50": _over(
            peer["api_to_running_p50_ms"], arame["api_to_running_p50_ms"]
        ),
        "cpu_per_cycle_total": _over(pc["total"], ac["total"]),
        "cpu_per_cycle_control_plane": _over(
            pc["control_plane"], ac["control_plane"]
        ),
    }


def compare(res: dict) -> dict:
    """res["side_by_side"]: both sides' figures and the ratios."""
    arame = side(res.get("load"), res.get("cpu"))
    peer_res = res.get("peer") or {}
    peer = side(peer_res.get("load"), peer_res.get("cpu"))
    return {"arame": arame, "peer": peer, "ratios": ratios(arame, peer)}


def _fmt(v, spec: str) -> str:
    return "n/a" if v is None else format(v, spec)


def _x(v) -> str:
    return "n/a" if v is None else f"{v:.1f}x"


def format_comparison(
    sbs: dict, peer_name: str, args: dict, peer_info: dict
) -> list[str]:
    """The side-by-side table and what it counts, as lines of text."""
    a, p, r = sbs.get("arame"), sbs.get("peer"), sbs.get("ratios") or {}
    title = peer_name.capitalize()
    versions = ", ".join(
        f"{k} {v}" for k, v in (peer_info.get("versions") or {}).items()
    )
    out = [
        f"side by side with {title} ({versions}): {args['hosts']} fake "
        f"hosts each, {args['cycles']} cycles at concurrency "
        f"{args['concurrency']}, after {args['warmup']} untimed cycles; same "
        "machine, broker and database, one after the other",
        f"  Arame's tasks are long-polled (GET /v1/tasks/{{id}}?wait=); "
        f"{title}'s servers are polled every "
        f"{peer_info.get('poll_s', 0) * 1000:.0f} ms (it has no long poll)",
    ]
    if not a or not p:
        out.append(
            f"  incomplete: Arame {'ok' if a else 'missing'}, "
            f"{title} {'ok' if p else 'missing'}"
        )
    rows = [
        ("boot+delete cycles/s", "cycles_per_s", ".2f", "throughput"),
        (
            "API->running p50 ms",
            "api_to_running_p50_ms",
            ".0f",
            "api_to_running_p50",
        ),
        ("API->running p95 ms", "api_to_running_p95_ms", ".0f", None),
        ("delete p50 ms", "delete_p50_ms", ".0f", None),
        ("success rate", "success_rate", ".3f", None),
        ("HTTP requests per cycle", "http_requests_per_cycle", ".1f", None),
    ]
    out.append(f"  {'':<34s}{'Arame':>10s}{title:>10s}  Arame ahead by")
    for label, key, spec, ratio in rows:
        av = a.get(key) if a else None
        pv = p.get(key) if p else None
        rv = _x(r.get(ratio)) if ratio else ""
        out.append(
            f"  {label:<34s}{_fmt(av, spec):>10s}{_fmt(pv, spec):>10s}  {rv}"
        )
    cpu_rows = [
        ("CPU ms per cycle, all counted", "total", "cpu_per_cycle_total"),
        (
            "  the control plane's processes",
            "control_plane",
            "cpu_per_cycle_control_plane",
        ),
        ("  database + broker", "database_and_broker", None),
        ("  load generator", "load_generator", None),
    ]
    for label, key, ratio in cpu_rows:
        av = a["cpu_ms_per_cycle"][key] if a else None
        pv = p["cpu_ms_per_cycle"][key] if p else None
        rv = _x(r.get(ratio)) if ratio else ""
        out.append(
            f"  {label:<34s}{_fmt(av, '.1f'):>10s}{_fmt(pv, '.1f'):>10s}  {rv}"
        )
    counted = (
        "CPU counted: utime+stime from /proc over the timed cycles, per "
        "completed cycle. Arame: "
        + ", ".join((a or {}).get("control_plane_processes") or ["n/a"])
        + f". {title}: "
        + ", ".join((p or {}).get("control_plane_processes") or ["n/a"])
        + " (each the whole tree of processes the service forked). "
        "Both: mariadbd and RabbitMQ's beam.smp (the machine's, shared: "
        "what anything else asked of them meanwhile is in it, on both "
        "sides) and this process (the load generator)."
    )
    out += textwrap.wrap(
        counted, 78, initial_indent="  ", subsequent_indent="    "
    )
    return [line.rstrip() for line in out]


def format_peer(peer: dict) -> list[str]:
    """The peer's own run: start-up, load and CPU per process group."""
    title = peer.get("name", "peer").capitalize()
    out = [
        f"{title} peer: {peer.get('computes')} fake computes, state "
        f"{peer.get('peer_dir')}; oslo.messaging reply wait fixed: "
        f"{peer.get('oslo_messaging_reply_fix')}; up in "
        f"{_fmt(peer.get('startup_s'), '.0f')} s"
    ]
    load, cpu = peer.get("load"), peer.get("cpu") or {}
    if load:
        out.append(
            f"  {load['cycles_ok']}/{load['cycles_attempted']} cycles ok in "
            f"{load['wall_s']:.1f} s: {load['cycles_per_s']:.2f} cycles/s"
        )
        for reason, n in load["errors"].items():
            out.append(f"    {n:5d} x {reason}")
    per_cycle = cpu.get("cpu_ms_per_cycle") or {}
    if cpu:
        out.append(
            f"  CPU during the load: machine busy "
            f"{100 * cpu['machine_busy_fraction']:.0f} %"
        )
        for name, cores in cpu["per_process_cores"].items():
            ms = per_cycle.get(name)
            extra = f"  {ms:7.1f} ms CPU per cycle" if ms is not None else ""
            out.append(f"    {name:<28s}{cores:5.2f} cores{extra}")
        out.append(
            f"    {'(other processes)':<28s}{cpu['other_cores']:5.2f} cores"
        )
    if peer.get("failure"):
        out.append(f"  {title} FAILED: {peer['failure']}")
    if peer.get("teardown_error"):
        out.append(f"  {title} teardown: {peer['teardown_error']}")
    return out
