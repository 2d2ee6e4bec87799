"""The documentation builds from a fresh tree with no warning, and nothing
in the repository points outside it.

This is the documentation's CI: the README's test command runs it, so a
warning (a broken reference, an option's help that is not valid reST, a
docstring the API reference cannot parse) fails the build as any test
does.
"""

import html
import html.parser
import importlib.metadata
import json
import os
import pathlib
import posixpath
import re
import subprocess
import sys
import urllib.parse

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
# Not the repository's own text: VCS data, environments, caches, builds.
SKIP_DIRS = {
    ".git",
    ".venv",
    "venv",
    "__pycache__",
    ".eggs",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
}
SKIP_PATHS = {ROOT / "build", ROOT / "dist", ROOT / "doc" / "build"}
# Spelled in two halves so that this file does not match itself.
OUTSIDE = "../" + "shared"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("html")
    # -E: read every page again (a cached environment hides warnings);
    # run from the repository root, where reno finds the git history.
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-E",
            "-q",
            "-b",
            "html",
            str(ROOT / "doc" / "source"),
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done, out


def test_docs_build_without_warnings(built):
    done, _ = built
    warnings = [
        line
        for line in done.stderr.splitlines()
        if "WARNING" in line or "ERROR" in line
    ]
    assert done.returncode == 0 and not warnings, done.stderr[-5000:]


class _Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.links = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.links.append(value)


def test_no_page_links_outside_the_documentation(built):
    done, out = built
    assert done.returncode == 0, done.stderr[-5000:]
    outside = []
    for page in out.rglob("*.html"):
        parser = _Links()
        parser.feed(page.read_text(encoding="utf-8"))
        for link in parser.links:
            url = urllib.parse.urlsplit(link)
            if url.scheme or url.netloc:
                outside.append((page.relative_to(out), link))
                continue
            if not url.path:
                continue  # an anchor in the same page
            target = posixpath.normpath(
                posixpath.join(
                    page.parent.relative_to(out).as_posix(), url.path
                )
            )
            if target.startswith("..") or not (out / target).exists():
                outside.append((page.relative_to(out), link))
    assert outside == []


def _repository_files():
    for dirpath, dirnames, filenames in os.walk(ROOT):
        dirnames[:] = [
            d
            for d in dirnames
            if d not in SKIP_DIRS
            and not d.endswith(".egg-info")
            and pathlib.Path(dirpath, d) not in SKIP_PATHS
        ]
        for name in filenames:
            yield pathlib.Path(dirpath, name)


def test_nothing_in_the_repository_points_outside_it():
    pointing = []
    for path in _repository_files():
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue  # binary files
        if OUTSIDE in text:
            pointing.append(str(path.relative_to(ROOT)))
    assert pointing == []


def test_the_api_reference_has_every_operation(built):
    done, out = built
    assert done.returncode == 0, done.stderr[-5000:]
    document = json.loads(
        (ROOT / "arame" / "api" / "openapi.json").read_text(encoding="utf-8")
    )
    page = html.unescape(
        (out / "user" / "api.html").read_text(encoding="utf-8")
    )
    missing = [
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method in item
        if method in ("get", "put", "post", "patch", "delete")
        and f"{method.upper()} {path}" not in page
    ]
    assert missing == []


def _registered_options():
    """(group, name) of every option the sample config documents."""
    found = set()
    for ns in ("arame", "oslo.messaging", "oslo.log", "oslo.policy"):
        (ep,) = importlib.metadata.entry_points(
            group="oslo.config.opts", name=ns
        )
        for group, opts in ep.load()():
            name = getattr(group, "name", group) or "DEFAULT"
            found.update((name, opt.dest) for opt in opts)
    return found


def test_options_the_docs_name_exist():
    # ``[group] option`` in any page must be an option the code registers:
    # renamed or dropped options must not live on in the prose.
    mention = re.compile(r"``\[(\w+)\]\s+(\w+)``")
    options = _registered_options()
    stale = sorted(
        (str(page.relative_to(ROOT)), group, name)
        for page in (ROOT / "doc" / "source").rglob("*.rst")
        for group, name in mention.findall(page.read_text(encoding="utf-8"))
        if (group, name) not in options
    )
    assert stale == []


def test_paths_the_docs_name_exist():
    # ``arame/...``, ``tests/...``, ``tools/...`` in any page must still be
    # there: modules move, and the prose must move with them. Placeholders
    # (``arame/agents/<agent>/``) and globs are not paths.
    mention = re.compile(
        r"``((?:arame|tests|tools|etc|doc|releasenotes)/[^`\s]*)``"
    )
    stale = sorted(
        (str(page.relative_to(ROOT)), path)
        for page in (ROOT / "doc" / "source").rglob("*.rst")
        for path in mention.findall(page.read_text(encoding="utf-8"))
        if "<" not in path
        and "*" not in path
        and not (ROOT / path.rstrip("/")).exists()
    )
    assert stale == []


def test_the_api_renderer_reads_any_3_1_schema():
    # The document changes as the API does: the renderer must take every
    # OpenAPI 3.1 shape, not only those the document has today.
    sys.path.insert(0, str(ROOT / "doc" / "source" / "_ext"))
    try:
        import arame_openapi
    finally:
        sys.path.pop(0)
    document = {
        "openapi": "3.1.0",
        "paths": {
            "/v1/things/{id}": {
                "parameters": [{"name": "id", "in": "path", "required": True}],
                "put": {
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {
                                    "$ref": "#/components/schemas/Thing"
                                }
                            }
                        }
                    },
                    "responses": {"204": {"description": "done"}},
                },
            }
        },
        "components": {
            "schemas": {
                "Thing": {
                    "type": "object",
                    "properties": {
                        "pair": {
                            "type": "array",
                            "prefixItems": [
                                {"type": "string"},
                                {"type": "integer"},
                            ],
                        },
                        "maybe": {
                            "type": ["string", "null"],
                            "format": "date-time",
                        },
                        "kind": {"const": "a`b*c"},
                        "labels": {
                            "type": "object",
                            "additionalProperties": {"type": "string"},
                        },
                        "any": {},
                    },
                }
            }
        },
    }
    text = "\n".join(arame_openapi.render(document))
    assert "PUT /v1/things/{id}" in text
    assert "``id``" in text  # a parameter declared on the path
    assert "[string, integer]" in text
    assert "string (date-time) or null" in text
    assert "object of string" in text
