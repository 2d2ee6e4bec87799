"""``.. openapi-reference::`` renders the committed OpenAPI document.

Why not sphinxcontrib-openapi: its 0.10 release renders no request or
response schema unless ``:examples:`` is given, and with ``:examples:`` it
fails on OpenAPI 3.1 schemas of this document (arrays described by
``prefixItems``). This renderer is small, reads any valid 3.1 document (it
only walks ``paths`` and ``components.schemas``, tolerating keywords it does
not know) and needs no network.

One section per tag (the first tag of each operation; untagged operations go
under their first path segment), one subsection per operation with its
parameters, request body and responses, then one section per component
schema that the operations link to.
"""

import json
import re

from docutils import nodes
from docutils.parsers.rst import Directive
from docutils.statemachine import StringList
from sphinx.util.nodes import nested_parse_with_titles

METHODS = ("get", "put", "post", "patch", "delete", "head", "options")
_SPECIAL = re.compile(r"([\\*|_`<>:\[\]])")


def _text(value):
    """One line of reST from free text; `code` spans stay literal."""
    out = []
    for i, part in enumerate(
        re.split(r"`([^`]+)`", " ".join(str(value or "").split()))
    ):
        out.append(f"``{part}``" if i % 2 else _SPECIAL.sub(r"\\\1", part))
    return "".join(out)


def _label(name):
    return "openapi-schema-" + re.sub(r"[^a-z0-9]+", "-", name.lower())


def _ref_name(ref):
    return ref.rsplit("/", 1)[-1]


def _type(schema):
    """A short reST description of a schema's type."""
    if not isinstance(schema, dict):
        return "any"
    if "$ref" in schema:
        name = _ref_name(schema["$ref"])
        return f":ref:`{name} <{_label(name)}>`"
    for key in ("anyOf", "oneOf"):
        if key in schema:
            kinds = [_type(s) for s in schema[key]]
            return " or ".join(dict.fromkeys(kinds))
    if "allOf" in schema:
        return " and ".join(_type(s) for s in schema["allOf"])
    if "const" in schema:
        return f"``{json.dumps(schema['const'])}``"
    if "enum" in schema:
        return "one of " + ", ".join(
            f"``{json.dumps(v)}``" for v in schema["enum"]
        )
    kind = schema.get("type", "any")
    if isinstance(kind, list):
        return " or ".join(_type({**schema, "type": k}) for k in kind)
    if kind == "array":
        if "prefixItems" in schema:
            return (
                "[" + ", ".join(_type(s) for s in schema["prefixItems"]) + "]"
            )
        return "array of " + _type(schema.get("items", {}))
    if kind == "object" and isinstance(
        schema.get("additionalProperties"), dict
    ):
        return "object of " + _type(schema["additionalProperties"])
    if "format" in schema:
        return f"{kind} ({schema['format']})"
    return str(kind)


_LIMITS = (
    ("minLength", "at least {} characters"),
    ("maxLength", "at most {} characters"),
    ("minimum", "≥ {}"),
    ("maximum", "≤ {}"),
    ("exclusiveMinimum", "> {}"),
    ("exclusiveMaximum", "< {}"),
    ("minItems", "at least {} items"),
    ("maxItems", "at most {} items"),
    ("pattern", "matches ``{}``"),
)


def _limits(schema):
    found = []
    if not isinstance(schema, dict):
        return found
    for sub in schema.get("anyOf", []) + schema.get("oneOf", []):
        found.extend(_limits(sub))
    for key, fmt in _LIMITS:
        if key in schema:
            found.append(fmt.format(schema[key]))
    if "default" in schema and schema["default"] is not None:
        found.append(f"default ``{json.dumps(schema['default'])}``")
    return found


def _describe(schema, description=None):
    text = _text(description or (schema or {}).get("description", ""))
    limits = "; ".join(_limits(schema))
    return " ".join(p for p in (text, f"({limits})" if limits else "") if p)


def _table(header, rows):
    lines = [".. list-table::", "   :header-rows: 1", ""]
    for row in [header] + rows:
        lines.append("   * - " + (row[0] or "\\-"))
        lines.extend("     - " + (cell or "\\-") for cell in row[1:])
    return lines + [""]


def _heading(title, char):
    return [title, char * len(title), ""]


def _properties(schema):
    required = set(schema.get("required", []))
    return [
        [
            f"``{name}``",
            _type(prop),
            "yes" if name in required else "no",
            _describe(prop),
        ]
        for name, prop in schema.get("properties", {}).items()
    ]


def _content(content):
    """Media types and their schemas, as reST lines."""
    lines = []
    for media, body in (content or {}).items():
        schema = body.get("schema") if isinstance(body, dict) else None
        lines.append(f"``{media}``: " + (_type(schema) if schema else "") + "")
        lines.append("")
    return lines


def _operation(path, method, op):
    lines = _heading(f"{method.upper()} {path}", "~")
    if op.get("summary"):
        lines += ["**" + _text(op["summary"]) + "**", ""]
    if op.get("description"):
        lines += [_text(op["description"]), ""]
    if op.get("security") == []:
        lines += ["No token needed.", ""]
    params = op.get("parameters", [])
    if params:
        lines += [".. rubric:: Parameters", ""]
        lines += _table(
            ["name", "in", "type", "required", "description"],
            [
                [
                    f"``{p.get('name')}``",
                    p.get("in", ""),
                    _type(p.get("schema", {})),
                    "yes" if p.get("required") else "no",
                    _describe(p.get("schema", {}), p.get("description")),
                ]
                for p in params
                if isinstance(p, dict)
            ],
        )
    body = op.get("requestBody")
    if isinstance(body, dict):
        lines += [".. rubric:: Request body", ""]
        if body.get("description"):
            lines += [_text(body["description"]), ""]
        lines += _content(body.get("content"))
    responses = op.get("responses", {})
    if responses:
        lines += [".. rubric:: Responses", ""]
        rows = []
        for status, resp in responses.items():
            resp = resp if isinstance(resp, dict) else {}
            kinds = "; ".join(
                f"``{media}`` " + _type(b.get("schema"))
                if isinstance(b, dict) and b.get("schema")
                else f"``{media}``"
                for media, b in resp.get("content", {}).items()
            )
            rows.append(
                [f"``{status}``", _text(resp.get("description")), kinds]
            )
        lines += _table(["status", "meaning", "body"], rows)
    return lines


def render(document):
    """The whole reference as reST lines."""
    groups = {}
    for path, item in document.get("paths", {}).items():
        for method in METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            tags = op.get("tags") or [
                path.strip("/").split("/")[1 if path.startswith("/v1/") else 0]
                or "root"
            ]
            # Parameters declared on the path apply to each operation
            # (the operation's own win).
            own = {
                (p.get("name"), p.get("in"))
                for p in op.get("parameters", [])
                if isinstance(p, dict)
            }
            shared = [
                p
                for p in item.get("parameters", [])
                if isinstance(p, dict)
                and (p.get("name"), p.get("in")) not in own
            ]
            op = {**op, "parameters": shared + op.get("parameters", [])}
            groups.setdefault(tags[0], []).append((path, method, op))
    lines = []
    for tag in sorted(groups):
        lines += _heading(tag.replace("_", " ").capitalize(), "-")
        for path, method, op in groups[tag]:
            lines += _operation(path, method, op)
    schemas = document.get("components", {}).get("schemas", {})
    if schemas:
        lines += _heading("Schemas", "-")
    for name in sorted(schemas):
        schema = schemas[name]
        lines += [f".. _{_label(name)}:", ""] + _heading(name, "~")
        if schema.get("description"):
            lines += [_text(schema["description"]), ""]
        if schema.get("properties"):
            lines += _table(
                ["field", "type", "required", "description"],
                _properties(schema),
            )
        else:
            lines += [
                _type({k: v for k, v in schema.items() if k != "title"}),
                "",
            ]
    return lines


class OpenAPIReference(Directive):
    has_content = False

    def run(self):
        env = self.state.document.settings.env
        path = env.config.arame_openapi_path
        env.note_dependency(path)
        with open(path, encoding="utf-8") as f:
            document = json.load(f)
        node = nodes.section()
        node.document = self.state.document
        nested_parse_with_titles(
            self.state,
            StringList(render(document), source=path),
            node,
            self.content_offset,
        )
        return node.children


def setup(app):
    app.add_config_value("arame_openapi_path", "", "env")
    app.add_directive("openapi-reference", OpenAPIReference)
    return {"parallel_read_safe": True, "version": "1"}
