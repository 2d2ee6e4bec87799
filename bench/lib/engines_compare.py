"""The same cycles on the single broker and database and on the clustered
engines: the figures compared, the ratios and their text. Pure: no
processes, no clock."""

import textwrap

LOAD_GENERATOR = "bench (load generator)"


def kind_of(name: str) -> str:
    """Which part of the controller a CPU line belongs to."""
    if name == LOAD_GENERATOR:
        return "load_generator"
    if name.startswith("beam.smp"):
        return "broker"
    if name.startswith(("mariadbd", "mysqld", "haproxy", "galera_check")):
        return "database"
    return "control_plane"


def cpu_split(cpu_ms_per_cycle: dict[str, float]) -> dict[str, float]:
    """ms of CPU per completed cycle by part, and their sum."""
    out = dict.fromkeys(
        ("control_plane", "database", "broker", "load_generator"), 0.0
    )
    for name, ms in cpu_ms_per_cycle.items():
        out[kind_of(name)] += ms
    out = {k: round(v, 1) for k, v in out.items()}
    out["engines"] = round(out["database"] + out["broker"], 1)
    out["total"] = round(sum(cpu_ms_per_cycle.values()), 1)
    return out


def side(res: dict | None) -> dict | None:
    """The compared figures of one sitting's result."""
    load = (res or {}).get("load")
    if not load:
        return None
    cpu = res.get("cpu") or {}
    running = load.get("api_to_running_ms") or {}
    per_cycle = cpu.get("cpu_ms_per_cycle") or {}
    return {
        "cycles_ok": load["cycles_ok"],
        "cycles_attempted": load["cycles_attempted"],
        "success_rate": load["success_rate"],
        "cycles_per_s": load["cycles_per_s"],
        "api_to_running_p50_ms": running.get("p50"),
        "api_to_running_p95_ms": running.get("p95"),
        "delete_p50_ms": (load.get("delete_ms") or {}).get("p50"),
        "cpu_ms_per_cycle": cpu_split(per_cycle),
        "engine_processes": sorted(
            n for n in per_cycle if kind_of(n) in ("database", "broker")
        ),
        "other_cores": cpu.get("other_cores"),
        "idle_cores": idle_split(
            (res.get("idle_cpu") or {}).get("per_process_cores") or {}
        ),
    }


def idle_split(cores: dict[str, float]) -> dict[str, float] | None:
    """Cores used with no cycle running, by part (None: not measured)."""
    if not cores:
        return None
    out = dict.fromkeys(
        ("control_plane", "database", "broker", "load_generator"), 0.0
    )
    for name, c in cores.items():
        out[kind_of(name)] += c
    out = {k: round(v, 3) for k, v in out.items()}
    out["engines"] = round(out["database"] + out["broker"], 3)
    return out


def _over(a, b):
    return a / b if a and b else None


def ratios(single: dict | None, cluster: dict | None) -> dict:
    """Cluster ÷ single for every figure: throughput < 1 and p50 or CPU
    > 1 are what the clusters cost."""
    if not single or not cluster:
        return {}
    sc, cc = single["cpu_ms_per_cycle"], cluster["cpu_ms_per_cycle"]
    out = {
        "throughput": _over(cluster["cycles_per_s"], single["cycles_per_s"]),
        "api_to_running_p50": _over(
            cluster["api_to_running_p50_ms"], single["api_to_running_p50_ms"]
        ),
        "api_to_running_p95": _over(
            cluster["api_to_running_p95_ms"], single["api_to_running_p95_ms"]
        ),
        "delete_p50": _over(cluster["delete_p50_ms"], single["delete_p50_ms"]),
    }
    for k in sc:
        out[f"cpu_per_cycle_{k}"] = _over(cc[k], sc[k])
    return out


def compare(single_res: dict | None, cluster_res: dict | None) -> dict:
    single, cluster = side(single_res), side(cluster_res)
    return {
        "single": single,
        "cluster": cluster,
        "ratios": ratios(single, cluster),
    }


def _fmt(v, spec: str) -> str:
    return "n/a" if v is None else format(v, spec)


def _x(v) -> str:
    return "n/a" if v is None else f"{v:.2f}x"


ROWS = [
    ("boot+delete cycles/s", "cycles_per_s", ".2f", "throughput"),
    (
        "API->running p50 ms",
        "api_to_running_p50_ms",
        ".0f",
        "api_to_running_p50",
    ),
    (
        "API->running p95 ms",
        "api_to_running_p95_ms",
        ".0f",
        "api_to_running_p95",
    ),
    ("delete p50 ms", "delete_p50_ms", ".0f", "delete_p50"),
    ("success rate", "success_rate", ".3f", None),
]
CPU_ROWS = [
    ("CPU ms per cycle, all counted", "total"),
    ("  control plane (daemons)", "control_plane"),
    ("  engines", "engines"),
    ("    database (+haproxy, check)", "database"),
    ("    broker", "broker"),
    ("  load generator", "load_generator"),
]


def format_comparison(cmp: dict, args: dict) -> list[str]:
    s, c, r = cmp.get("single"), cmp.get("cluster"), cmp.get("ratios") or {}
    out = [
        f"single vs clustered engines: {args['hosts']} fake hosts, "
        f"{args['cycles']} cycles at concurrency {args['concurrency']} "
        f"after {args['warmup']} untimed, one sitting after the other",
    ]
    if not s or not c:
        out.append(
            f"  incomplete: single {'ok' if s else 'missing'}, "
            f"cluster {'ok' if c else 'missing'}"
        )
    out.append(f"  {'':<34s}{'single':>10s}{'cluster':>10s}  cluster/single")

    def row(label, sv, cv, spec, ratio, has_ratio=True):
        out.append(
            f"  {label:<34s}{_fmt(sv, spec):>10s}{_fmt(cv, spec):>10s}"
            f"  {_x(ratio) if has_ratio else ''}"
        )

    for label, key, spec, ratio in ROWS:
        row(
            label,
            s.get(key) if s else None,
            c.get(key) if c else None,
            spec,
            r.get(ratio) if ratio else None,
            ratio is not None,
        )
    for label, key in CPU_ROWS:
        row(
            label,
            s["cpu_ms_per_cycle"][key] if s else None,
            c["cpu_ms_per_cycle"][key] if c else None,
            ".1f",
            r.get(f"cpu_per_cycle_{key}"),
        )
    for label, key in (
        ("idle: engines (cores)", "engines"),
        ("idle: control plane (cores)", "control_plane"),
    ):
        row(
            label,
            (s.get("idle_cores") or {}).get(key) if s else None,
            (c.get("idle_cores") or {}).get(key) if c else None,
            ".3f",
            None,
            False,
        )
    row(
        "other processes (cores)",
        s.get("other_cores") if s else None,
        c.get("other_cores") if c else None,
        ".2f",
        None,
        False,
    )
    counted = (
        "CPU: utime+stime from /proc over the timed cycles per completed "
        "cycle. Single: the machine's mariadbd and beam.smp (shared: what "
        "others asked of them meanwhile is in it). Cluster: "
        + ", ".join((c or {}).get("engine_processes") or ["n/a"])
        + " (the run's own)."
    )
    out += textwrap.wrap(
        counted, 78, initial_indent="  ", subsequent_indent="    "
    )
    return [line.rstrip() for line in out]
