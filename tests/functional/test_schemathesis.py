"""schemathesis against the running API (real MariaDB and RabbitMQ, fake
drivers): every operation of its own /openapi.json, with an admin's token
and with a member's, a bounded number of generated requests each.

Passes when no answer is a 5xx and every answer fits the documented
schema (status code and body). ARAME_SCHEMATHESIS_EXAMPLES sets the
number of examples per operation and token (default 25: about a
minute on two cores; 60 take about two).
"""

import os

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import checks

pytestmark = pytest.mark.functional

EXAMPLES = int(os.environ.get("ARAME_SCHEMATHESIS_EXAMPLES", "25"))
CHECKS = [
    checks.not_a_server_error,
    checks.response_schema_conformance,
    checks.status_code_conformance,
]


def login(dep, username, password) -> dict:
    r = httpx.post(
        f"{dep.api_url}/v1/auth/tokens",
        json={"username": username, "password": password},
    )
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


@pytest.fixture(scope="module")
def tokens(shared_deployment):
    dep = shared_deployment
    admin = login(dep, "admin", dep.admin_password)
    acct = httpx.post(
        f"{dep.api_url}/v1/accounts", headers=admin, json={"name": "fuzz"}
    )
    assert acct.status_code == 201, acct.text
    user = httpx.post(
        f"{dep.api_url}/v1/users",
        headers=admin,
        json={
            "username": "fuzzer",
            "password": "fuzz-pw-123",
            "account_id": acct.json()["id"],
            "role": "member",
        },
    )
    assert user.status_code == 201, user.text
    return {"admin": admin, "member": login(dep, "fuzzer", "fuzz-pw-123")}


def fuzz(operation, base_url: str, headers: dict) -> dict:
    """Run the generated cases of one operation: {(operation, failure
    title): a way to reproduce it} for each distinct failure."""
    found: dict = {}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def run(case):
        if case.headers is None:
            case.headers = {}
        case.headers.update(headers)
        try:
            case.call_and_validate(
                base_url=base_url, checks=CHECKS, timeout=30
            )
        # One failed check is an AssertionError, several a FailureGroup.
        except (AssertionError, BaseExceptionGroup) as e:
            parts = e.exceptions if isinstance(e, BaseExceptionGroup) else [e]
            for f in parts:
                title = getattr(f, "title", type(f).__name__)
                found.setdefault(
                    (operation.label, title),
                    (
                        f"{case.as_curl_command()}\n"
                        f"{getattr(f, 'message', str(f))[:600]}"
                    ),
                )

    run()
    return found


def errors_logged(dep) -> str:
    """The daemons' own account of any 5xx (ERROR lines and the traceback
    after each), read before the deployment goes."""
    out = []
    for name in sorted(os.listdir(dep.log_dir)):
        with open(os.path.join(dep.log_dir, name), errors="replace") as f:
            lines = f.readlines()
        for i, line in enumerate(lines):
            if " ERROR " in line or " CRITICAL " in line:
                out.append(f"{name}: " + "".join(lines[i : i + 25]))
    return "\n".join(out[:10])


def test_no_5xx_and_no_schema_violation(shared_deployment, tokens):
    dep = shared_deployment
    schema = schemathesis.openapi.from_url(f"{dep.api_url}/openapi.json")
    failures, operations = {}, 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for who in ("admin", "member"):
            for key, how in fuzz(operation, dep.api_url, tokens[who]).items():
                failures.setdefault(key, f"[{who}] {how}")
    assert operations >= 40
    report = "\n\n".join(
        f"{op} -- {title}\n{how}"
        for (op, title), how in sorted(failures.items())
    )
    logs = errors_logged(dep)
    assert not failures, (
        f"{len(failures)} distinct failure(s):\n\n{report}"
        f"\n\nerrors logged:\n{logs[:6000]}"
    )
    assert not logs, logs[:6000]
