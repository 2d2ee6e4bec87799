"""Policy decisions kept until the rules change.

oslo.policy's enforce() looks for the policy file in every configuration
directory and inspects each check's signature on every call: 8 % of the
API's CPU in the control-plane benchmark, for answers that depend only on
the rule, the target and the caller's credentials, and on the rules. So a
decision is kept, and the rules are looked at again (oslo.policy's own
reload: the policy file and policy directories, by mtime) at most once a
second. A change of the file takes effect within that second; a decision
made while the rules changed is not kept.
"""

import threading
import time

# How often the policy file is looked at again.
RECHECK_SECONDS = 1.0
# Bounds the memory of a process that sees very many callers: past it,
# decisions are made but not kept until the next change of the rules.
_MAX_KEPT = 100_000


def _fingerprint(rules) -> frozenset:
    return frozenset((name, str(check)) for name, check in rules.items())


class Decisions:
    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._kept: dict[tuple, bool] = {}
        self._rules: frozenset | None = None
        self._epoch = 0
        self._next_check = 0.0

    def allowed(self, enforcer, rule: str, target: dict, creds: dict) -> bool:
        now = self._clock()
        if now >= self._next_check:
            self._recheck(enforcer, now)
        key = (
            rule,
            tuple(sorted(target.items())),
            tuple(
                sorted(
                    (k, tuple(v) if isinstance(v, list) else v)
                    for k, v in creds.items()
                )
            ),
        )
        with self._lock:
            hit = self._kept.get(key)
            epoch = self._epoch
        if hit is not None:
            return hit
        decision = bool(enforcer.enforce(rule, target, creds))
        with self._lock:
            if epoch == self._epoch and len(self._kept) < _MAX_KEPT:
                self._kept[key] = decision
        return decision

    def _recheck(self, enforcer, now: float) -> None:
        enforcer.load_rules()
        seen = _fingerprint(enforcer.rules)
        with self._lock:
            self._next_check = now + RECHECK_SECONDS
            if seen != self._rules:
                self._rules = seen
                self._epoch += 1
                self._kept.clear()
