"""The recovery bench's result as text (a table per fault) or JSON."""

import json
import sys


def _s(v, fmt="{:.1f}", none="-") -> str:
    return none if v is None else fmt.format(v)


def table(faults: list[dict], target: float) -> list[str]:
    head = (
        f"{'fault':<12s}{'back s':>8s}{'affected':>10s}{'recovery s':>12s}"
        f"{'dip %':>8s}{'errors':>8s}{'not final':>11s}{'retries':>9s}"
    )
    out = [head, "-" * len(head)]
    for f in faults:
        rec = f.get("recovery_s")
        over = rec is None or rec > target
        out.append(
            f"{f['name']:<12s}{_s(f.get('back_s')):>8s}"
            f"{f.get('affected', 0):>10d}"
            f"{_s(rec, none='NOT FINAL'):>12s}"
            f"{_s(f.get('dip_pct'), '{:.0f}'):>8s}"
            f"{len(f.get('errors', ())):>8d}"
            f"{len(f.get('not_final', ())):>11d}"
            f"{f.get('retries', 0):>9d}"
            + ("  > target" if over and "failure" not in f else "")
            + (f"  FAILED: {f['failure']}" if "failure" in f else "")
        )
    return out


def _cpu(c: dict | None) -> str:
    if not c:
        return "n/a"
    return (
        f"machine {c['busy_cores']:.2f} cores busy, this run "
        f"{c['run_cores']:.2f}, others {c['other_cores']:.2f}; "
        f"loadavg {c['loadavg']}"
    )


def print_report(res: dict) -> None:
    p = print
    a = res["args"]
    p(f"Arame recovery benchmark, {res['date']}")
    m = res["machine"]
    load = [round(x, 2) for x in m.get("loadavg_at_start") or ()]
    p(
        f"machine: {m['cores']} cores, {m['memory_gib']} GiB, load average "
        f"at start {load}"
    )
    p(f"versions: {res.get('versions')}")
    code = res.get("code") or {}
    if code.get("commit"):
        dirty = code.get("arame_uncommitted")
        p(
            f"code: {code['commit']}"
            + (f" (+{dirty} uncommitted file(s) in arame/)" if dirty else "")
        )
    p(f"command: {res['command']}")
    infra = res.get("infra") or {}
    p(
        "broker and database: "
        + (
            "the machine's (shared)"
            if infra.get("shared")
            else f"the bench's own (RabbitMQ port {infra.get('rabbit_port')},"
            f" MariaDB port {infra.get('mariadb_port')})"
        )
    )
    dep = res.get("deployment") or {}
    if dep:
        p(f"deployment: {dep.get('name')}, state {dep.get('state_dir')}")
    p(
        f"load: boot+delete cycles, {a['concurrency']} at once, fake spawn "
        f"{a['spawn_delay']:g} s, polls every {a['poll']:g} s"
    )
    base = res.get("baseline")
    if base:
        p(
            f"baseline: {base['cycles_per_s']:.2f} cycles/s over "
            f"{base['seconds']:.0f} s before the first fault ({_cpu(base['cpu'])})"
        )
    end = res.get("baseline_after")
    if end:
        p(
            f"after the faults: {end['cycles_per_s']:.2f} cycles/s over "
            f"{end['seconds']:.0f} s ({_cpu(end['cpu'])})"
        )
    faults = res.get("faults") or []
    if faults:
        p("")
        p(
            f"per fault (recovery: kill -> last affected request final; "
            f"dip: cycles in the {a['window']:g} s after the kill vs the "
            f"baseline; target recovery <= {a['target']:g} s):"
        )
        for line in table(faults, a["target"]):
            p("  " + line)
        for f in faults:
            _details(p, f)
    load = res.get("load") or {}
    if load:
        p("")
        p(
            f"load in all: {load['cycles']} cycles ({load['cycles_ok']} "
            f"succeeded), {load['requests']} requests: {load['outcomes']}"
        )
        for c in load.get("crashed", [])[:5]:
            p(f"  load generator error: {c}")
    if res.get("teardown"):
        p("")
        p(
            "teardown: "
            + ", ".join(
                f"{n} {t['stop_s']:.1f} s"
                + (" KILLED" if t["exit"] == -9 else "")
                for n, t in res["teardown"].items()
            )
        )
    if "log_errors" in res:
        p("")
        if not res["log_errors"]:
            p("deployment logs: no ERROR lines")
        for name, info in res["log_errors"].items():
            p(f"deployment log {name}: {info['count']} ERROR/Traceback lines")
    if res.get("failure"):
        p("")
        p(f"RUN FAILED: {res['failure']}")


def _details(p, f: dict) -> None:
    p("")
    p(f"  {f['name']}: {f.get('fault', '')}")
    if f.get("affected_kinds"):
        p(f"    affected: {f['affected_kinds']}; {_cpu(f.get('cpu'))}")
    slow = f.get("slowest")
    if slow:
        p(
            f"    slowest: {slow['kind']} {slow['resource']} (task "
            f"{slow['task']}) sent {_s(slow['sent'])} s, accepted "
            f"{_s(slow['accepted'])} s, final {_s(slow['final'])} s after "
            f"the kill: {slow['outcome']}"
            + (f" ({slow['error']})" if slow.get("error") else "")
        )
    for r in f.get("errors", [])[:5]:
        p(
            f"    error: {r['kind']} {r['resource']}: {r['outcome']} {r['error']}"
        )
    for r in f.get("not_final", [])[:5]:
        p(
            f"    not final: {r['kind']} {r['resource']} (task {r['task']}) "
            f"{r['outcome'] or 'still waiting'}"
        )


def output(res: dict, as_json: bool, save: str | None) -> None:
    if save:
        with open(save, "w") as f:
            json.dump(res, f, indent=2, default=str)
    if as_json:
        json.dump(res, sys.stdout, indent=2, default=str)
        print()
    else:
        print_report(res)
