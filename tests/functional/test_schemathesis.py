"""schemathesis against the running API (real MariaDB and RabbitMQ, fake
drivers), as a new user would fuzz it: its own /openapi.json, every check
(`--checks all`), every phase (examples, coverage, fuzzing, stateful), a
fixed seed, with a member's token and then an admin's.

Passes when schemathesis finds nothing: no 5xx, every answer as documented
(status, content type, headers, body), input that violates the schema
refused, input that matches it accepted, 405 with a correct Allow, and
no daemon logs an error meanwhile. A status the document marks as one
that schema-valid input may still get (errors.VALID_INPUT_REFUSED: an
unknown marker, a rule across fields) is accepted on that operation only.

ARAME_SCHEMATHESIS_EXAMPLES sets the examples per operation and phase
(default 50: a minute and a half per token on two cores);
ARAME_SCHEMATHESIS_SEED the seed (default 16).
"""

import json
import os
import subprocess
import sys

import httpx
import pytest

from arame.api.errors import VALID_INPUT_REFUSED

pytestmark = pytest.mark.functional

ROOT = os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
)

EXAMPLES = int(os.environ.get("ARAME_SCHEMATHESIS_EXAMPLES", "50"))
SEED = int(os.environ.get("ARAME_SCHEMATHESIS_SEED", "16"))
# schemathesis' own list for positive_data_acceptance (`st explain ST202`);
# an operation's own refusals are added to it.
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]
METHODS = ("get", "put", "post", "delete", "patch")


def command(url: str, config: str, token: str, reports: str) -> list[str]:
    """The run: what `schemathesis run <url>/openapi.json --checks all`
    does, bounded and reproducible."""
    return [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--no-color",
        "--config-file",
        config,
        "run",
        f"{url}/openapi.json",
        "--url",
        url,
        "--checks",
        "all",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--seed",
        str(SEED),
        "--max-examples",
        str(EXAMPLES),
        "--workers",
        "1",
        "--generation-database",
        "none",
        "--request-timeout",
        "30",
        "--header",
        f"Authorization: Bearer {token}",
        "--report",
        "junit",
        "--report-dir",
        reports,
    ]


def config_for(document: dict) -> str:
    """schemathesis.toml: for each operation, the statuses its document
    marks as answers to schema-valid input, accepted as such."""
    out = []
    for path, item in sorted(document["paths"].items()):
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            refused = sorted(
                status
                for status, response in op["responses"].items()
                if response.get(VALID_INPUT_REFUSED)
            )
            if refused:
                statuses = json.dumps(ACCEPTED + refused)
                out += [
                    "[[operations]]",
                    f'include-name = "{method.upper()} {path}"',
                    "checks.positive_data_acceptance.expected-statuses = "
                    f"{statuses}",
                    "",
                ]
    return "\n".join(out)


def login(dep, username, password) -> dict:
    r = httpx.post(
        f"{dep.api_url}/v1/auth/tokens",
        json={"username": username, "password": password},
    )
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture(scope="module")
def identities(shared_deployment):
    """{who: (token, own user id)} for an admin and a member, and the id of
    a user neither is (what a change of their own password goes to)."""
    dep = shared_deployment
    admin = login(dep, "admin", dep.admin_password)
    headers = {"Authorization": f"Bearer {admin['token']}"}
    acct = httpx.post(
        f"{dep.api_url}/v1/accounts", headers=headers, json={"name": "fuzz"}
    )
    assert acct.status_code == 201, acct.text
    users = {}
    for name in ("fuzzer", "bystander"):
        r = httpx.post(
            f"{dep.api_url}/v1/users",
            headers=headers,
            json={
                "username": name,
                "password": "fuzz-pw-123",
                "account_id": acct.json()["id"],
                "role": "member",
            },
        )
        assert r.status_code == 201, r.text
        users[name] = r.json()["id"]
    member = login(dep, "fuzzer", "fuzz-pw-123")
    return {
        "admin": (admin["token"], admin["user"]["id"]),
        "member": (member["token"], member["user"]["id"]),
        "other": users["bystander"],
    }


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


def test_the_config_accepts_only_what_an_operation_documents():
    document = {
        "paths": {
            "/v1/things": {
                "get": {
                    "responses": {
                        "200": {},
                        "400": {VALID_INPUT_REFUSED: True},
                        "422": {},
                    }
                },
                "post": {"responses": {"201": {}, "422": {}}},
            }
        }
    }
    assert config_for(document) == (
        "[[operations]]\n"
        'include-name = "GET /v1/things"\n'
        "checks.positive_data_acceptance.expected-statuses = "
        + json.dumps(ACCEPTED + ["400"])
        + "\n"
    )


# The member first: the admin's run may change or remove any other user.
@pytest.mark.parametrize("who", ["member", "admin"])
def test_schemathesis_finds_nothing(
    shared_deployment, identities, tmp_path, who
):
    dep = shared_deployment
    document = httpx.get(f"{dep.api_url}/openapi.json").json()
    assert len(document["paths"]) >= 40
    config = tmp_path / "schemathesis.toml"
    config.write_text(config_for(document))
    token, own_id = identities[who]
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.functional.schemathesis_hooks",
        "ARAME_FUZZ_SELF": own_id,
        "ARAME_FUZZ_OTHER": identities["other"],
        "PYTHONPATH": ROOT,
    }
    run = subprocess.run(
        command(dep.api_url, str(config), token, str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
        # schemathesis keeps a cache (.schemathesis/) where it runs.
        cwd=tmp_path,
    )
    logs = errors_logged(dep)
    out = run.stdout + run.stderr
    # The summary and the failures are at the end.
    assert run.returncode == 0, f"[{who}] {out[-20000:]}"
    assert "Tested: " in out, out[-3000:]
    # The run tested the API, not its login: the token held throughout.
    me = httpx.get(
        f"{dep.api_url}/v1/users/{own_id}",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert me.status_code == 200, me.text
    assert not logs, logs[:6000]
