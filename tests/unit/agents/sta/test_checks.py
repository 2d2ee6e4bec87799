"""What the agent refuses before anything reaches zfs or tgtadm."""

import os

import pytest

from arame.agents.sta import checks
from arame.agents.sta.errors import InvalidRequest


@pytest.mark.parametrize("value", ["vol-abcd1234", "vol-00000000"])
def test_volume_ids(value):
    assert checks.volume_id(value) == value


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "vol-ABCD1234",
        "vol-abcd123",
        "vol-abcd12345",
        "snap-abcd1234",
        "vol-abcd1234;rm",
        "../vol-abcd1234",
        "vol-abcd1234@x",
        "tank/vol-abcd1234",
        "vol-abcd1234 -r",
        42,
    ],
)
def test_bad_volume_ids(value):
    with pytest.raises(InvalidRequest):
        checks.volume_id(value)


def test_each_kind_has_its_prefix():
    assert checks.snapshot_id("snap-abcd1234")
    assert checks.image_id("img-abcd1234")
    for f in (checks.snapshot_id, checks.image_id):
        with pytest.raises(InvalidRequest):
            f("vol-abcd1234")


@pytest.mark.parametrize(
    "value,ok",
    [
        (1, True),
        (2048, True),
        (0, False),
        (2049, False),
        (-1, False),
        (1.5, False),
        ("10", False),
        (True, False),
        (None, False),
    ],
)
def test_sizes_are_whole_gib_within_bounds(value, ok):
    if ok:
        assert checks.size_gb(value, 2048) == value
    else:
        with pytest.raises(InvalidRequest):
            checks.size_gb(value, 2048)


def test_image_size_in_bytes():
    assert checks.image_size(1, 1) == 1
    assert checks.image_size(1024**3, 1) == 1024**3
    for bad in (0, 1024**3 + 1, "5", None):
        with pytest.raises(InvalidRequest):
            checks.image_size(bad, 1)


def test_sha256():
    assert checks.sha256("a" * 64)
    for bad in ("A" * 64, "a" * 63, "g" * 64, None):
        with pytest.raises(InvalidRequest):
            checks.sha256(bad)


@pytest.mark.parametrize(
    "value,canonical",
    [
        ("127.0.0.1", "127.0.0.1"),
        ("10.1.2.3", "10.1.2.3"),
        ("fd00:0::1", "fd00::1"),
    ],
)
def test_addresses(value, canonical):
    assert checks.address(value) == canonical


@pytest.mark.parametrize(
    "value",
    ["ALL", "10.0.0.0/8", "host.example", "127.0.0.1 ", "", None, "1.2.3.256"],
)
def test_bad_addresses(value):
    with pytest.raises(InvalidRequest):
        checks.address(value)


def test_chap_user():
    assert checks.chap_user("vol-abcd1234") == "vol-abcd1234"
    for bad in ("", "-x", "a b", "a;b", "x" * 65, None, "--password"):
        with pytest.raises(InvalidRequest):
            checks.chap_user(bad)


def test_chap_secret_is_never_echoed():
    assert checks.chap_secret("Abcdef012345+/=")
    for bad in ("short", "has space 12345", "x" * 65, "quote'12345678", None):
        with pytest.raises(InvalidRequest) as exc:
            checks.chap_secret(bad)
        if bad:
            assert bad not in str(exc.value)


def test_import_path_must_be_a_file_under_an_import_dir(tmp_path):
    allowed = tmp_path / "import"
    allowed.mkdir()
    good = allowed / "img.raw"
    good.write_bytes(b"x")
    outside = tmp_path / "secret"
    outside.write_bytes(b"x")
    (allowed / "link").symlink_to(outside)
    assert checks.import_path(str(good), [str(allowed)]) == str(good)
    for bad in (
        str(outside),
        str(allowed / "link"),
        str(allowed),
        str(allowed / ".." / "secret"),
        "img.raw",
        str(allowed / "nope"),
        None,
    ):
        with pytest.raises(InvalidRequest):
            checks.import_path(bad, [str(allowed)])
    os.mkdir(allowed / "dir")
    with pytest.raises(InvalidRequest):
        checks.import_path(str(allowed / "dir"), [str(allowed)])
