"""What the records must agree on, checked and repaired by the collector.

Flows keep these true by moving a counter together with the flag that
justifies it, in one transaction (a claim, a quota take, a give-back). A
process killed between two of a flow's transactions, a lost notification
or a bug can still leave a counter no flag justifies, or a ledger with a
hole in it. Every `[collector] invariants_interval` seconds the collector
checks host claims (claim_drift), account quotas (quota_drift) and the
usage ledger (usage_drift), and repairs what drifted.

No check races a flow: resources a flow owns are skipped (their host or
account with them), and every repair is a compare-and-set in the
transaction that read the value (a counter: WHERE used = <value read>),
so a change made meanwhile is never overwritten; it costs one round.
"""

from oslo_log import log

from arame.collector import claim_drift, drift, quota_drift, usage_drift
from arame.common.conf import CONF
from arame.common.db import engine as db_engine
from arame.common.db import models

LOG = log.getLogger(__name__)

# A usage record is sent after the commit that made it true: younger
# than this, a missing one may still be on the bus.
LEDGER_SETTLE_S = 60


def check(session, *, settle_s: float = LEDGER_SETTLE_S, now=None):
    """The drifts found, as readable strings; repairs nothing."""
    return [str(d) for d in find(session, settle_s=settle_s, now=now)]


def find(
    session, *, settle_s: float = LEDGER_SETTLE_S, now=None
) -> list[drift.Drift]:
    return (
        claim_drift.hosts(session)
        + claim_drift.leaked_claims(session)
        + quota_drift.quotas(session)
        + quota_drift.leaked_holds(session)
        + usage_drift.ledger(session, settle_s, now or models.utcnow())
    )


def run() -> int:
    """One round (the collector's periodic task): find and repair in one
    transaction; the number of repairs."""
    if not CONF.collector.invariants_interval:
        return 0
    repaired = 0
    with db_engine.session() as s:
        for d in find(s):
            if d.repair(s):
                repaired += 1
                LOG.warning("repaired drift of %s", d)
            else:
                LOG.info("drift changed meanwhile, next round: %s", d)
    return repaired
