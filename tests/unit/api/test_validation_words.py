"""A 422 says in words what a field expects, never as a regular expression
(issue 15: `image: String should match pattern '^[a-z]{1,4}-...'` told a
new user nothing)."""

import importlib
import inspect
import pkgutil

import pydantic
import pytest

import arame.api.schemas
from arame.api import errors
from arame.api.app import create_app
from arame.api.schemas import common

# What no message may show: the syntax of an expression.
REGEX_SYNTAX = ("^", "$", "[", "]", "{", "}", "\\", "(?", "should match")
BAD = "-not valid-"


def _models():
    for info in pkgutil.iter_modules(arame.api.schemas.__path__):
        module = importlib.import_module(f"arame.api.schemas.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(cls, pydantic.BaseModel)
                and cls.__module__ == module.__name__
            ):
                yield cls


def _has_pattern(schema) -> bool:
    if isinstance(schema, dict):
        return "pattern" in schema or any(
            _has_pattern(v) for v in schema.values()
        )
    if isinstance(schema, list):
        return any(_has_pattern(v) for v in schema)
    return False


def _pattern_fields():
    for model in _models():
        for name, field in model.model_fields.items():
            adapter = pydantic.TypeAdapter(field.rebuild_annotation())
            schema = adapter.json_schema()
            # A nested model's fields are walked as its own.
            schema.pop("$defs", None)
            if "properties" not in schema and _has_pattern(schema):
                yield pytest.param(
                    adapter, name, id=f"{model.__name__}.{name}"
                )


def _patterns(node):
    if isinstance(node, dict):
        if isinstance(node.get("pattern"), str):
            yield node["pattern"]
        for v in node.values():
            yield from _patterns(v)
    elif isinstance(node, list):
        for v in node:
            yield from _patterns(v)


def _pattern_errors(adapter, field):
    # A bad string, or a list holding one, whichever the field takes.
    found = []
    for value in (BAD, [BAD], {"x": BAD}):
        try:
            adapter.validate_python(value)
        except pydantic.ValidationError as exc:
            found += [
                {**e, "loc": (field, *e["loc"])}
                for e in exc.errors()
                if e["type"] == "string_pattern_mismatch"
            ]
    return found


@pytest.mark.parametrize("adapter, field", _pattern_fields())
def test_a_bad_value_of_every_pattern_field_is_told_in_words(adapter, field):
    found = _pattern_errors(adapter, field)

    assert found, f"{field}: {BAD!r} passed its pattern"
    for error in found:
        message = errors.validation_message(error)
        assert message.startswith("expected "), message
        assert not any(s in message for s in REGEX_SYNTAX), message


def test_every_pattern_in_the_document_has_words():
    spec = create_app().openapi()

    unknown = {
        p
        for p in _patterns(spec)
        if p != common.ID_PATTERN and errors.pattern_words(p) is None
    }

    assert not unknown, (
        "describe these with arame.api.schemas.common.described()"
    )


@pytest.mark.parametrize(
    "loc, words",
    [
        (("body", "image"), "an image id such as img-1a2b3c4d"),
        (("body", "security_groups", 0), "a security group id such as sg-"),
        (("body", "key_pairs", 1), "a key pair id such as kp-"),
        (("body", "volume_id"), "a volume id such as vol-"),
        (("body", "instance_id"), "an instance id such as i-"),
        (("body", "spec", "network"), "a network id such as nw-"),
        (("body", "unit_group"), "a unit group id such as ug-"),
        (("body", "node_ids", 0), "an instance id such as i-"),
        (("path", "whatever"), "an id such as i-1a2b3c4d"),
    ],
)
def test_an_id_is_described_by_the_kind_its_field_takes(loc, words):
    error = {
        "type": "string_pattern_mismatch",
        "loc": loc,
        "ctx": {"pattern": common.ID_PATTERN},
    }

    assert errors.validation_message(error).startswith("expected " + words)


def test_a_pattern_nobody_described_still_shows_no_expression():
    error = {
        "type": "string_pattern_mismatch",
        "loc": ("body", "x"),
        "ctx": {"pattern": "^[0-9]+$"},
        "msg": "String should match pattern '^[0-9]+$'",
    }

    message = errors.validation_message(error)

    assert not any(s in message for s in REGEX_SYNTAX), message


def test_instance_create_with_an_image_name_says_an_id_is_expected(
    admin, create, error_of
):
    err = error_of(create(admin, image="arame-test"), 422, "invalid")

    assert err["message"] == "image: expected an image id such as img-1a2b3c4d"
    assert err["details"]["fields"] == [
        {
            "field": "image",
            "message": "expected an image id such as img-1a2b3c4d",
        }
    ]


def test_a_union_member_is_not_named_as_a_field(client, admin, error_of):
    r = client.post(
        "/v1/instances",
        json={"name": "-web", "flavor": "small", "image": "img-aaaaaaaa"},
        headers=admin.headers,
    )

    err = error_of(r, 422, "invalid")
    assert err["message"].startswith("name: expected a name of 1-63")
