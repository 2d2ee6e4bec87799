"""A disagreement between records, as the invariants' check finds it, and
its repair: a compare-and-set in the transaction that read the values."""

import dataclasses
from collections.abc import Callable

import sqlalchemy as sa

# Rows one round looks at per kind: the rest wait for the next round.
LIMIT = 500


@dataclasses.dataclass
class Drift:
    """One disagreement: `resource`'s `recorded` values, the `true` ones,
    and how to make the record true (False: it changed meanwhile)."""

    resource: str
    recorded: dict
    true: dict
    repair: Callable[[object], bool] = dataclasses.field(repr=False)

    def __str__(self) -> str:
        return f"{self.resource}: " + ", ".join(
            f"{k} recorded {self.recorded[k]!r}, true {self.true[k]!r}"
            for k in self.true
        )


def differs(recorded: dict, true: dict) -> tuple[dict, dict]:
    keys = [k for k in true if recorded[k] != true[k]]
    return {k: recorded[k] for k in keys}, {k: true[k] for k in keys}


def cas(model, key, read: dict, true: dict):
    """UPDATE model SET true WHERE key AND every value read still holds
    (all of them, not only those that differ: a change to any is a flow's
    that the read did not see)."""

    def repair(session) -> bool:
        return (
            session.execute(
                sa.update(model)
                .where(key, *(getattr(model, k) == v for k, v in read.items()))
                .values(**true)
                .execution_options(synchronize_session=False)
            ).rowcount
            == 1
        )

    return repair
