"""The firewall driver alone: what a group change costs a host's
`NetfilterFirewall` when each port holds more rules than the API lets a
guest have (a group holds at most 100 rules, a guest joins at most 5
groups): the issue's 1,000-rule case, measured below the API.

In a namespace of the run: `ports` veths on a bridge, every port a member
of the same `groups` groups of `rules` rules each. A change replaces one
rule of the first group and re-applies every port, one `apply_port` after
another (as hva before 1.4 was asked, one member at a time: the first
rewrites the group's chain, the others find it done), then as one
`apply_ports` batch (refresh_host_ports); the reference is the resulting
filter table as one `iptables-restore` (and only the group's chain with
`--noflush`), timed after it.
"""

import time

from arame.agents.hva.firewall import NetfilterFirewall, iptables
from arame.common import runner

from . import secgroup_measure as m
from .stats import summary


def _group_id(n: int) -> str:
    return f"sg-bench{n:03d}"


def _instance_id(n: int) -> str:
    return f"i-bench{n:03d}"


def run(lab, *, ports: int, groups: int, rules: int, changes: int, log):
    ns = lab.netns("d")
    bridge = lab.bridge(ns, lab.name("dbr"))
    fw = NetfilterFirewall(netns=ns)
    fw.setup()
    base = {g: m.group_rules(g, rules) for g in range(groups)}
    addresses = [f"10.201.{p // 250}.{p % 250 + 2}" for p in range(ports)]

    def port_dict(p: int, first_group_rules: list[dict]) -> dict:
        gids = [_group_id(g) for g in range(groups)]
        return {
            "instance_id": _instance_id(p),
            "device": lab.name(f"d{p}"),
            "mac": f"52:54:00:00:{p // 256:02x}:{p % 256:02x}",
            "ip": addresses[p],
            "security_groups": [
                {
                    "id": _group_id(g),
                    "rules": first_group_rules if g == 0 else base[g],
                }
                for g in range(groups)
            ],
            "group_members": {gid: addresses for gid in gids},
        }

    for p in range(ports):
        dev, peer = lab.name(f"d{p}"), lab.name(f"e{p}")
        runner.run(
            ["ip", "link", "add", dev, "type", "veth", "peer", "name", peer],
            netns=ns,
            timeout=30,
        )
        runner.run(
            ["ip", "link", "set", dev, "master", bridge], netns=ns, timeout=30
        )
    t0 = time.perf_counter()
    for p in range(ports):
        fw.apply_port(port_dict(p, base[0]))
    initial_s = time.perf_counter() - t0
    log(
        f"driver level: {ports} ports x {groups * rules} rules applied in "
        f"{initial_s:.2f} s"
    )
    iids = [_instance_id(p) for p in range(ports)]
    gid0 = _group_id(0)
    trials = []
    for c in range(1, changes + 1):
        first = m.changed_rules(base[0], 1000 + c)
        restores = []
        t0 = time.perf_counter()
        for p in range(ports):
            fw.apply_port(port_dict(p, first))
            restores.append(fw.last_restore_s)
        apply_s = time.perf_counter() - t0
        saved = m.save(ns)
        live = m.members_live(saved, iids, 1000 + c, gid0)
        # The same change as hva applies it since refresh_host_ports:
        # every port in one apply_ports batch (its own marker).
        batch_rules = m.changed_rules(base[0], 2000 + c)
        t1 = time.perf_counter()
        fw.apply_ports([port_dict(p, batch_rules) for p in range(ports)])
        batch_s = time.perf_counter() - t1
        batch_restore_s = fw.last_restore_s
        batch_saved = m.save(ns)
        batch_live = m.members_live(batch_saved, iids, 2000 + c, gid0)
        ref_full = m.restore(ns, m.full_text(batch_saved), noflush=False)
        ref_chains = m.restore(
            ns,
            m.chains_text(batch_saved, [iptables.group_chain(gid0)]),
            noflush=True,
        )
        trials.append(
            {
                "apply_all_s": apply_s,
                "restore_sum_s": sum(restores),
                "members_live": live,
                "batch_s": batch_s,
                "batch_restore_s": batch_restore_s,
                "batch_members_live": batch_live,
                "ref_full_s": ref_full,
                "ref_chains_s": ref_chains,
            }
        )
        log(
            f"  driver change {c}: {ports} apply_port {apply_s * 1000:.0f} ms"
            f" (restores {sum(restores) * 1000:.0f} ms); one restore: "
            f"table {ref_full * 1000:.0f} ms, group chain "
            f"{ref_chains * 1000:.0f} ms; one apply_ports batch "
            f"{batch_s * 1000:.0f} ms (restore "
            f"{batch_restore_s * 1000:.0f} ms, {batch_live} live)"
        )
    return {
        "ports": ports,
        "rules_per_port": groups * rules,
        "groups": groups,
        "filter_rules": len(
            [x for x in m.save(ns).splitlines() if x.startswith("-A")]
        ),
        "initial_apply_s": initial_s,
        "trials": trials,
        "apply_all": summary([t["apply_all_s"] for t in trials]),
        "restore_sum": summary([t["restore_sum_s"] for t in trials]),
        "apply_batch": summary([t["batch_s"] for t in trials]),
        "batch_restore": summary([t["batch_restore_s"] for t in trials]),
        "ref_full": summary([t["ref_full_s"] for t in trials]),
        "ref_chains": summary([t["ref_chains_s"] for t in trials]),
    }
