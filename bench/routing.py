#!/usr/bin/env python3
"""Routing: time from `POST /v1/floating_ips/{id}/actions {"associate"}`
to the first packet through (a TCP connect from the "outside" namespace to
the floating IP answered by the guest behind it), p50/p95 over
--associations with --present floating IPs already associated on the same
router; against applying the same ruleset with one hand-run `nft -f`, in
the same run after every association. Goal: <= 50 ms p95. Then forwarding
throughput guest -> outside through the router (NAT) against the same veth
path without NAT (the router's table deleted meanwhile). Goal >= 0.9x.

    python3 bench/routing.py                         # 1,000 present, 200 timed
    python3 bench/routing.py --present 100 --associations 20 --seconds 5

The deployment (own vhost, database, API port, /tmp state directory, as
bench/control_plane.py's) runs the API, one scheduler, one collector, the
fake naming agent, one fake hva (the instances are records with ports)
and the L3 agent with its REAL netns driver in a namespace of the run
(lib/routing_world.py): `[l3] netns` = <prefix>h, `namespace_prefix` =
`<prefix>-`, `physical_networks` = public:<prefix>pub, a veth into the
outside namespace <prefix>o (198.18.0.1/20, the external network's
gateway). The L3 options are given to the L3 agent alone (its own config
overlay): the deployment's own `[l3]` stays unset, so that its prepare and
down never make or remove the machine's `arame-outside`.

Set-up through the API: an external network 198.18.0.0/20 (flat), a
tenant network 10.64.0.0/21, --present + --associations instances on it
(fake hva), a router joining them, --present floating IPs allocated and
associated (--concurrency at once), then --associations floating IPs
allocated (not associated) at 198.18.9.x. The guest namespace holds the
fixed addresses of the measured instances; the outside routes
198.18.9.0/24 to the router's external address (so the first packet
measures the NAT becoming live, not an ARP of the outside's).

Each association: the prober (in the outside, a connect every 2 ms) is
told the floating IP, then the POST is sent; "first packet" is the first
connect the guest answers, from the POST's send. After the task is done:
the references, on the router's namespace: the whole table as loaded then,
fed to one `nft -f` (`ip netns exec` included, as the agent pays it), and
(design) the pair's two map elements deleted and added again with one
`nft -f` each.

Run as root from the repository. The namespaces, bridges and veths carry
the run's prefix (r<4 hex>) and are removed at the end, also after a
failure or SIGTERM; the deployment is torn down (vhost, database dropped).
"""

import argparse
import concurrent.futures
import dataclasses
import datetime as dt
import ipaddress
import json
import os
import secrets
import shutil
import signal
import sys
import tempfile
import time

import httpx
from lib import environment, quiet
from lib import routing_world as rw
from lib.deployment import log_errors, parse_overrides, teardown
from lib.ports import free_port
from lib.resources import CPUMeter
from lib.run import Deadline, log
from lib.stats import summary

from arame.deploy import infra, local

GOAL_MS = 50.0
GOAL_RATIO = 0.9
NO_QUOTA = {
    "instances": -1,
    "vcpus": -1,
    "memory_mb": -1,
    "floating_ips": -1,
}
EXT_CIDR = "198.18.0.0/20"
EXT_GW = "198.18.0.1"
TENANT_CIDR = "10.64.0.0/21"
TENANT_GW = "10.64.0.1"
MEASURED_NET = "198.18.9.0/24"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--present", type=int, default=1000)
    p.add_argument("--associations", type=int, default=200)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--live-timeout", type=float, default=30.0)
    p.add_argument(
        "--seconds", type=float, default=10.0, help="per throughput run"
    )
    p.add_argument("--throughput-runs", type=int, default=3)
    p.add_argument("--no-throughput", dest="throughput", action="store_false")
    p.add_argument("--startup-timeout", type=float, default=300.0)
    p.add_argument("--max-seconds", type=float, default=3000.0)
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="extra option in the deployment's config (repeatable)",
    )
    p.add_argument("--wait-quiet", type=float, default=0.0, metavar="SECONDS")
    p.add_argument("--rm-state", action="store_true")
    p.add_argument("--json", action="store_true", help="print JSON only")
    p.add_argument("--save", metavar="PATH", help="also write the JSON")
    return p


# -- the deployment ---------------------------------------------------------


@dataclasses.dataclass
class Setup:
    dep: local.LocalDeployment
    world: rw.World
    token: str = ""
    router: dict = dataclasses.field(default_factory=dict)


def start(args, name: str, world: rw.World, deadline: Deadline) -> Setup:
    world.outside_address(f"{EXT_GW}/20")
    state_dir = tempfile.mkdtemp(prefix=f"arame-{name}-", dir="/tmp")
    log(f"deployment {name}, state {state_dir}, namespace {world.host}")
    conf = parse_overrides(args.set)
    for k, v in NO_QUOTA.items():
        conf.setdefault("quota", {}).setdefault(k, v)
    n = args.present + args.associations + args.warmup
    fake = conf.setdefault("fake_hva", {})
    fake.setdefault("host_count", 1)
    fake.setdefault("vcpus", 4 * n)
    fake.setdefault("memory_mb", 4096 * n)
    fake.setdefault("disk_gb", 100 * n)
    dep = local.LocalDeployment(
        name,
        state_dir,
        api_port=free_port(),
        conf=conf,
        rabbit=infra.RabbitMQ(),
        mariadb=infra.MariaDB(),
    )
    setup = Setup(dep, world)
    dep.prepare()
    dep.start("collector", overlay={"DEFAULT": {"host": "coll1"}})
    dep.start("scheduler", overlay={"DEFAULT": {"host": "sched1"}})
    dep.start("hva", overlay={"DEFAULT": {"host": "hva1"}})
    dep.start("nsa")
    dep.start(
        "l3",
        overlay={
            "DEFAULT": {"host": "net1"},
            "l3": {
                "driver": "netns",
                "netns": world.host,
                "namespace_prefix": world.router_prefix,
                "physical_networks": f"public:{world.uplink}",
                # only at start: the throughput part deletes the table
                # for a while and must not see it put back meanwhile
                "resync_interval": 0,
            },
            "hva_networking": {"local_ip": "192.0.2.1", "vxlan_group": ""},
        },
    )
    dep.start("api")
    dep.wait_ready(
        max(1.0, min(args.startup_timeout, deadline.left())), hypervisors=1
    )
    setup.token = dep.token()
    return setup


def _http(setup: Setup) -> httpx.Client:
    return httpx.Client(
        base_url=setup.dep.api_url,
        headers={"Authorization": f"Bearer {setup.token}"},
        timeout=60,
    )


def _ok(r: httpx.Response) -> dict:
    if r.status_code >= 400:
        raise RuntimeError(
            f"{r.request.method} {r.request.url.path}: {r.status_code} "
            f"{r.text[:500]}"
        )
    return r.json() if r.content else {}


def wait_task(c: httpx.Client, task_id: str, timeout: float) -> dict:
    end = time.monotonic() + timeout
    while True:
        t = _ok(c.get(f"/v1/tasks/{task_id}"))
        if t["status"] in ("done", "failed"):
            return t
        if time.monotonic() > end:
            raise RuntimeError(f"task {task_id} still {t['status']}")
        time.sleep(0.01)


def _fip_addresses(n: int, measured: bool, skip: str) -> list[str]:
    """Measured ones in 198.18.9.0/24 (the outside routes it to the
    router); the others from 198.18.4.1, 250 per /24 (1,000 end at
    198.18.8.1 when the router's own, drawn from the pool, is among
    them: never `skip`)."""
    out = []
    i = 0
    while len(out) < n:
        if measured:
            a = str(ipaddress.ip_address("198.18.9.1") + i)
        else:
            a = f"198.18.{4 + i // 250}.{1 + i % 250}"
        if a != skip:
            out.append(a)
        i += 1
    return out


def _find_fip(c: httpx.Client, address: str) -> str:
    marker = None
    while True:
        params = {"limit": 500} | ({"marker": marker} if marker else {})
        page = _ok(c.get("/v1/floating_ips", params=params))
        for f in page["items"]:
            if f["address"] == address:
                if f.get("instance_id"):
                    raise RuntimeError(f"{address}: associated already")
                return f["id"]
        marker = page.get("next_marker")
        if not marker:
            raise RuntimeError(f"{address}: 409 taken, yet not listed")


def populate(args, setup: Setup) -> dict:
    """Networks, router, instances, the --present associations and the
    floating IPs to measure. Returns what the measurement needs."""
    out: dict = {}
    with _http(setup) as c:
        _ok(
            c.post(
                "/v1/networks",
                json={
                    "name": "public",
                    "cidr": EXT_CIDR,
                    "dns_domain": "public.test",
                    "segmentation": "flat",
                    "external": True,
                    "physical_network": "public",
                    "gateway": EXT_GW,
                    "dhcp_ranges": [["198.18.0.10", "198.18.11.254"]],
                },
            )
        )
        tenant = _ok(
            c.post(
                "/v1/networks",
                json={
                    "name": "tenant",
                    "cidr": TENANT_CIDR,
                    "dns_domain": "tenant.test",
                    "segmentation": "vxlan",
                    "gateway": TENANT_GW,
                },
            )
        )
        images = _ok(c.get("/v1/images"))["items"]
        image = next(i["id"] for i in images if i["name"] == "arame-test")
        r = _ok(
            c.post(
                "/v1/routers",
                json={
                    "name": "r1",
                    "external_network": "public",
                    "networks": ["tenant"],
                },
            )
        )
        t = wait_task(c, r["task_id"], 120)
        if t["status"] != "done":
            raise RuntimeError(f"router: {t.get('error')}")
        setup.router = _ok(c.get(f"/v1/routers/{r['id']}"))
        log(
            f"router {setup.router['id']} on {setup.router['host']}, "
            f"external {setup.router['external_address']}"
        )

    def build(n: int) -> tuple[str, str]:
        with _http(setup) as c:
            body = _ok(
                c.post(
                    "/v1/instances",
                    json={
                        "name": f"rt-bench-{n:04d}",
                        "flavor": "small",
                        "image": image,
                        "network": tenant["id"],
                    },
                )
            )
            t = wait_task(c, body["task_id"], 300)
            if t["status"] != "done":
                raise RuntimeError(f"build {n}: {t.get('error')}")
            inst = _ok(c.get(f"/v1/instances/{body['id']}"))
            return inst["id"], inst["addresses"][0]["ip_address"]

    conflicts = out["allocate_conflicts"] = []
    replays = out["associate_replays"] = []

    def allocate(address: str) -> str:
        with _http(setup) as c:
            r = c.post(
                "/v1/floating_ips",
                json={"network": "public", "address": address},
            )
            if r.status_code == 409 and "already allocated" in r.text:
                # A lost answer retried by hand would meet this: the
                # address is ours already; take the record (counted).
                conflicts.append(address)
                return _find_fip(c, address)
            return _ok(r)["id"]

    def associate(pair) -> float:
        fid, iid = pair
        with _http(setup) as c:
            t0 = time.perf_counter()
            r = c.post(
                f"/v1/floating_ips/{fid}/actions",
                json={"associate": {"instance": iid}},
            )
            if _replayed(r, iid):
                replays.append(fid)
                return time.perf_counter() - t0
            t = wait_task(c, _ok(r)["task_id"], 300)
            if t["status"] != "done":
                raise RuntimeError(f"associate {fid}: {t.get('error')}")
            return time.perf_counter() - t0

    total = args.present + args.warmup + args.associations
    skip = setup.router["external_address"].split("/")[0]
    mine = _fip_addresses(args.warmup + args.associations, True, skip)
    ex = concurrent.futures.ThreadPoolExecutor(args.concurrency)
    with ex:
        t0 = time.perf_counter()
        insts = list(ex.map(build, range(total)))
        out["build_s"] = time.perf_counter() - t0
        log(f"{total} instances in {out['build_s']:.1f} s")
        t0 = time.perf_counter()
        present = list(
            ex.map(
                allocate,
                _fip_addresses(args.present, False, skip),
            )
        )
        measured = list(
            ex.map(
                allocate,
                mine,
            )
        )
        out["allocate_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        times = list(
            ex.map(
                associate,
                zip(
                    present, [i for i, _ in insts[: args.present]], strict=True
                ),
            )
        )
        out["present_associate_s"] = time.perf_counter() - t0
        out["present_associate_each"] = summary([x * 1000 for x in times])
        log(
            f"{args.present} floating IPs associated in "
            f"{out['present_associate_s']:.1f} s"
        )
    rest = insts[args.present :]
    out["targets"] = [
        (fid, iid, ip, fip)
        for fid, (iid, ip), fip in zip(measured, rest, mine, strict=True)
    ]
    return out


# -- the measurement --------------------------------------------------------


def _router_ns(setup: Setup) -> str:
    return setup.world.router_prefix + setup.router["id"]


def one_association(args, setup: Setup, target) -> dict:
    fid, iid, fixed, fip = target
    w = setup.world
    out: dict = {"fip": fip}
    with _http(setup) as c:
        w.probe_start(fip, args.live_timeout)
        time.sleep(0.01)  # the prober's first attempts go (and fail) first
        t_send = time.monotonic()
        r = c.post(
            f"/v1/floating_ips/{fid}/actions",
            json={"associate": {"instance": iid}},
        )
        t_resp = time.monotonic()
        replayed = _replayed(r, iid)
        body = {} if replayed else _ok(r)
        t_live, attempts = w.probe_result()
        if t_live is None:
            raise RuntimeError(
                f"{fip}: nothing through in {args.live_timeout} s"
            )
        task = {}
        if replayed:
            # A 409 naming this very association: it is there already
            # (counted; never seen since the address lists were fixed).
            out["replayed"] = True
        else:
            task = wait_task(c, body["task_id"], args.live_timeout)
            if task["status"] != "done":
                raise RuntimeError(f"{fip}: task {task.get('error')}")
    out.update(
        post_ms=(t_resp - t_send) * 1000,
        live_ms=(t_live - t_send) * 1000,
        attempts=attempts,
    )
    for e in task.get("events") or []:
        if e.get("duration_ms") is not None:
            out[f"step_{e['step']}_ms"] = e["duration_ms"]
    ns = _router_ns(setup)
    text = rw.table_text(ns)
    out["map_elements"] = text.count(" : ")
    out["ref_nft_f_ms"] = rw.timed(["nft", "-f", "-"], ns, input=text) * 1000
    pair = (
        f"element ip arame_router fip_dnat {{ {fip} : {fixed} }}\n"
        f"element ip arame_router fip_snat {{ {fixed} : {fip} }}\n"
    )
    out["ref_del_elements_ms"] = (
        rw.timed(["nft", "-f", "-"], ns, input=_prefix_lines("delete", pair))
        * 1000
    )
    out["ref_add_elements_ms"] = (
        rw.timed(["nft", "-f", "-"], ns, input=_prefix_lines("add", pair))
        * 1000
    )
    return out


def _replayed(r: httpx.Response, iid: str) -> bool:
    if r.status_code != 409:
        return False
    try:
        details = r.json()["error"].get("details") or {}
    except (ValueError, KeyError):
        return False
    return details.get("instance_id") == iid


def _prefix_lines(verb: str, text: str) -> str:
    return "".join(f"{verb} {line}\n" for line in text.splitlines())


def measure_associations(args, setup: Setup, targets, res: dict) -> None:
    w = setup.world
    first = ipaddress.ip_network(TENANT_CIDR).prefixlen
    w.make_guest(
        setup.router["networks"][0]["id"],
        [f"{ip}/{first}" for _, _, ip, _ in targets],
        TENANT_GW,
        1450,
    )
    w.route_outside(MEASURED_NET, setup.router["external_address"])
    for t in targets[: args.warmup]:
        one_association(args, setup, t)
    rows = res["associations"] = []
    meter = CPUMeter(setup.dep)
    meter.start()
    for k, t in enumerate(targets[args.warmup :]):
        row = one_association(args, setup, t)
        rows.append(row)
        if k % 20 == 0:
            log(
                f"association {k}: through {row['live_ms']:.0f} ms after "
                f"the POST (answered in {row['post_ms']:.0f} ms); one nft -f "
                f"of the table {row['ref_nft_f_ms']:.0f} ms "
                f"({row['map_elements']} map elements)"
            )
    res["cpu"] = meter.stop()


def measure_throughput(args, setup: Setup, res: dict) -> None:
    """NAT (the guest's primary address leaves with its floating IP),
    then plain forwarding over the same veths: the router's table
    deleted, the outside routing the tenant subnet to the router; the
    table put back as it was."""
    w = setup.world
    ns = _router_ns(setup)
    out = res["throughput"] = {"nat": [], "plain": []}
    saved = rw.table_text(ns)
    try:
        for _ in range(args.throughput_runs):
            out["nat"].append(rw.throughput(w, EXT_GW, args.seconds))
            netlab_run(["nft", "delete", "table", "ip", "arame_router"], ns)
            w.route_outside(TENANT_CIDR, setup.router["external_address"])
            try:
                out["plain"].append(rw.throughput(w, EXT_GW, args.seconds))
            finally:
                w.unroute_outside(TENANT_CIDR)
                netlab_run(["nft", "-f", "-"], ns, input=saved)
            log(
                f"throughput: NAT {out['nat'][-1]['bps'] / 1e9:.2f} Gbit/s, "
                f"plain {out['plain'][-1]['bps'] / 1e9:.2f} Gbit/s"
            )
    finally:
        # never leave the router without its table
        netlab_run(["nft", "-f", "-"], ns, input=saved)


def netlab_run(args, ns, input=None):
    return rw.netlab.run(*args, netns=ns, input=input)


def e2e(args, name: str, world: rw.World, deadline: Deadline, res: dict):
    setup = None
    try:
        setup = start(args, name, world, deadline)
        res["state_dir"] = setup.dep.state_dir
        pop = populate(args, setup)
        res["populate"] = {k: v for k, v in pop.items() if k != "targets"}
        res["router"] = setup.router
        measure_associations(args, setup, pop["targets"], res)
        if args.throughput and not deadline.passed():
            measure_throughput(args, setup, res)
    except BaseException as e:  # noqa: B902 - said now: teardown is long
        res["failure"] = f"{type(e).__name__}: {e}"
        log(f"FAILED: {res['failure']}")
        raise
    finally:
        if setup is not None:
            log("tearing down the deployment ...")
            try:
                res["teardown"] = teardown(setup.dep)
            except BaseException as e:  # noqa: B902 - report it, go on
                res["teardown_error"] = f"{type(e).__name__}: {e}"
                setup.dep.down(drop=True)
            res["log_errors"] = log_errors(setup.dep.log_dir)


def summarise(res: dict) -> None:
    rows = res.get("associations") or []
    if rows:
        keys = sorted({k for r in rows for k in r if k.endswith("_ms")})
        res["replayed"] = sum(1 for r in rows if r.get("replayed"))
        res["summary"] = {
            k: summary([r[k] for r in rows if k in r]) for k in keys
        }
    tp = res.get("throughput")
    if tp and tp["nat"] and tp["plain"]:
        nat = summary([x["bps"] for x in tp["nat"]])
        plain = summary([x["bps"] for x in tp["plain"]])
        tp["ratio"] = nat["p50"] / plain["p50"]
        tp["nat_summary"], tp["plain_summary"] = nat, plain


# -- the report -------------------------------------------------------------


def _row(label: str, s: dict | None, ref: dict | None = None) -> str:
    if not s:
        return f"  {label:<40} -"
    line = f"  {label:<40} p50 {s['p50']:8.1f}  p95 {s['p95']:8.1f}"
    if ref:
        line += (
            f"   x{s['p50'] / ref['p50']:.1f} / x{s['p95'] / ref['p95']:.1f}"
        )
    return line


def text_report(res: dict) -> str:
    out = [
        "Routing (bench/routing.py)",
        f"  date {res['date']}  command: {res['command']}",
        f"  machine {res['machine']}",
        f"  code {res['code'].get('commit')} (arame/ uncommitted: "
        f"{res['code'].get('arame_uncommitted')})",
    ]
    p = res.get("populate")
    if p:
        a = res["args"]
        out.append(
            f"  set-up: {a['present'] + a['associations'] + a['warmup']} "
            f"instances in {p['build_s']:.0f} s; {a['present']} associations "
            f"in {p['present_associate_s']:.0f} s ({a['concurrency']} at "
            f"once; each p50 {p['present_associate_each']['p50']:.0f} ms)"
            if p.get("present_associate_each")
            else "  set-up: no present associations"
        )
    s = res.get("summary")
    if s:
        ref = s["ref_nft_f_ms"]
        out += [
            "",
            f"Association, {s['live_ms']['n']} timed, "
            f"{res['args']['present']} present on the router; ms (ratio to "
            "one nft -f of the table, p50 / p95)",
            _row("POST answered (202 + task)", s["post_ms"]),
            _row("POST sent -> first packet through", s["live_ms"], ref),
            _row("ref: 1 nft -f of the whole table", ref),
            _row(
                "design: 1 nft -f adding the 2 elements",
                s.get("ref_add_elements_ms"),
            ),
            "  task steps (the server's events):",
        ]
        for k in sorted(s):
            if k.startswith("step_"):
                out.append(_row("  " + k[5:-3], s[k]))
        out.append(
            f"  goal: p95 <= {GOAL_MS:.0f} ms -> "
            + (
                "MET"
                if s["live_ms"]["p95"] <= GOAL_MS
                else f"NOT MET (p95 {s['live_ms']['p95']:.0f} ms)"
            )
        )
        cpu = res.get("cpu")
        if cpu:
            out.append(
                f"  CPU: machine {cpu['machine_busy_cores']} of "
                f"{cpu['cores']} cores; "
                + ", ".join(
                    f"{k} {v}" for k, v in cpu["per_process_cores"].items()
                )
                + f"; others {cpu['other_cores']}"
            )
    tp = res.get("throughput")
    if tp and tp.get("ratio") is not None:
        n, pl = tp["nat_summary"], tp["plain_summary"]
        out += [
            "",
            f"Throughput guest -> outside ({tp['nat'][0]['tool']}, "
            f"{res['args']['seconds']:.0f} s x {n['n']}; Gbit/s, median)",
            f"  through the router (NAT)      {n['p50'] / 1e9:8.2f}",
            f"  same veths, no NAT table      {pl['p50'] / 1e9:8.2f}",
            f"  ratio {tp['ratio']:.2f}  goal >= {GOAL_RATIO} -> "
            + ("MET" if tp["ratio"] >= GOAL_RATIO else "NOT MET"),
        ]
    if res.get("left_behind"):
        out.append(f"LEFT BEHIND: {res['left_behind']}")
    if res.get("failure"):
        out += ["", f"FAILED: {res['failure']}"]
    if res.get("log_errors"):
        out.append(
            "log errors: "
            + ", ".join(
                f"{k} {v['count']}" for k, v in res["log_errors"].items()
            )
        )
    return "\n".join(out)


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    deadline = Deadline(args.max_seconds)

    def on_term(signum, _frame):
        deadline.cancel()
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    res = {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": environment.machine(),
        "code": environment.code_version(),
        "args": vars(args),
        "command": " ".join([os.path.basename(sys.executable)] + sys.argv),
    }
    if args.wait_quiet:
        res["quiet"] = quiet.wait_quiet(timeout=args.wait_quiet, log=log)
    name = f"bench_{secrets.token_hex(4)}"
    world = None
    rc = 0
    try:
        world = rw.World("r" + secrets.token_hex(2))
        log(f"prefix {world.prefix}")
        e2e(args, name, world, deadline, res)
    except BaseException as e:  # noqa: B902 - report, then clean up
        res.setdefault("failure", f"{type(e).__name__}: {e}")
        rc = 1
    finally:
        if world is not None:
            res["left_behind"] = world.close()
        summarise(res)
        sd = res.get("state_dir")
        if args.rm_state and sd:
            shutil.rmtree(sd, ignore_errors=True)
    text = json.dumps(res, indent=2, default=str)
    if args.save:
        with open(args.save, "w") as f:
            f.write(text + "\n")
    print(text if args.json else text_report(res))
    if rc == 0 and res.get("summary"):
        s = res["summary"]["live_ms"]["p95"] <= GOAL_MS
        t = (res.get("throughput") or {}).get("ratio")
        rc = 0 if s and (t is None or t >= GOAL_RATIO) else 2
    return rc


if __name__ == "__main__":
    sys.exit(main())
