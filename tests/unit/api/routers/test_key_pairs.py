"""Key pairs: imported keys are checked, generated private keys are shown
once, and instances can name a pair of their own account only."""

import subprocess

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.unit.api.conftest import assert_error

ED25519 = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9o"
    "kWi0dh2l9GKJl user@host"
)


def test_generated_pair_returns_private_key_once(client, member):
    r = client.post(
        "/v1/key_pairs", headers=member.headers, json={"name": "k1"}
    )
    assert r.status_code == 201
    kp = r.json()
    assert kp["id"].startswith("kp-") and kp["type"] == "ssh-ed25519"
    assert kp["private_key"].startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    priv = serialization.load_ssh_private_key(kp["private_key"].encode(), None)
    pub = priv.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    assert pub.decode() == kp["public_key"]
    again = client.get(
        f"/v1/key_pairs/{kp['id']}", headers=member.headers
    ).json()
    assert "private_key" not in again
    assert again["fingerprint"] == kp["fingerprint"]


def test_imported_key_fingerprint_matches_ssh_keygen(client, member, tmp_path):
    r = client.post(
        "/v1/key_pairs",
        headers=member.headers,
        json={"name": "mine", "public_key": ED25519},
    )
    assert r.status_code == 201
    kp = r.json()
    assert kp["private_key"] is None
    path = tmp_path / "k.pub"
    path.write_text(ED25519 + "\n")
    # The same fingerprint users see from ssh-keygen (tools/test-all
    # installs openssh-client).
    out = subprocess.run(
        ["ssh-keygen", "-l", "-f", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert kp["fingerprint"] == out.split()[1]


def test_bad_keys_are_refused_with_a_reason(client, member):
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    weak_line = (
        weak.public_key()
        .public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        )
        .decode()
    )
    for bad in (
        "not a key",
        "ssh-rsa AAAA; rm -rf /",
        ED25519 + "\nssh-rsa x",
        weak_line,
        "",
    ):
        err = assert_error(
            client.post(
                "/v1/key_pairs",
                headers=member.headers,
                json={"name": "bad", "public_key": bad},
            ),
            422,
            "invalid",
        )
        assert "key" in err["message"]
    assert (
        client.get("/v1/key_pairs", headers=member.headers).json()["items"]
        == []
    )


def test_names_are_per_account_and_isolated(client, member, make_user):
    other = make_user("member")
    for who in (member, other):
        assert (
            client.post(
                "/v1/key_pairs",
                headers=who.headers,
                json={"name": "same", "public_key": ED25519},
            ).status_code
            == 201
        )
    assert_error(
        client.post(
            "/v1/key_pairs",
            headers=member.headers,
            json={"name": "same", "public_key": ED25519},
        ),
        409,
        "conflict",
    )
    theirs = client.get("/v1/key_pairs", headers=other.headers).json()[
        "items"
    ][0]
    assert_error(
        client.get(f"/v1/key_pairs/{theirs['id']}", headers=member.headers),
        404,
    )
    assert_error(
        client.delete(f"/v1/key_pairs/{theirs['id']}", headers=member.headers),
        404,
    )
    reader = make_user("reader", account_id=member.account_id)
    assert_error(
        client.post(
            "/v1/key_pairs", headers=reader.headers, json={"name": "r"}
        ),
        403,
    )


def test_instance_takes_a_key_pair_of_its_own_account(
    client, member, make_user, cloud
):
    other = make_user("member")
    mine = client.post(
        "/v1/key_pairs",
        headers=member.headers,
        json={"name": "k", "public_key": ED25519},
    ).json()
    theirs = client.post(
        "/v1/key_pairs",
        headers=other.headers,
        json={"name": "k", "public_key": ED25519},
    ).json()
    body = {"name": "vm", "flavor": "small", "image": cloud.image_id}
    r = client.post(
        "/v1/instances",
        headers=member.headers,
        json={**body, "key_pair": mine["id"]},
    )
    assert r.status_code == 202 and r.json()["key_pair"] == mine["id"]
    assert_error(
        client.post(
            "/v1/instances",
            headers=member.headers,
            json={**body, "key_pair": theirs["id"]},
        ),
        422,
    )
