"""An instance's metrics: asked of the hypervisor agent that runs it (it
keeps the recent samples in memory; nothing is in the database)."""

import datetime as dt
import math

from arame.agents.hva import rpcapi as hva_rpcapi
from arame.api.errors import ServiceUnavailable
from arame.api.lookup import load_owned
from arame.common import exceptions
from arame.common.db import engine as db_engine
from arame.common.db import models

SINCE_WORDS = (
    "expected a date-time such as 2026-12-05T10:00:00Z, or a number of "
    "seconds before now such as 600"
)
# Where there is no guest to sample.
_NO_HOST = ("pending", "scheduling", "terminated")


def parse_since(value: str | None, now: dt.datetime) -> dt.datetime | None:
    """`since`: an ISO 8601 time (UTC when it names no zone), or a number
    of seconds before now."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        seconds = None
    if seconds is not None:
        if not math.isfinite(seconds) or seconds < 0:
            raise exceptions.Invalid(f"since: {SINCE_WORDS}", field="since")
        return now - dt.timedelta(seconds=min(seconds, 10 * 365 * 86400))
    try:
        at = dt.datetime.fromisoformat(text)
    except ValueError:
        raise exceptions.Invalid(
            f"since: {SINCE_WORDS}", field="since"
        ) from None
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)


class MetricsService:
    def __init__(self, hva=None):
        self._hva = hva

    @property
    def hva(self):
        if self._hva is None:
            self._hva = hva_rpcapi.HypervisorAPI()
        return self._hva

    def instance_metrics(
        self, ctxt, instance_id: str, since: str | None = None
    ) -> dict:
        start = parse_since(since, dt.datetime.now(dt.UTC))
        with db_engine.session() as s:
            inst = load_owned(
                s,
                ctxt,
                models.Instance,
                "instance",
                instance_id,
                "instances:metrics",
            )
            iid, host, status = inst.id, inst.host, inst.status
        if host is None or status in _NO_HOST:
            raise exceptions.Conflict(
                f"instance {iid} is {status}: it runs on no host, so "
                f"nothing samples it"
            )
        try:
            got = self.hva.get_metrics(
                ctxt,
                host,
                iid,
                since=start.timestamp() if start else None,
                timeout=10,
            )
        except Exception as e:
            raise ServiceUnavailable(
                f"the hypervisor agent on {host} did not answer: "
                f"{type(e).__name__}"
            ) from e
        samples = [
            {**x, "at": dt.datetime.fromtimestamp(x["at"], dt.UTC)}
            for x in got.get("samples", [])
        ]
        if start is not None:
            # Again, at the microseconds the answer shows: `since` copied
            # from a sample's `at` excludes that sample (the agent compared
            # its own finer clock).
            samples = [x for x in samples if x["at"] > start]
        return {
            "instance_id": iid,
            "interval": got.get("interval", 0),
            "samples": samples,
        }
