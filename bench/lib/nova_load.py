"""The load against the Nova peer: the same boot+delete cycles as
load.py's, over Nova's REST API (noauth2), timed the same way.

One cycle: POST /servers (the stub image, a 1-vCPU flavor, no network),
GET /servers/{id} every `poll` s until ACTIVE (API->running: POST sent to
the first GET that sees ACTIVE), DELETE, GET every `poll` s until 404
(delete: DELETE sent to the first 404). Nova has no long poll, so it is
polled (0.1 s by default, what a client of Nova does at best) while Arame's
side long-polls its tasks: the difference is the APIs', and the extra GETs
are part of Nova's cost.
"""

import http.client
import json
import threading
import time
import urllib.parse

from . import load
from .run import Deadline, log

HEADERS = {
    # noauth2: "<user>:<project>"; user 'admin' is admin.
    "X-Auth-Token": "admin:admin",
    # 2.37+ accepts "networks": "none".
    "X-OpenStack-Nova-API-Version": "2.90",
    "Content-Type": "application/json",
    "Accept": "application/json",
}
IMAGE_ID = "0b5c2f5e-5e1a-4b2a-9c1e-7e57ab1e0001"  # peers/nova/stubs.py
FLAVOR = {"name": "peer.tiny", "id": "peer-tiny", "ram": 64, "vcpus": 1}


class CycleError(Exception):
    pass


class CycleCut(Exception):
    """The run's deadline passed while this cycle was in flight."""


class NovaClient:
    """One keep-alive HTTP connection, as each of load.py's workers has."""

    def __init__(self, url: str, timeout: float):
        u = urllib.parse.urlsplit(url)
        self.host, self.port, self.base = u.hostname, u.port, u.path
        self.timeout = timeout
        self.conn: http.client.HTTPConnection | None = None
        self.requests = 0

    def request(self, method: str, path: str, body=None):
        data = json.dumps(body).encode() if body is not None else None
        self.requests += 1
        for attempt in range(3):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(
                        self.host, self.port, timeout=self.timeout
                    )
                self.conn.request(
                    method, self.base + path, body=data, headers=HEADERS
                )
                r = self.conn.getresponse()
                raw = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.close()
                return r.status, (json.loads(raw) if raw else None)
            except (http.client.HTTPException, OSError):
                # A worker of nova-api closed an idle connection: reconnect.
                self.close()
                if attempt == 2:
                    raise
                time.sleep(0.2)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def ensure_flavor(url: str) -> None:
    c = NovaClient(url, 30)
    try:
        st, _ = c.request("GET", f"/flavors/{FLAVOR['id']}")
        if st == 200:
            return
        st, body = c.request(
            "POST", "/flavors", {"flavor": FLAVOR | {"disk": 1}}
        )
        if st != 200:
            raise RuntimeError(f"flavor create: HTTP {st} {body}")
    finally:
        c.close()


def _wait(c: NovaClient, sid: str, done, poll: float, limit: float, deadline):
    while True:
        time.sleep(poll)
        st, body = c.request("GET", f"/servers/{sid}")
        seen = time.perf_counter()
        verdict = done(st, body)
        if verdict is True:
            return seen
        if verdict:
            raise CycleError(verdict)
        if deadline.passed():
            raise CycleCut()
        if seen > limit:
            raise CycleError("still not there at the cycle timeout")


def _active(st, body):
    if st != 200:
        return f"GET /servers: HTTP {st}"
    s = body["server"]
    if s["status"] == "ACTIVE":
        return True
    if s["status"] == "ERROR":
        return f"server ERROR: {str(s.get('fault'))[:200]}"
    return None


def _gone(st, body):
    if st == 404:
        return True
    if st == 200 and body["server"]["status"] == "ERROR":
        return "delete left the server in ERROR"
    return None


def run_cycle(
    c: NovaClient, idx: int, args, deadline: Deadline, tag: str
) -> dict:
    rec = {"i": idx, "ok": False}
    n0 = c.requests
    limit = time.perf_counter() + min(
        args.cycle_timeout, max(1.0, deadline.left())
    )
    sid = None
    deleted = False
    try:
        t0 = time.perf_counter()
        st, body = c.request(
            "POST",
            "/servers",
            {
                "server": {
                    "name": f"{tag}-{idx}",
                    "imageRef": IMAGE_ID,
                    "flavorRef": FLAVOR["id"],
                    "networks": "none",
                }
            },
        )
        rec["post_ms"] = (time.perf_counter() - t0) * 1000
        if st != 202:
            raise CycleError(f"POST /servers: HTTP {st} {str(body)[:200]}")
        sid = body["server"]["id"]
        seen = _wait(c, sid, _active, args.peer_poll, limit, deadline)
        rec["running_ms"] = (seen - t0) * 1000
        t1 = time.perf_counter()
        st, body = c.request("DELETE", f"/servers/{sid}")
        rec["delete_call_ms"] = (time.perf_counter() - t1) * 1000
        if st not in (204, 404):
            raise CycleError(f"DELETE /servers: HTTP {st} {str(body)[:200]}")
        deleted = True
        seen = _wait(c, sid, _gone, args.peer_poll, limit, deadline)
        rec["delete_ms"] = (seen - t1) * 1000
        rec["ok"] = True
    except CycleCut:
        rec["cut"] = True
        rec["error"] = "cut by the run's deadline"
    except CycleError as e:
        rec["error"] = str(e)
    except Exception as e:  # count it, keep going
        rec["error"] = f"bench: {type(e).__name__}: {e}"
    finally:
        if sid is not None and not deleted and not deadline.passed():
            try:  # leave nothing behind; not timed
                c.request("DELETE", f"/servers/{sid}")
            except Exception:
                pass
        rec["requests"] = c.requests - n0
    return rec


def run_load(
    url: str, count: int, args, deadline: Deadline, tag: str
) -> tuple[list[dict], float]:
    """`count` cycles on `args.concurrency` threads: (records, wall s)."""
    lock = threading.Lock()
    nxt = iter(range(count))
    records: list[dict] = []

    def worker():
        c = NovaClient(url, args.http_timeout * 4)
        try:
            while not deadline.passed():
                with lock:
                    idx = next(nxt, None)
                if idx is None:
                    return
                rec = run_cycle(c, idx, args, deadline, tag)
                with lock:
                    records.append(rec)
        finally:
            c.close()

    threads = [
        threading.Thread(target=worker, name=f"nova-w{i}", daemon=True)
        for i in range(args.concurrency)
    ]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    last = time.monotonic()
    while True:
        alive = [t for t in threads if t.is_alive()]
        if not alive:
            break
        alive[0].join(0.5)
        if time.monotonic() - last >= 10:
            last = time.monotonic()
            with lock:
                n, ok = len(records), sum(r["ok"] for r in records)
            el = time.perf_counter() - t0
            log(f"  nova {tag}: {n}/{count} cycles, {ok / el:.2f} cycles/s")
    return records, time.perf_counter() - t0


def analyse(records: list[dict], wall: float, requested: int) -> dict:
    """The keys of load.analyse that both sides have (Nova's records carry
    no server-side steps)."""
    out = load.analyse(records, wall, requested)
    out.pop("server_side_ms", None)
    return out
