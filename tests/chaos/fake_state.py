"""What the fake drivers hold, read from their state files (`[fake_hva]`,
`[fake_sta]`, `[fake_nsa]` state_file; arame/agents/statefile.py), against
what the records say they should hold.

A resource that is gone (terminated instance, deleted volume or snapshot)
must have left nothing on its agent; a live one (running or stopped
instance, available or attached volume, available snapshot) must be there.
A resource in error may hold something or not: its delete removes it.
"""

import json
import os

LIVE_INSTANCE = {"running": "running", "stopped": "shutdown"}
LIVE_VOLUME = {"available", "attached"}


def load(path: str) -> dict | None:
    """The document, {} before the agent's first change, None if the
    agent does not keep one (the option not yet there: the file is never
    written)."""
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _ids(value) -> set[str]:
    """Keys of a mapping, or the `id`s of a list of objects."""
    if isinstance(value, dict):
        return set(value)
    if isinstance(value, list):
        return {v["id"] if isinstance(v, dict) else v for v in value}
    return set()


def _reservations(doc: dict) -> dict[str, dict]:
    """MAC -> reservation, of every one the naming agent keeps (statefile:
    {"networks": {id: {"network": ..., "reservations": [{"mac"...}]}}})."""
    return {
        r["mac"].lower(): r
        for entry in (doc.get("networks") or {}).values()
        for r in entry.get("reservations") or ()
    }


def _compare(what, held: set, records: dict, gone: set, live: set):
    """Nothing held for a gone resource or for none at all; everything
    held for a live one."""
    out = []
    for label, ids in (
        ("left for gone resources", held & gone),
        ("missing for live resources", live - held),
        ("of no record", held - set(records)),
    ):
        if ids:
            out.append(f"{what} {label}: {', '.join(sorted(ids))}")
    return out


def check_hva(doc, instances: dict[str, dict]) -> list[str]:
    if doc is None:
        return ["hva keeps no state file ([fake_hva] state_file)"]
    guests = doc.get("guests") or {}
    gone = {i for i, r in instances.items() if r["status"] == "terminated"}
    live = {i for i, r in instances.items() if r["status"] in LIVE_INSTANCE}
    out = _compare("hva guests", set(guests), instances, gone, live)
    wrong = [
        f"{i} is {instances[i]['status']} but its guest "
        f"{guests[i].get('power_state')}"
        for i in sorted(live & set(guests))
        if guests[i].get("power_state")
        != LIVE_INSTANCE[instances[i]["status"]]
    ]
    if wrong:
        out.append("hva power states differ: " + "; ".join(wrong))
    return out


def check_sta(doc, volumes: dict[str, dict], snapshots: dict) -> list[str]:
    if doc is None:
        return ["sta keeps no state file ([fake_sta] state_file)"]
    out = []
    for key, records, live_states in (
        ("volumes", volumes, LIVE_VOLUME),
        ("snapshots", snapshots, {"available"}),
    ):
        if key not in doc and records:
            out.append(f"sta state file has no {key!r} (keys: {sorted(doc)})")
            continue
        held = _ids(doc.get(key))
        gone = {i for i, r in records.items() if r["status"] == "deleted"}
        live = {i for i, r in records.items() if r["status"] in live_states}
        out += _compare(f"sta {key}", held, records, gone, live)
    # An export: a volume some host logs in to (attached, or an
    # instance's root); none for a deleted volume.
    exports = _ids(doc.get("targets") or doc.get("exports"))
    gone = {i for i, r in volumes.items() if r["status"] == "deleted"}
    left = sorted(exports & gone)
    if left:
        out.append(f"sta exports left for deleted volumes: {', '.join(left)}")
    wanted = {
        i
        for i, r in volumes.items()
        if r["export_iqn"] and r["status"] in LIVE_VOLUME
    }
    missing = sorted(wanted - exports)
    if missing:
        out.append(f"sta exports missing: {', '.join(missing)}")
    return out


def check_nsa(doc, instances: dict[str, dict], ports) -> list[str]:
    """`ports`: (instance id, mac) of every port the records hold."""
    if doc is None:
        return ["nsa keeps no state file ([fake_nsa] state_file)"]
    reservations = _reservations(doc)
    held = set(reservations)
    by_mac = {mac.lower(): iid for iid, mac in ports}
    live = {
        m
        for m, i in by_mac.items()
        if instances.get(i, {}).get("status") in LIVE_INSTANCE
    }
    kept = {
        m
        for m, i in by_mac.items()
        if instances.get(i, {}).get("status") not in (None, "terminated")
    }
    out = []
    stale = sorted(held - kept)
    if stale:
        # A terminated instance's ports are gone: its hostname names it.
        by_name = {r["hostname"]: i for i, r in instances.items()}

        def who(mac):
            r = reservations[mac]
            iid = by_name.get(r.get("hostname"))
            status = instances[iid]["status"] if iid else "no instance"
            return f"{mac} ({r.get('hostname')} {r.get('ip')}: {iid} {status})"

        out.append(
            "nsa reservations for no live instance: "
            + ", ".join(who(m) for m in stale)
        )
    missing = sorted(live - held)
    if missing:
        out.append(
            "nsa reservations missing for live instances: "
            + ", ".join(f"{by_mac[m]} ({m})" for m in missing)
        )
    return out
