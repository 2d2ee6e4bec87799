"""Version caps of the RPC clients, for rolling upgrades across hosts.

A daemon upgraded first (a scheduler) must not send an agent not yet
upgraded a message newer than that agent's manager serves. Each rpcapi's
client is capped at `[upgrade_levels] <kind>`: a pinned version, or on
"auto" the oldest RPC API version the running services of that kind
report in the services table (`rpc_version`, from their heartbeats), as
Nova's compute rpcapi takes the minimum service version. "Running" is a
heartbeat within [DEFAULT] service_down_time. The daemon's own DB
heartbeat reads the table again every [upgrade_levels]
auto_refresh_interval, so the cap rises within that long of the last old
service's upgrade, and the client is made again with it.

A message above the cap is refused before it is sent (VersionCapped), or
the rpcapi falls back to an older message where one does the same.
"""

import datetime as dt
import threading
import time

import oslo_messaging as messaging
from oslo_log import log

from arame.common.conf import CONF

LOG = log.getLogger(__name__)

#: What services that report no rpc_version served: their heartbeats come
#: from the code before versions were reported (up to issue 13), whose
#: managers' Targets were these.
UNREPORTED = {
    "scheduler": "1.5",
    "collector": "1.4",
    "hva": "1.4",
    "sta": "1.1",
    "nsa": "1.2",
    "bma": "1.1",
    "l3": "1.1",
}

_lock = threading.Lock()
# {kind: the oldest version its running services report}, and until when
# it stands; None: not read yet.
_snapshot: tuple[dict[str, str], float] | None = None
_logged: dict[str, str] = {}  # kind: the cap last logged
_served: dict[str, str] = {}  # topic: the version this process serves
_services_table = False  # whether "auto" may read it (see below)


def parse(version: str) -> tuple[int, int]:
    major, minor = version.split(".")
    return int(major), int(minor)


def compatible(cap: str, version: str) -> bool:
    """oslo.messaging's rule: same major, minor not above the cap's."""
    (cmaj, cmin), (vmaj, vmin) = parse(cap), parse(version)
    return cmaj == vmaj and vmin <= cmin


class VersionCapped(messaging.UnsupportedVersion):
    """A message needs a newer RPC API than the services of its kind are
    capped at. An UnsupportedVersion, which an older agent itself would
    answer: a caller that falls back for such an agent falls back here
    too, without asking it."""

    def __init__(self, kind: str, method: str, version: str, cap: str):
        messaging.MessagingException.__init__(
            self,
            f"{method} needs {kind} RPC API {version}, but messages to "
            f"{kind} services are capped at {cap} ([upgrade_levels] "
            f"{kind}, or the oldest running {kind} service): upgrade every "
            f"{kind} service, or raise the pin",
        )
        self.version, self.method = version, method
        self.kind, self.cap = kind, cap


def allows(client, version: str) -> bool:
    """Whether the client's cap lets a message of `version` go (the rpcapis
    choose a message's newer or older form by it). A client that knows no
    cap (a test's recorder) lets everything go."""
    can_send = getattr(client, "can_send_version", None)
    return can_send is None or can_send(version)


def require(client, kind: str, version: str, method: str) -> None:
    """Refuse a message of `version` the client's cap does not allow."""
    if not allows(client, version):
        cap = getattr(client, "version_cap", None) or "?"
        raise VersionCapped(kind, method, version, cap)


# -- what this process serves (its heartbeat reports it) --------------------


def serve(topic: str, endpoints: list) -> None:
    """Note the RPC API version an RPC server of `topic` dispatches: its
    endpoints' Target version (the default namespace's; another
    namespace, such as sta's data endpoint, versions apart). Several
    servers of one topic in a process (hva's fake hosts): the oldest."""
    versions = [
        ep.target.version or "1.0"
        for ep in endpoints
        if getattr(ep, "target", None) is not None
        and ep.target.namespace is None
    ]
    if not versions:
        return
    version = max(versions, key=parse)
    with _lock:
        known = _served.get(topic)
        if known is None or parse(version) < parse(known):
            _served[topic] = version


def served(topic: str) -> str | None:
    with _lock:
        return _served.get(topic)


# -- the cap ---------------------------------------------------------------


def read_services_table(enabled: bool = True) -> None:
    """Let "auto" use the services table in this process. The daemons
    that write their own heartbeat row (api, scheduler, collector: DB
    heartbeats) call it; agents hold no database credentials, and a
    process that never said so (a test, a command) sends the newest."""
    global _services_table, _snapshot
    with _lock:
        _services_table = enabled
        _snapshot = None


def _read_oldest() -> dict[str, str]:
    """{kind (topic): the oldest rpc_version of its running services}."""
    # Here, not at the top: agents import this module and must load no
    # database layer (tests/unit/agents/test_no_db_access.py).
    import sqlalchemy as sa

    from arame.common.db import engine as db_engine
    from arame.common.db import models

    S = models.Service
    since = models.utcnow() - dt.timedelta(seconds=CONF.service_down_time)
    with db_engine.session() as s:
        rows = s.execute(
            sa.select(S.topic, S.host, S.rpc_version).where(
                S.last_heartbeat_at >= since
            )
        ).all()
    oldest: dict[str, str] = {}
    for kind, host, version in rows:
        version = version or UNREPORTED.get(kind, "1.0")
        try:
            parse(version)
        except ValueError:
            LOG.warning("%s service on %s reports %r", kind, host, version)
            continue
        if kind not in oldest or parse(version) < parse(oldest[kind]):
            oldest[kind] = version
    return oldest


def refresh(force: bool = True) -> None:
    """Read the running services' versions again (not force: only once
    [upgrade_levels] auto_refresh_interval has passed since the last
    read). The DB heartbeat calls it each beat, on its own thread: a
    message never waits on the database (nor, on SQLite, on the write
    lock of a transaction its caller holds). A database that does not
    answer keeps the last values."""
    global _snapshot
    from sqlalchemy import exc as sa_exc

    now = time.monotonic()
    with _lock:
        if not _services_table:
            return
        if not force and _snapshot is not None and _snapshot[1] > now:
            return
    try:
        oldest = _read_oldest()
    except sa_exc.SQLAlchemyError as e:
        LOG.warning("cannot read the services' RPC API versions: %s", e)
        return
    with _lock:
        _snapshot = (oldest, now + CONF.upgrade_levels.auto_refresh_interval)


def oldest_running(kind: str) -> str | None:
    """The oldest version the running `kind` services report, as last
    read (read now if never: a message before the first heartbeat)."""
    with _lock:
        snap = _snapshot
    if snap is None:
        refresh()
        with _lock:
            snap = _snapshot
    return None if snap is None else snap[0].get(kind)


def choose(kind: str, newest: str, from_services: bool = True) -> str:
    """The cap of messages to `kind` services from a client that speaks
    up to `newest`. from_services=False (an agent asking the collector)
    or a process without the services table: "auto" is the newest, as
    the control plane is upgraded before the agents."""
    pinned = getattr(CONF.upgrade_levels, kind)
    if pinned != "auto":
        cap, why = pinned, "pinned by [upgrade_levels]"
        if parse(pinned) > parse(newest):
            cap, why = newest, f"the newest known (pinned at {pinned})"
    elif not (from_services and _services_table):
        cap, why = newest, "auto: the newest known"
    else:
        oldest = oldest_running(kind)
        if oldest is None:
            cap, why = newest, f"auto: no {kind} service running"
        elif parse(oldest) < parse(newest):
            cap, why = oldest, f"auto: the oldest running {kind} service"
        else:
            cap, why = newest, "auto: the newest known"
    _log_once(kind, cap, why)
    return cap


def _log_once(kind: str, cap: str, why: str) -> None:
    with _lock:
        if _logged.get(kind) == cap:
            return
        _logged[kind] = cap
    LOG.info("RPC messages to %s services capped at %s (%s)", kind, cap, why)


def reset() -> None:
    """Forget the services' versions read and the caps logged (tests)."""
    global _snapshot
    with _lock:
        _snapshot = None
        _logged.clear()


class CappedClient:
    """An rpcapi's client: an oslo.messaging RPC client of `topic` capped
    as choose() says, made again when the cap changes. Only what the
    rpcapis use: prepare, call, cast, can_send_version, version_cap."""

    def __init__(
        self, kind: str, topic: str, newest: str, from_services: bool = True
    ):
        self.kind, self.topic, self.newest = kind, topic, newest
        self.from_services = from_services
        self._made: tuple[str, object] | None = None
        self._made_lock = threading.Lock()

    @property
    def version_cap(self) -> str:
        return choose(self.kind, self.newest, self.from_services)

    def _client(self):
        # The rpc package's get_client, looked up at each use: tests put
        # a recording client there.
        from arame.common import rpc

        cap = self.version_cap
        with self._made_lock:
            if self._made is None or self._made[0] != cap:
                self._made = (
                    cap,
                    rpc.get_client(self.topic, version_cap=cap),
                )
            return self._made[1]

    def can_send_version(self, version: str) -> bool:
        return compatible(self.version_cap, version)

    def prepare(self, **kw):
        return self._client().prepare(**kw)

    def call(self, ctxt, method: str, **kw):
        return self._client().call(ctxt, method, **kw)

    def cast(self, ctxt, method: str, **kw) -> None:
        self._client().cast(ctxt, method, **kw)
