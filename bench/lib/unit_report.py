"""bench/units.py's figures: per size, the unit against its reference (the
same N nodes as N concurrent instance creates) measured in the same run,
as medians over the repeats with their range, and the ratio of medians."""

import json
import statistics

# (label, unit field, reference field): the reference has no parent task,
# so the unit's task end is compared with its instances all running too.
ROWS = [
    ("POST -> parent task done", "task_done_s", "running_s"),
    ("POST -> every node running", "running_s", "running_s"),
    ("POST -> every guest booted", "booted_s", "booted_s"),
    ("cleanup (DELETE -> done)", "cleanup_s", "cleanup_s"),
]


def _stat(values):
    if not values:
        return None
    return {
        "n": len(values),
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
    }


def summarise(trials: list[dict], sizes: list[int]) -> dict:
    out = {}
    for n in sizes:
        row = {}
        for kind in ("unit", "reference"):
            ok = [t for t in trials if t["n"] == n and t["kind"] == kind]
            good = [t for t in ok if t["ok"]]
            row[kind] = {"trials": len(ok), "ok": len(good)}
            for _, uf, rf in ROWS:
                f = uf if kind == "unit" else rf
                s = _stat([t[f] for t in good if t.get(f) is not None])
                if s:
                    row[kind][f] = s
            for f in ("daemons", "with_db_broker"):
                v = [t["cpu_ms"][f] for t in good if t.get("cpu_ms")]
                if v:
                    row[kind][f"cpu_ms_{f}"] = _stat(v)
        srv = [
            t["server"]
            for t in trials
            if t["n"] == n and t["ok"] and t.get("server")
        ]
        for f in ("last_node_s", "parent_s"):
            v = [x[f] for x in srv if f in x]
            if v:
                row["unit"][f"server_{f}"] = _stat(v)
        row["ratios"] = {}
        for label, uf, rf in ROWS:
            u, r = row["unit"].get(uf), row["reference"].get(rf)
            if u and r and r["median"] > 0:
                row["ratios"][label] = u["median"] / r["median"]
        out[str(n)] = row
    return out


def _fmt(s, unit="s") -> str:
    if not s:
        return "-"
    if unit == "ms":
        return f"{s['median']:.0f} ({s['min']:.0f}-{s['max']:.0f})"
    return f"{s['median']:.3f} ({s['min']:.3f}-{s['max']:.3f})"


def text(res: dict) -> str:
    lines = []
    p = lines.append
    a = res["args"]
    t = res.get("target", {})
    p(f"Unit create and cleanup vs N concurrent instances ({res['date']})")
    p(f"  command: {res['command']}")
    p(
        f"  code: {res['code'].get('commit')}  (arame/ uncommitted files: "
        f"{res['code'].get('arame_uncommitted')})"
    )
    where = t.get("driver")
    if where == "fake":
        where += (
            f" hva, spawn_delay {a['spawn_delay']:g} s, {a['hosts']} hosts, "
            f"{a['schedulers']} schedulers"
        )
    elif where == "libvirt":
        where += f" ({t.get('virt_type')} guests, flavor {a['flavor']})"
    p(
        f"  target: {where} at {t.get('api_url')}; poll {a['poll']:g} s; "
        f"repeat {a['repeat']}"
    )
    q = res.get("quiet")
    if q:
        p(
            f"  machine before the run: load average {q['load1']:.2f}"
            + ("" if q["quiet"] else " (never quiet within the wait)")
        )
    for n, row in res.get("summary", {}).items():
        u, r = row["unit"], row["reference"]
        p("")
        p(
            f"  {n} node(s): unit {u['ok']}/{u['trials']} ok, reference "
            f"{r['ok']}/{r['trials']} ok   median (min-max) s"
        )
        p(f"    {'':30s} {'unit':>24s} {'reference':>24s}  ratio")
        for label, uf, rf in ROWS:
            if uf not in u and rf not in r:
                continue
            ratio = row["ratios"].get(label)
            p(
                f"    {label:30s} {_fmt(u.get(uf)):>24s} "
                f"{_fmt(r.get(rf)):>24s}  "
                + (f"{ratio:.2f}x" if ratio else "-")
            )
        if "server_parent_s" in u:
            p(
                f"    {'server: last node / parent end':30s} "
                f"{_fmt(u.get('server_last_node_s')):>24s} / "
                f"{_fmt(u['server_parent_s'])}  (from the task's events)"
            )
        for f in ("daemons", "with_db_broker"):
            k = f"cpu_ms_{f}"
            if k in u or k in r:
                p(
                    f"    {'CPU ms, ' + f.replace('_', ' '):30s} "
                    f"{_fmt(u.get(k), 'ms'):>24s} {_fmt(r.get(k), 'ms'):>24s}"
                )
    pc = res.get("poll_cost")
    if pc:
        p("")
        if "error" in pc:
            p(f"  poll cost: failed: {pc['error']}")
        else:
            p(
                f"  one poll, {pc['requests']} sequential on the idle "
                f"deployment, over {pc['nodes']} nodes:"
            )
            for label, v in pc.items():
                if isinstance(v, dict):
                    cpu = v.get("api_cpu_ms")
                    p(
                        f"    {label:36s} {v['ms']:6.2f} ms"
                        + (
                            f"  API CPU {cpu:5.2f} ms"
                            if cpu is not None
                            else ""
                        )
                    )
    bad = [t for t in res.get("trials", []) if not t["ok"]]
    if bad:
        p("")
        p("  failed trials:")
        for t in bad:
            p(f"    {t['kind']} n={t['n']}: {t.get('error')}")
    errs = res.get("log_errors") or {}
    if errs:
        p("")
        p("  ERROR lines in the daemons' logs:")
        for name, e in errs.items():
            p(f"    {name}: {e['count']}  first: {e['first'][0][:150]}")
    if res.get("failure"):
        p("")
        p(f"  RUN FAILED: {res['failure']}")
    return "\n".join(lines)


def output(res: dict, as_json: bool, save: str | None) -> None:
    if save:
        with open(save, "w") as f:
            json.dump(res, f, indent=1, default=str)
    print(json.dumps(res, indent=1, default=str) if as_json else text(res))
