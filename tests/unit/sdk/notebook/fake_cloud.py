"""An in-memory Arame behind httpx.MockTransport that speaks the unit
groups' REST contract, for the notebook SDK's unit tests.

Work moves only when the client asks: every request first advances each
running task's next node one step (pending -> starting -> running, or to
error for a node named in `fail`), so a wait sees nodes finish one by one
and a test knows how many polls a unit takes.
"""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

import httpx

from arame.common import sshkeys
from tests.helpers.fakes import error

GOOD_TOKEN = "tok-good"
NOW = "2030-01-01T00:00:00Z"
FLAVORS = [
    {
        "name": "small",
        "provider": "vm",
        "vcpus": 1,
        "memory_mb": 512,
        "disk_gb": 5,
    },
    {
        "name": "large",
        "provider": "vm",
        "vcpus": 4,
        "memory_mb": 8192,
        "disk_gb": 40,
    },
    {
        "name": "bm.std",
        "provider": "bm",
        "vcpus": 8,
        "memory_mb": 32768,
        "disk_gb": 200,
    },
]
IMAGES = [
    {
        "id": "img-aaaaaaaa",
        "name": "arame-test",
        "format": "qcow2",
        "visibility": "public",
        "status": "active",
    },
]
_NEXT = {"pending": "starting", "starting": "running"}


class FakeCloud:
    def __init__(self) -> None:
        self.groups: dict[str, dict] = {}
        self.units: dict[str, dict] = {}
        self.nodes: dict[str, dict] = {}
        self.tasks: dict[str, dict] = {}
        self.key_pairs: list[dict] = []
        self.floating_ips: list[dict] = []  # as GET /v1/floating_ips has them
        self.requests: list[httpx.Request] = []
        self.fail: dict[str, str] = {}  # node name -> reason its build fails
        self.frozen = False  # nothing advances (a wait that times out)
        self._ids = itertools.count(1)
        self._ips = itertools.count(10)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def _id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids):08d}"

    # -- requests ------------------------------------------------------------
    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.headers.get("Authorization") != f"Bearer {GOOD_TOKEN}":
            if request.url.path != "/v1/auth/tokens":
                return httpx.Response(
                    401, json=error("unauthorized", "token expired at 10:00")
                )
        if not self.frozen:
            self._tick()
        body = json.loads(request.content) if request.content else None
        for method, pattern, handler in ROUTES:
            m = re.fullmatch(pattern, request.url.path)
            if m and method == request.method:
                status, answer = handler(self, request, body, *m.groups())
                return httpx.Response(status, json=answer)
        return httpx.Response(404, json=error("not_found", "no such route"))

    def sent(self, method: str, path: str) -> list[Any]:
        return [
            json.loads(r.content) if r.content else None
            for r in self.requests
            if r.method == method and r.url.path == path
        ]

    # -- views ---------------------------------------------------------------
    def _unit_view(self, u: dict) -> dict:
        nodes = [self.nodes[n] for n in u["nodes"]]
        statuses = [n["status"] for n in nodes]
        if u["deleting"] or (
            nodes and all(s == "terminated" for s in statuses)
        ):
            state = "deleting"
        elif "error" in statuses:
            state = "error"
        elif any(s in ("pending", "starting", "stopping") for s in statuses):
            state = "booting"
        elif nodes and all(s == "stopped" for s in statuses):
            state = "power_off"
        else:
            state = "running"
        return {
            "id": u["id"],
            "name": u["name"],
            "unit_group": u["group"],
            "unit_group_name": self.groups[u["group"]]["name"],
            "account_id": "a-00000001",
            "spec": u["spec"],
            "state": state,
            "node_count": len(nodes),
            "nodes": [
                {k: v for k, v in n.items() if k != "unit"} for n in nodes
            ],
            "errors": [
                {
                    "node_id": n["id"],
                    "name": n["name"],
                    "reason": n["status_reason"],
                }
                for n in nodes
                if n["status"] == "error"
            ],
            "created_at": NOW,
            "updated_at": NOW,
        }

    def _group_view(self, g: dict) -> dict:
        units = [self._unit_view(self.units[u]) for u in g["units"]]
        states = [u["state"] for u in units]
        state = (
            "deleting"
            if g["deleting"]
            else next(
                (s for s in ("error", "booting", "deleting") if s in states),
                "running",
            )
        )
        return {
            "id": g["id"],
            "name": g["name"],
            "account_id": "a-00000001",
            "state": state,
            "units": list(g["units"]),
            "node_count": sum(u["node_count"] for u in units),
            "created_at": NOW,
            "updated_at": NOW,
        }

    def _find_group(self, ref: str) -> dict | None:
        return next(
            (g for g in self.groups.values() if ref in (g["id"], g["name"])),
            None,
        )

    def _find_unit(self, ref: str, group_ref: str | None) -> dict | None:
        group = self._find_group(group_ref) if group_ref else None
        for u in self.units.values():
            if group is not None and u["group"] != group["id"]:
                continue
            if ref in (u["id"], u["name"]):
                return u
        return None

    # -- work ----------------------------------------------------------------
    def _new_nodes(self, unit: dict, count: int, ips=None) -> list[str]:
        ids = []
        for i in range(count):
            nid = self._id("i")
            n = len(unit["nodes"]) + 1
            ip = ips[i] if ips else f"10.0.0.{next(self._ips)}"
            self.nodes[nid] = {
                "id": nid,
                "name": f"{unit['name']}-{n}",
                "status": "pending",
                "status_reason": None,
                "power_state": None,
                "host": "hv1",
                "ip_address": ip,
                "addresses": [ip],
                "created_at": NOW,
                "unit": unit["id"],
            }
            unit["nodes"].append(nid)
            ids.append(nid)
        return ids

    def _task(self, resource_id, rtype, action, children, target) -> str:
        tid = self._id("t")
        self.tasks[tid] = {
            "id": tid,
            "status": "running" if children else "done",
            "resource_id": resource_id,
            "resource_type": rtype,
            "action": action,
            "step": None,
            "error": None,
            "events": [],
            "children": list(children),
            "target": target,  # what a node becomes when its work is done
            "deadline_at": NOW,
            "created_at": NOW,
            "updated_at": NOW,
        }
        return tid

    def _tick(self) -> None:
        for task in self.tasks.values():
            if task["status"] != "running":
                continue
            recorded = {e["step"] for e in task["events"]}
            pending = [
                n
                for n in task["children"]
                if f"node {self.nodes[n]['name']}" not in recorded
            ]
            if pending:
                self._advance(task, self.nodes[pending[0]])
            if len(task["events"]) == len(task["children"]):
                self._end(task)

    def _advance(self, task: dict, node: dict) -> None:
        target = task["target"]
        if target == "running" and node["status"] in _NEXT:
            node["status"] = _NEXT[node["status"]]
            if node["status"] == "running" and node["name"] in self.fail:
                node["status"] = "error"
                node["status_reason"] = self.fail[node["name"]]
        else:
            node["status"] = target
        if node["status"] in ("pending", "starting"):
            return
        failed = node["status"] == "error"
        task["events"].append(
            {
                "step": f"node {node['name']}",
                "status": "failed" if failed else "done",
                "at": NOW,
                "duration_ms": 10.0,
                "host": node["host"],
                "message": f"create failed at spawn: {node['status_reason']}"
                if failed
                else f"{task['action']} done",
            }
        )

    def _end(self, task: dict) -> None:
        failed = [e for e in task["events"] if e["status"] == "failed"]
        task["status"] = "failed" if failed else "done"
        if failed:
            task["error"] = {
                "step": "nodes",
                "message": f"{len(failed)} of {len(task['children'])} nodes failed",
            }
        if task["target"] == "terminated":
            for nid in task["children"]:
                node = self.nodes.pop(nid)
                unit = self.units.get(node["unit"])
                if unit:
                    unit["nodes"].remove(nid)
            if task["resource_type"] == "unit_group":
                group = self.groups.pop(task["resource_id"])
                for uid in group["units"]:
                    self.units.pop(uid)
            elif (
                task["resource_type"] == "unit" and task["action"] == "delete"
            ):
                unit = self.units.pop(task["resource_id"])
                self.groups[unit["group"]]["units"].remove(unit["id"])


# -- handlers -------------------------------------------------------------------
def _page(items):
    return 200, {"items": items, "next_marker": None}


def create_group(c: FakeCloud, req, body):
    if c._find_group(body["name"]):
        return 409, error("conflict", f"unit group {body['name']} exists")
    gid = c._id("ug")
    c.groups[gid] = {
        "id": gid,
        "name": body["name"],
        "units": [],
        "deleting": False,
    }
    return 201, c._group_view(c.groups[gid])


def list_groups(c, req, body):
    name = req.url.params.get("name")
    return _page(
        [
            c._group_view(g)
            for g in c.groups.values()
            if name in (None, g["name"])
        ]
    )


def get_group(c, req, body, ref):
    g = c._find_group(ref)
    if g is None:
        return 404, error("not_found", f"unit group {ref} not found")
    return 200, c._group_view(g)


def delete_group(c, req, body, ref):
    g = c._find_group(ref)
    if g is None:
        return 404, error("not_found", f"unit group {ref} not found")
    g["deleting"] = True
    nodes = [n for u in g["units"] for n in c.units[u]["nodes"]]
    tid = c._task(g["id"], "unit_group", "delete", nodes, "terminated")
    if not nodes:
        c.groups.pop(g["id"])
        for u in g["units"]:
            c.units.pop(u)
    return 202, {"id": g["id"], "status": "deleting", "task_id": tid}


def create_unit(c, req, body):
    g = c._find_group(body["unit_group"])
    if g is None:
        return 404, error("not_found", "unit group not found")
    uid = c._id("un")
    unit = {
        "id": uid,
        "name": body["name"],
        "group": g["id"],
        "spec": body["spec"],
        "nodes": [],
        "deleting": False,
    }
    c.units[uid] = unit
    g["units"].append(uid)
    ips = body.get("ip_addresses")
    ids = c._new_nodes(unit, len(ips) if ips else body.get("count", 1), ips)
    tid = c._task(uid, "unit", "create", ids, "running")
    return 202, {**c._unit_view(unit), "task_id": tid}


def list_units(c, req, body):
    g = c._find_group(req.url.params.get("unit_group", ""))
    return _page([c._unit_view(c.units[u]) for u in (g["units"] if g else [])])


def get_unit(c, req, body, ref):
    u = c._find_unit(ref, req.url.params.get("unit_group"))
    if u is None:
        return 404, error("not_found", f"unit {ref} not found")
    return 200, c._unit_view(u)


def delete_unit(c, req, body, ref):
    u = c._find_unit(ref, None)
    u["deleting"] = True
    tid = c._task(u["id"], "unit", "delete", list(u["nodes"]), "terminated")
    return 202, {"id": u["id"], "status": "deleting", "task_id": tid}


def unit_action(c, req, body, ref):
    u = c._find_unit(ref, None)
    action = body["action"]
    by_ip = {c.nodes[n]["ip_address"]: n for n in u["nodes"]}
    if action == "add_nodes":
        ips = body.get("ip_addresses")
        ids = c._new_nodes(u, len(ips) if ips else body["count"], ips)
        target = "running"
    elif action == "delete_nodes":
        if body.get("ip_addresses"):
            ids = [by_ip[ip] for ip in body["ip_addresses"]]
        elif body.get("node_ids"):
            ids = body["node_ids"]
        else:
            ids = u["nodes"][-body["count"] :]
        target = "terminated"
    else:
        ids = body.get("node_ids") or list(u["nodes"])
        target = "running" if action == "power_on" else "stopped"
        for n in ids:
            c.nodes[n]["status"] = (
                "stopping" if target == "stopped" else "starting"
            )
    tid = c._task(u["id"], "unit", action, ids, target)
    return 202, {"id": u["id"], "task_id": tid, "node_ids": ids}


def get_task(c, req, body, tid):
    task = c.tasks[tid]
    return 200, {
        k: v for k, v in task.items() if k not in ("children", "target")
    }


def list_tasks(c, req, body):
    rid = req.url.params.get("resource_id")
    return _page(
        [
            {
                "id": "t-node",
                "status": "failed",
                "resource_id": rid,
                "error": {"step": "spawn", "message": "qemu exited"},
                "events": [],
            }
        ]
    )


def list_key_pairs(c, req, body):
    return _page(c.key_pairs)


def create_key_pair(c, req, body):
    _, line = sshkeys.parse_public_key(body["public_key"])
    pair = {
        "id": c._id("kp"),
        "name": body["name"],
        "public_key": line,
        "fingerprint": sshkeys.fingerprint(line),
    }
    c.key_pairs.append(pair)
    return 201, pair


ROUTES = [
    ("POST", r"/v1/unit_groups", create_group),
    ("GET", r"/v1/unit_groups", list_groups),
    ("GET", r"/v1/unit_groups/([^/]+)", get_group),
    ("DELETE", r"/v1/unit_groups/([^/]+)", delete_group),
    ("POST", r"/v1/units", create_unit),
    ("GET", r"/v1/units", list_units),
    ("GET", r"/v1/units/([^/]+)", get_unit),
    ("DELETE", r"/v1/units/([^/]+)", delete_unit),
    ("POST", r"/v1/units/([^/]+)/actions", unit_action),
    ("GET", r"/v1/tasks/([^/]+)", get_task),
    ("GET", r"/v1/tasks", list_tasks),
    ("GET", r"/v1/flavors", lambda c, r, b: _page(FLAVORS)),
    ("GET", r"/v1/images", lambda c, r, b: _page(IMAGES)),
    ("GET", r"/v1/key_pairs", list_key_pairs),
    ("POST", r"/v1/key_pairs", create_key_pair),
    ("GET", r"/v1/floating_ips", lambda c, r, b: _page(c.floating_ips)),
    (
        "GET",
        r"/v1/version",
        lambda c, r, b: (200, {"api_version": "1.4", "version": "9.9.9"}),
    ),
    (
        "GET",
        r"/v1/instances/([^/]+)/metrics",
        lambda c, r, b, i: (
            200,
            {
                "instance_id": i,
                "interval": 10,
                "samples": [
                    {
                        "at": NOW,
                        "cpu_percent": 12.5,
                        "memory_used_mb": 100,
                        "memory_mb": 512,
                        "disk_read_bps": 0,
                        "disk_write_bps": 0,
                        "net_rx_bps": 10,
                        "net_tx_bps": 20,
                    }
                ],
            },
        ),
    ),
    (
        "POST",
        r"/v1/auth/tokens",
        lambda c, r, b: (
            (201, {"token": GOOD_TOKEN})
            if b["password"] == "pw"
            else (401, error("unauthorized", "wrong username or password"))
        ),
    ),
]
