"""The committed generated files match what the code produces now.

arame/api/openapi.json (tools/gen-openapi), etc/arame/arame.conf.sample and
etc/arame/policy.yaml.sample (tools/gen-samples). The generators run in a
subprocess: they parse the global CONF and select oslo.service's backend,
which must not leak into (or depend on) the other tests of the session.
"""

import json
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SPEC = ROOT / "arame" / "api" / "openapi.json"
ERROR_REF = "#/components/schemas/ErrorBody"

# The first release's table of paths (doc/source/architecture/rest.rst), the paths the app already implements.
IMPLEMENTED_PATHS = (
    "/v1/auth/tokens",
    "/v1/instances",
    "/v1/instances/{instance_id}",
    "/v1/instances/{instance_id}/actions",
    "/v1/instances/{instance_id}/console",
    "/v1/tasks",
    "/v1/tasks/{task_id}",
    "/v1/hosts",
    "/v1/flavors",
    "/v1/images",
    "/v1/networks",
    "/v1/security_groups",
    "/v1/volumes",
    "/v1/volumes/{volume_id}",
    "/v1/snapshots",
    "/v1/snapshots/{snapshot_id}",
)
HTTP_METHODS = {
    "get",
    "put",
    "post",
    "delete",
    "patch",
    "head",
    "options",
    "trace",
}


def _run_check(tool: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "tools" / tool), "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize(
    "tool, files",
    [
        ("gen-openapi", "arame/api/openapi.json"),
        (
            "gen-samples",
            "etc/arame/arame.conf.sample and etc/arame/policy.yaml.sample",
        ),
    ],
)
def test_committed_file_is_up_to_date(tool, files):
    proc = _run_check(tool)
    assert proc.returncode == 0, (
        f"{files}: not what the code generates now; regenerate with "
        f"`tools/{tool}` and commit the result.\n{proc.stdout}{proc.stderr}"
    )


@pytest.fixture(scope="module")
def spec():
    return json.loads(SPEC.read_text())


def _operations(spec):
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method in HTTP_METHODS:
                yield path, method, op


@pytest.mark.parametrize("path", IMPLEMENTED_PATHS)
def test_implemented_path_is_in_spec(spec, path):
    assert path in spec["paths"], (
        f"{path} is missing from arame/api/openapi.json; if the app serves "
        f"it, regenerate with `tools/gen-openapi`"
    )


def _resolve(spec, obj):
    while "$ref" in obj and obj["$ref"].startswith("#/components/responses/"):
        obj = spec["components"]["responses"][obj["$ref"].rsplit("/", 1)[1]]
    return obj


def test_every_4xx_response_uses_error_schema(spec):
    wrong = []
    for path, method, op in _operations(spec):
        for code, response in op.get("responses", {}).items():
            if not code.startswith("4"):
                continue
            content = _resolve(spec, response).get("content", {})
            schema = content.get("application/json", {}).get("schema", {})
            if schema.get("$ref") != ERROR_REF:
                wrong.append(
                    f"{method.upper()} {path} {code}: {schema or content}"
                )
    assert not wrong, "4xx responses not using ErrorBody:\n" + "\n".join(wrong)


def test_spec_has_4xx_responses(spec):
    # Guard the test above against passing on a spec with no error responses.
    codes = {
        code
        for _, _, op in _operations(spec)
        for code in op.get("responses", {})
    }
    assert {"400", "401", "403", "404", "409", "422"} <= codes
