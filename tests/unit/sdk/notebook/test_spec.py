"""Specs: the flavor's values, VCP's field names, checks, keys, print."""

import subprocess

import pytest

from arame.common import sshkeys as server_keys
from arame.sdk.notebook import InvalidPublicKey, Spec
from arame.sdk.notebook.sshkeys import read_file


def test_get_spec_fills_the_flavor_and_names_the_others(sdk):
    spec = sdk.get_spec("vm", "small")
    assert (spec.provider, spec.flavor, spec.root_gb) == ("vm", "small", None)
    with pytest.raises(ValueError, match="small, large"):
        sdk.get_spec("vm", "huge")
    with pytest.raises(ValueError, match="bm.std"):
        sdk.get_spec("bm", "small")


def test_vcp_names_are_aliases():
    spec = Spec("vm", "small")
    spec.volume_size = 15
    spec.user_init_command = "#!/bin/sh\necho hi\n"
    spec.security_groups = "web"
    assert spec.root_gb == 15 and spec.volume_size == 15
    assert spec.user_data.startswith("#!")
    assert spec.security_groups == ["web"]
    assert spec.to_api() == {
        "provider": "vm",
        "flavor": "small",
        "root_gb": 15,
        "security_groups": ["web"],
        "user_data": "#!/bin/sh\necho hi\n",
    }


def test_misspelt_fields_and_bad_values_are_refused():
    spec = Spec("vm", "small")
    with pytest.raises(AttributeError, match="volume_size"):
        spec.volume_sise = 15
    with pytest.raises(TypeError):
        spec.root_gb = "15"
    with pytest.raises(TypeError, match="user_init_command"):
        spec.user_init_command = b"#!/bin/sh"
    with pytest.raises(ValueError, match="'vm'"):
        Spec("aws", "small")


def test_print_shows_every_field(sdk):
    spec = sdk.get_spec("vm", "small")
    spec.volume_size = 15
    text = str(spec)
    assert text.splitlines()[0] == "Spec (provider vm, flavor small)"
    for field in ("image", "root_gb", "network", "key_pairs", "user_data"):
        assert f"  {field}" in text
    assert "1 vCPU, 512 MB, 5 GB" in text
    assert "15   (volume_size" in text


def test_ip_addresses_travel_beside_the_spec():
    spec = Spec("vm", "small", ip_addresses="10.0.0.9", image="x")
    assert spec.ip_addresses == ["10.0.0.9"]
    assert "ip_addresses" not in spec.to_api()


def _keygen(tmp_path, name, kind="ed25519"):
    path = tmp_path / name
    subprocess.run(
        [
            "ssh-keygen",
            "-q",
            "-t",
            kind,
            "-N",
            "",
            "-C",
            name,
            "-f",
            str(path),
        ],
        check=True,
    )
    return path


def test_set_ssh_pubkey_imports_once_and_reuses(sdk, cloud, tmp_path):
    pub = _keygen(tmp_path, "id_ed25519").with_suffix(".pub")
    spec = sdk.get_spec("vm", "small")
    [kp] = spec.set_ssh_pubkey(pub)
    assert spec.key_pairs == [kp]
    # The fingerprint the SDK computes is the server's.
    line = pub.read_text()
    assert read_file(pub)[0].fingerprint == server_keys.fingerprint(line)
    again = sdk.get_spec("vm", "large")
    assert again.set_ssh_pubkey(str(pub)) == [kp]
    assert len(cloud.sent("POST", "/v1/key_pairs")) == 1
    assert str(pub) in str(again)


def test_a_file_of_several_keys_gives_several_pairs(sdk, tmp_path):
    a = _keygen(tmp_path, "a").with_suffix(".pub").read_text()
    b = _keygen(tmp_path, "b", "rsa").with_suffix(".pub").read_text()
    both = tmp_path / "authorized_keys"
    both.write_text(f"# mine\n{a}\n{b}")
    spec = sdk.get_spec("vm", "small")
    assert len(spec.set_ssh_pubkey(both)) == 2
    assert len(spec.key_pairs) == 2


def test_bad_key_files_say_which_and_why(sdk, tmp_path):
    spec = sdk.get_spec("vm", "small")
    private = _keygen(tmp_path, "id")
    with pytest.raises(InvalidPublicKey, match="private key"):
        spec.set_ssh_pubkey(private)
    garbage = tmp_path / "g.pub"
    garbage.write_text("ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQABAAABAQ== x\n")
    with pytest.raises(InvalidPublicKey, match="line 1.*ssh-ed25519"):
        spec.set_ssh_pubkey(garbage)
    with pytest.raises(InvalidPublicKey, match="cannot read"):
        spec.set_ssh_pubkey(tmp_path / "missing.pub")
    assert spec.key_pairs == []
