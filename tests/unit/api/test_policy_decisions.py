"""Policy decisions are kept until the rules change (policy_decisions.py):
a repeated check does not run oslo.policy again, callers and targets are
decided apart, and an operator's edit of the policy file takes effect at
the next look at the rules."""

import os

from oslo_policy import policy as oslo_policy

from arame.api import policy
from arame.api.policy_decisions import RECHECK_SECONDS, Decisions
from arame.common.conf import CONF
from arame.common.context import RequestContext


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class Counting(oslo_policy.Enforcer):
    def __init__(self):
        super().__init__(CONF)
        self.register_defaults(policy.RULES)
        self.asked = 0

    def enforce(self, *a, **kw):
        self.asked += 1
        return super().enforce(*a, **kw)


def _ctx(role, account="acct-a", user="user-1"):
    return RequestContext(account_id=account, user_id=user, roles=(role,))


def _allowed(decisions, enforcer, ctxt, rule, target_account=None):
    target = {
        "account_id": target_account or ctxt.account_id,
        "user_id": ctxt.user_id,
    }
    return decisions.allowed(enforcer, rule, target, policy.credentials(ctxt))


def test_a_repeated_check_is_decided_once(parsed_conf, auth_state):
    enforcer, decisions = Counting(), Decisions(clock=Clock())
    member = _ctx("member")
    for _ in range(5):
        assert _allowed(decisions, enforcer, member, "instances:create")
    assert enforcer.asked == 1


def test_callers_and_targets_are_decided_apart(parsed_conf, auth_state):
    enforcer, decisions = Counting(), Decisions(clock=Clock())
    member, reader = _ctx("member"), _ctx("reader")
    assert _allowed(decisions, enforcer, member, "instances:delete")
    assert not _allowed(decisions, enforcer, reader, "instances:delete")
    assert _allowed(decisions, enforcer, reader, "instances:get")
    # Another account's resource: the same member, refused.
    assert not _allowed(
        decisions, enforcer, member, "instances:delete", "acct-b"
    )
    assert _allowed(decisions, enforcer, member, "instances:delete")
    assert enforcer.asked == 4


def test_an_edit_of_the_policy_file_takes_effect_at_the_next_look(
    parsed_conf, auth_state, config, tmp_path
):
    path = tmp_path / "policy.yaml"
    config("policy_file", str(path), group="oslo_policy")
    clock = Clock()
    enforcer, decisions = Counting(), Decisions(clock=clock)
    reader = _ctx("reader")
    assert not _allowed(decisions, enforcer, reader, "instances:delete")

    path.write_text('"instances:delete": "rule:reader"\n')
    # oslo.policy reloads on a new mtime: make sure it is new.
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    # Until the next look, the kept decision stands.
    assert not _allowed(decisions, enforcer, reader, "instances:delete")
    clock.now += RECHECK_SECONDS
    assert _allowed(decisions, enforcer, reader, "instances:delete")

    path.write_text("")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2 * 10**9))
    clock.now += RECHECK_SECONDS
    assert not _allowed(decisions, enforcer, reader, "instances:delete")


def test_the_api_checks_through_the_kept_decisions(parsed_conf, auth_state):
    member = _ctx("member")
    policy.enforce(member, "instances:create")
    assert policy._decisions._kept
