"""The result as text (and as JSON: on stdout, or to a file)."""

import json
import os
import sys


def fmt_ms(s: dict | None, keys=("p50", "p95", "p99", "max")) -> str:
    if not s:
        return "n/a"
    return "  ".join(f"{k} {s[k]:8.1f}" for k in keys)


def ratios(load: dict | None, refs: dict | None) -> dict:
    if not load or not refs or not load.get("cycles_per_s"):
        return {}
    r = load["cycles_per_s"]
    out = {}
    o = refs.get("oslo") or {}
    p = refs.get("pika") or {}
    if o.get("cast"):
        out["cycles_per_oslo_cast"] = r / o["cast"]["end_to_end_per_s"]
    if o.get("cast_concurrent"):
        out["cycles_per_oslo_cast_concurrent"] = (
            r / o["cast_concurrent"]["end_to_end_per_s"]
        )
    if o.get("call_sequential"):
        out["cycles_per_oslo_call_sequential"] = (
            r / o["call_sequential"]["per_s"]
        )
    if o.get("call_concurrent"):
        out["cycles_per_oslo_call_concurrent"] = (
            r / o["call_concurrent"]["per_s"]
        )
    if p.get("publish"):
        out["cycles_per_pika_publish"] = r / p["publish"]["in_queue_per_s"]
    if p.get("publish_consume"):
        out["cycles_per_pika_publish_consume"] = (
            r / p["publish_consume"]["per_s"]
        )
    return out


def print_report(res: dict) -> None:
    p = print
    a = res["args"]
    p(f"Arame control-plane benchmark, {res['date']}")
    m = res["machine"]
    p(
        f"machine: {m['cores']} cores, {m['memory_gib']} GiB; MariaDB, RabbitMQ, "
        "every daemon and this load generator share them; load average at start "
        f"{m.get('loadavg_at_start')}"
    )
    p(f"versions: {res.get('versions')}")
    code = res.get("code") or {}
    if code.get("commit"):
        p(
            f"code: {code['commit']}"
            + (
                f" (+{code['arame_uncommitted']} uncommitted file(s) in arame/)"
                if code.get("arame_uncommitted")
                else ""
            )
        )
    b = res.get("broker")
    if b:
        fds = b.get("file_descriptors") or {}
        where = (
            "node 1 of the run's 3-node cluster"
            if b.get("cluster")
            else "a private node of this bench"
            if b["private"]
            else "the machine broker"
        )
        p(
            f"broker: {where}"
            f" on 127.0.0.1:{b['port']} (sockets used/limit at start: "
            f"{fds.get('sockets_used')}/{fds.get('sockets_limit')})"
        )
    cl = res.get("cluster")
    if cl:
        p(
            "engines: RabbitMQ nodes "
            + ", ".join(
                f"{n} :{port}" for n, port in cl["rabbit_nodes"].items()
            )
            + f" (every daemon given the three URLs); Galera from port "
            f"{cl['galera_first_port']} behind HAProxy :{cl['haproxy_port']}; "
            f"up in {cl.get('start_s', 'n/a')} s; the deployment's queues: "
            f"{cl.get('queues')}"
        )
    if res.get("deployment"):
        d = res["deployment"]
        p(
            f"deployment {d['name']}: API {d['api_url']}, {a['schedulers']} "
            f"scheduler(s), {a['collectors']} collector(s), {a['hva_procs']} hva "
            f"process(es) serving {a['hosts']} fake hosts; state {d['state_dir']}"
        )
        st = d.get("startup") or {}
        if st:
            p(
                f"start-up: prepare {st['prepare_s']:.1f} s, API up "
                f"{st['api_ready_s']:.1f} s, all hosts reported {st['hosts_up_s']:.1f} s, "
                f"every host's RPC queue consumed {st.get('rpc_ready_s', 0):.1f} s"
            )
    load = res.get("load")
    if load:
        p("")
        p(
            f"load: {load['cycles_attempted']} of {load['cycles_requested']} "
            f"boot+delete cycles at concurrency {a['concurrency']} (poll every "
            f"{a['poll'] * 1000:.0f} ms, {load['wall_s']:.1f} s)"
        )
        if load.get("cycles_cut_by_deadline"):
            p(
                f"  STOPPED BY --max-seconds: {load['cycles_cut_by_deadline']} "
                "cycles in flight were cut and are not counted"
            )
        p(f"  boot+delete cycles/s   {load['cycles_per_s']:8.2f}")
        p(
            f"  success                {load['cycles_ok']}/{load['cycles_attempted']}"
            f" ({100 * load['success_rate']:.1f} %)"
        )
        for reason, n in load["errors"].items():
            p(f"    {n:5d} x {reason}")
        p(f"  API->running ms        {fmt_ms(load['api_to_running_ms'])}")
        p(f"  delete ms              {fmt_ms(load['delete_ms'])}")
        p(
            f"  POST answer ms         {fmt_ms(load['post_ms'], ('p50', 'p95'))}"
        )
        p(
            f"  DELETE answer ms       {fmt_ms(load['delete_call_ms'], ('p50', 'p95'))}"
        )
        ss = load["server_side_ms"]
        for k in (
            "create.dispatch_ms",
            "create.step_schedule_ms",
            "create.step_spawn_ms",
            "create.server_total_ms",
            "delete.dispatch_ms",
            "delete.step_destroy_ms",
            "delete.step_release_ms",
            "delete.server_total_ms",
        ):
            if ss.get(k):
                p(f"  server {k:<24s}{fmt_ms(ss[k], ('p50', 'p95'))}")
        p(
            f"  HTTP requests          {load['http_requests_per_cycle']:.1f} per "
            f"cycle, {load['http_requests_per_s']:.0f}/s"
        )
    cpu = res.get("cpu")
    if cpu:
        p(
            f"  CPU during the load ({cpu['cores']} cores): machine busy "
            f"{100 * cpu['machine_busy_fraction']:.0f} % "
            f"({cpu['machine_busy_cores']:.2f} cores)"
        )
        per_cycle = cpu.get("cpu_ms_per_cycle") or {}
        for name, c in cpu["per_process_cores"].items():
            if c >= 0.01:
                extra = (
                    f"  {per_cycle[name]:6.1f} ms CPU per cycle"
                    if name in per_cycle
                    else ""
                )
                p(f"    {name:<24s}{c:5.2f} cores{extra}")
        p(f"    {'(other processes)':<24s}{cpu['other_cores']:5.2f} cores")
    idle = res.get("idle_cpu")
    if idle:
        p(
            f"  idle CPU ({idle['wall_s']:.0f} s before the load, no cycle "
            "running): "
            + ", ".join(
                f"{n} {c:.3f}"
                for n, c in idle["per_process_cores"].items()
                if c >= 0.005
            )
            + f"; other processes {idle['other_cores']:.2f} cores"
        )
    if res.get("top"):
        p("  top, mid-run:")
        for line in res["top"]:
            p("    " + line)
    refs = res.get("references")
    if refs:
        p("")
        p(f"references on the same broker (vhost {refs['vhost']}):")
        o = refs.get("oslo") or {}
        if o.get("cast"):
            c = o["cast"]
            p(
                f"  oslo.messaging cast     {c['end_to_end_per_s']:9.0f}/s end to end "
                f"({c['received']}/{c['n']} received; send alone "
                f"{c['send_per_s']:.0f}/s)"
            )
        if o.get("cast_concurrent"):
            c = o["cast_concurrent"]
            p(
                f"  oslo.messaging cast     {c['end_to_end_per_s']:9.0f}/s end to end "
                f"from {c['threads']} threads ({c['received']}/{c['n']} received)"
            )
        if o.get("call_sequential"):
            c = o["call_sequential"]
            p(
                f"  oslo.messaging call     {c['per_s']:9.0f}/s sequential "
                f"(p50 {c['latency_ms']['p50']:.2f} ms)"
            )
        if o.get("call_concurrent"):
            c = o["call_concurrent"]
            p(
                f"  oslo.messaging call     {c['per_s']:9.0f}/s from {c['threads']} "
                f"threads (p50 {c['latency_ms']['p50']:.2f} ms)"
            )
        pk = refs.get("pika") or {}
        if pk.get("publish"):
            p(
                f"  pika publish            {pk['publish']['in_queue_per_s']:9.0f}/s "
                f"({pk['n']} x {pk['body_bytes']} B, transient, no confirms; "
                f"publish calls {pk['publish']['call_per_s']:.0f}/s)"
            )
        if pk.get("publish_consume"):
            p(
                f"  pika publish+consume    {pk['publish_consume']['per_s']:9.0f}/s "
                f"(manual ack)"
            )
        for kind in ("classic", "quorum"):
            c = pk.get(f"publish_confirm_{kind}")
            if c:
                p(
                    f"  pika publish+confirm    {c['per_s']:9.0f}/s (one confirm per "
                    f"message, durable {kind} queue)"
                )
    api = res.get("api_cost")
    if api:
        p("")
        p("API request cost (idle deployment, one client, sequential):")
        for label, c in api.items():
            cpu = c.get("api_cpu_ms_per_request")
            p(
                f"  GET {'/healthz' if label == 'healthz' else '/v1/tasks/{id}':<16s}"
                f"{c['per_s']:7.0f}/s  p50 {c['latency_ms']['p50']:.2f} ms  "
                f"API CPU {cpu:.2f} ms per request"
                if cpu is not None
                else ""
            )
    if res.get("ratios"):
        p("")
        p("ratios (boot+delete cycles/s over):")
        for k, v in res["ratios"].items():
            p(f"  {k:<36s}{v:.4f}  (1 : {1 / v:,.0f})")
    if res.get("teardown"):
        p("")
        p(
            "teardown (SIGTERM, SIGKILL after 30 s): "
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
            p(
                f"deployment log {name}: {info['count']} ERROR/Traceback lines, first:"
            )
            for line in info["first"][:5]:
                p("    " + line[:300])
    if res.get("failure"):
        p("")
        p(f"RUN FAILED: {res['failure']}")


def output(res: dict, as_json: bool, save: str | None) -> None:
    """The text report on stdout, or the JSON (--json); and the JSON to
    `save` too if given."""
    # The report first: a run of many minutes is not lost to a bad path.
    if as_json:
        json.dump(res, sys.stdout, indent=2, default=str)
        print()
    else:
        print_report(res)
    if save:
        os.makedirs(os.path.dirname(os.path.abspath(save)), exist_ok=True)
        with open(save, "w") as f:
            json.dump(res, f, indent=2, default=str)
