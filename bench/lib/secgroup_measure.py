"""What bench/secgroups.py builds and times in its namespace: the groups'
rules, a change of one rule, when a change is live, and the reference
(the same ruleset as one hand-run `iptables-restore`)."""

import time

from arame.agents.hva.firewall import iptables
from arame.common import runner

# Base rules use ports from 1000 up; each change puts one rule on a port
# of its own from here, so that its text names it and nothing else does.
MARKER_BASE = 40000


def group_rules(group: int, count: int) -> list[dict]:
    """`count` distinct rules (JSON form), one port and one /24 each."""
    return [
        {
            "protocol": "tcp",
            "from_port": 1000 + group * count + j,
            "to_port": 1000 + group * count + j,
            "cidr": f"10.{group % 250}.{j % 250}.0/24",
        }
        for j in range(count)
    ]


def changed_rules(base: list[dict], change: int) -> list[dict]:
    """The group's rules with its first rule replaced by change's marker
    rule: one rule removed, one added, the rest as they were."""
    port = MARKER_BASE + change
    marker = {
        "protocol": "tcp",
        "from_port": port,
        "to_port": port,
        "cidr": "0.0.0.0/0",
    }
    return [marker] + base[1:]


def marker_text(change: int) -> str:
    """How iptables-save prints the marker rule's match."""
    return f"--dport {MARKER_BASE + change} "


def chain_rules(netns: str, chain: str) -> str:
    """`iptables -S <chain>`: one chain, far cheaper than the whole table
    (about 9 ms against 250 ms with 25,000 rules, nft backend)."""
    return runner.run(
        ["iptables", "-S", chain], netns=netns, timeout=30, ok_codes=(0, 1)
    ).stdout


def save(netns: str) -> str:
    return runner.run(
        ["iptables-save", "-t", "filter"], netns=netns, timeout=60
    ).stdout


def wait_live(
    netns: str,
    group_id: str,
    change: int,
    interval: float,
    timeout: float,
) -> float | None:
    """perf_counter time at which the marker was first seen in the chain
    of the group (`arame-sg-<id>`, which every member's in-chain jumps
    to), or None at the timeout. The caller checks every member
    afterwards."""
    chain = iptables.group_chain(group_id)
    marker = marker_text(change)
    end = time.perf_counter() + timeout
    while time.perf_counter() < end:
        if marker in chain_rules(netns, chain):
            return time.perf_counter()
        time.sleep(interval)
    return None


def members_live(
    text: str, iids: list[str], change: int, group_id: str
) -> int:
    """How many of iids' in-chains let the marker's rule in, in
    iptables-save text: they jump to the group's chain and it holds the
    marker (or, as before group chains, they hold it themselves)."""
    marker = marker_text(change)
    chain = iptables.group_chain(group_id)
    in_group = any(
        marker in line and line.startswith(f"-A {chain} ")
        for line in text.splitlines()
    )
    have = set()
    for line in text.splitlines():
        if not line.startswith(f"-A {iptables.IN}-"):
            continue
        if marker in line or (in_group and line.endswith(f" -j {chain}")):
            have.add(line.split()[1][len(iptables.IN) + 1 :])
    return len(have & set(iids))


def full_text(saved: str) -> str:
    """The whole filter table as saved, for a plain `iptables-restore`
    (comments dropped; counters are kept as they came)."""
    return "".join(
        line + "\n" for line in saved.splitlines() if not line.startswith("#")
    )


def chains_text(saved: str, chains: list[str]) -> str:
    """Only those chains as saved (what a rule change alters: the group's
    chain), for `iptables-restore --noflush`: declaring a chain flushes
    it, the rest of the table is left alone."""
    heads, body = [], []
    for line in saved.splitlines():
        words = line.split()
        if len(words) < 2:
            continue
        if line.startswith(":") and line[1:].split()[0] in chains:
            heads.append(f":{line[1:].split()[0]} - [0:0]")
        elif words[0] == "-A" and words[1] in chains:
            body.append(line)
    return "".join(x + "\n" for x in ["*filter", *heads, *body, "COMMIT"])


def restore(netns: str, text: str, noflush: bool) -> float:
    """Seconds one `iptables-restore` of text takes in netns, run the way
    the firewall runs its own (runner.run: nsenter, text on stdin)."""
    args = ["iptables-restore"] + (["--noflush"] if noflush else [])
    t0 = time.perf_counter()
    runner.run(args, input=text, netns=netns, timeout=120)
    return time.perf_counter() - t0
