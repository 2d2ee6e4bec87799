"""The config drive: inputs checked, a real ISO written (read back with
xorriso), replaced atomically."""

import base64
import os
import stat
import subprocess

import pytest
import yaml

from arame.agents.hva import configdrive
from arame.common import runner

ED25519 = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAID6SmRWCC3iwp+tNoGiCSACiLWuC"
    "VE5CY2hC4tBz4Ow7 tester@host: #1"
)
OTHER = "ecdsa-sha2-nistp256 " + base64.b64encode(b"\0" * 40).decode()
GOOD = {
    "instance_id": "i-abc12345",
    "hostname": "web-1",
    "public_keys": [ED25519, OTHER],
    "user_data": "#!/bin/sh\necho hi\n",
}


def build(path, **changes):
    configdrive.build(str(path), **{**GOOD, **changes})


def extract(iso, dest) -> dict[str, bytes]:
    subprocess.run(
        [
            "xorriso",
            "-osirrox",
            "on",
            "-indev",
            str(iso),
            "-extract",
            "/",
            str(dest),
        ],
        check=True,
        capture_output=True,
    )
    return {name: (dest / name).read_bytes() for name in os.listdir(dest)}


def volume_id(iso) -> str:
    out = subprocess.run(
        ["xorriso", "-indev", str(iso), "-pvd_info"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("Volume Id"))
    return line.split(":", 1)[1].strip()


def test_the_drive_holds_meta_data_and_user_data(tmp_path):
    iso = tmp_path / "disk.config"
    build(iso)
    files = extract(iso, tmp_path / "x")
    assert set(files) == {"meta-data", "user-data"}
    assert yaml.safe_load(files["meta-data"]) == {
        "instance-id": "i-abc12345",
        "local-hostname": "web-1",
        "public-keys": [ED25519, OTHER],
    }
    assert files["user-data"] == b"#!/bin/sh\necho hi\n"
    assert volume_id(iso) == "cidata"
    assert stat.S_IMODE(os.stat(iso).st_mode) == 0o600


def test_no_user_data_no_keys(tmp_path):
    iso = tmp_path / "disk.config"
    build(iso, user_data=None, public_keys=[])
    files = extract(iso, tmp_path / "x")
    assert set(files) == {"meta-data"}
    assert yaml.safe_load(files["meta-data"]) == {
        "instance-id": "i-abc12345",
        "local-hostname": "web-1",
    }


def test_user_data_up_to_the_limit(tmp_path):
    build(tmp_path / "a.iso", user_data="x" * configdrive.MAX_USER_DATA)
    with pytest.raises(ValueError, match="limit"):
        build(
            tmp_path / "b.iso", user_data="x" * (configdrive.MAX_USER_DATA + 1)
        )
    # the limit is in bytes, not characters
    with pytest.raises(ValueError, match="limit"):
        build(
            tmp_path / "c.iso",
            user_data="é" * (configdrive.MAX_USER_DATA // 2 + 1),
        )
    assert not (tmp_path / "b.iso").exists()


@pytest.mark.parametrize(
    "instance_id",
    ["i-ABC12345", "i-abc1234", "vol-abc12345", "i-abc12345; rm", "", None],
)
def test_bad_instance_ids(tmp_path, instance_id):
    with pytest.raises(ValueError, match="instance id"):
        build(tmp_path / "d.iso", instance_id=instance_id)


@pytest.mark.parametrize(
    "hostname",
    [
        "",
        "-web",
        "web-",
        "web_1",
        "web.example",
        "a" * 64,
        "web 1",
        "wéb",
        "web\n1",
        None,
    ],
)
def test_bad_hostnames(tmp_path, hostname):
    with pytest.raises(ValueError, match="hostname"):
        build(tmp_path / "d.iso", hostname=hostname)


def test_good_hostnames(tmp_path):
    for name in ("a", "Web-01", "a" * 63, "0web"):
        build(tmp_path / "d.iso", hostname=name)


@pytest.mark.parametrize(
    "keys",
    [
        [ED25519 + "\nssh-ed25519 AAAA"],  # two lines in one
        [ED25519 + "\r"],
        ["ssh-ed25519"],  # no blob
        ["ssh-ed25519 not*base64"],
        ["SSH ED25519 AAAA"],  # not a key type
        ["ssh-ed25519 " + "A" * 20000],  # too long
    ],
)
def test_bad_public_keys(tmp_path, keys):
    with pytest.raises(ValueError):
        build(tmp_path / "d.iso", public_keys=keys)


@pytest.mark.parametrize(
    "changes",
    [
        {"public_keys": [42]},
        {"public_keys": ED25519},  # a string, not a list
        {"user_data": b"#!/bin/sh\n"},
    ],
)
def test_wrong_types(tmp_path, changes):
    with pytest.raises(TypeError):
        build(tmp_path / "d.iso", **changes)


def test_an_existing_drive_is_replaced_whole(tmp_path):
    iso = tmp_path / "disk.config"
    build(iso, hostname="first")
    build(iso, hostname="second")
    meta = yaml.safe_load(extract(iso, tmp_path / "x")["meta-data"])
    assert meta["local-hostname"] == "second"
    assert sorted(os.listdir(tmp_path)) == ["disk.config", "x"]


def test_a_failed_build_leaves_the_old_drive_and_no_litter(
    tmp_path, monkeypatch
):
    iso = tmp_path / "disk.config"
    build(iso, hostname="first")
    before = iso.read_bytes()

    def failing(args, **kw):
        # xorriso dies after writing part of its output
        out = args[args.index("-o") + 1]
        with open(out, "wb") as f:
            f.write(b"half an ISO")
        raise runner.CommandError(args, "exit 5: write error", exit_code=5)

    monkeypatch.setattr(runner, "run", failing)
    with pytest.raises(runner.CommandError):
        build(iso, hostname="second")
    assert iso.read_bytes() == before
    assert os.listdir(tmp_path) == ["disk.config"]


def test_meta_data_quotes_what_yaml_would_misread():
    text = configdrive.meta_data(
        instance_id="i-abc12345",
        hostname="web-1",
        public_keys=["ssh-ed25519 AAAA a: b #c"],
    )
    assert yaml.safe_load(text)["public-keys"] == ["ssh-ed25519 AAAA a: b #c"]
