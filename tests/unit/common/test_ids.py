import re

import pytest

from arame.common import ids

ID_FORMAT = re.compile(r"[a-z]{1,4}-[a-z0-9]{8}")


@pytest.mark.parametrize("kind,prefix", sorted(ids.PREFIXES.items()))
def test_generated_ids_have_the_documented_format(kind, prefix):
    value = ids.generate(kind)
    assert ID_FORMAT.fullmatch(value)
    assert value.startswith(prefix + "-")
    assert ids.is_valid(kind, value)


def test_instance_ids_fit_a_linux_interface_name():
    # REST conventions: `tap-i-3k9x2m0q` must fit in 15 characters.
    assert len("tap-" + ids.generate("instance")) <= 15


def test_generated_ids_differ():
    assert len({ids.generate("instance") for _ in range(200)}) == 200


@pytest.mark.parametrize(
    "value",
    [
        "i-abc;rm -f",  # shell metacharacters
        "i-abcd123;",
        "i-abc$(id)",
        "i-`id`abcd",
        "i-abcd 123",
        "i-abcd|123",
        "../x",
        "i-../abcde",
        "i-abcd..12",
        "i-ABCD1234",  # upper case
        "i-abcd123",  # 7 characters
        "i-abcd12345",  # 9 characters
        "vol-abcd1234",  # a volume id is not an instance id
        "t-abcd1234",
        "i_abcd1234",
        "",
        "i-",
        "\ni-abcd1234",
        "i-abcd\n1234",
    ],
)
def test_is_valid_refuses_malformed_instance_ids(value):
    assert not ids.is_valid("instance", value)


def test_is_valid_refuses_a_trailing_newline():
    assert not ids.is_valid("instance", "i-abcd1234\n")


@pytest.mark.parametrize(
    "value", [None, 12345678, b"i-abcd1234", ["i-abcd1234"]]
)
def test_is_valid_refuses_non_strings(value):
    assert not ids.is_valid("instance", value)


def test_is_valid_accepts_a_well_formed_id():
    assert ids.is_valid("instance", "i-3k9x2m0q")
    assert ids.is_valid("volume", "vol-3k9x2m0q")
