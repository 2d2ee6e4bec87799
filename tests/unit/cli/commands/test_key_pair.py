import os
import stat

KP = {
    "id": "kp-abcd1234",
    "name": "k1",
    "type": "ssh-ed25519",
    "fingerprint": "SHA256:xyz",
    "public_key": "ssh-ed25519 AAAA",
    "account_id": "a-admin",
    "created_at": "2026-11-21T00:00:00Z",
    "updated_at": "2026-11-21T00:00:00Z",
}
PRIVATE = "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n"


def test_generated_private_key_goes_to_a_0600_file_not_the_screen(
    run, api, tmp_path
):
    api.add("POST", "/v1/key_pairs", (201, {**KP, "private_key": PRIVATE}))
    out = tmp_path / "k1.pem"
    result = run(
        "key-pair",
        "create",
        "k1",
        "--private-key-file",
        str(out),
        "-f",
        "json",
    )
    assert result.code == 0
    assert "private_key" not in result.json()
    assert out.read_text() == PRIVATE
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert api.bodies("POST", "/v1/key_pairs") == [
        {"name": "k1", "type": "ed25519"}
    ]


def test_existing_private_key_file_is_never_overwritten(run, api, tmp_path):
    out = tmp_path / "k1.pem"
    out.write_text("precious")
    api.add("POST", "/v1/key_pairs", (201, {**KP, "private_key": PRIVATE}))
    result = run("key-pair", "create", "k1", "--private-key-file", str(out))
    assert result.code != 0
    assert out.read_text() == "precious"
    assert api.bodies("POST", "/v1/key_pairs") == []  # nothing was created


def test_import_sends_the_public_key(run, api, tmp_path):
    pub = tmp_path / "id.pub"
    pub.write_text("ssh-ed25519 AAAA me@host\n")
    api.add("POST", "/v1/key_pairs", (201, {**KP, "private_key": None}))
    result = run(
        "key-pair", "create", "k1", "--public-key-file", str(pub), "-f", "json"
    )
    assert result.code == 0 and "private_key" not in result.json()
    assert api.bodies("POST", "/v1/key_pairs") == [
        {"name": "k1", "public_key": "ssh-ed25519 AAAA me@host\n"}
    ]


def test_list_and_delete(run, api):
    api.add(
        "GET", "/v1/key_pairs", (200, {"items": [KP], "next_marker": None})
    )
    api.add("DELETE", "/v1/key_pairs/kp-abcd1234", (204, None))
    listed = run("key-pair", "list", "-f", "json")
    assert listed.json() == [
        {
            "id": "kp-abcd1234",
            "name": "k1",
            "type": "ssh-ed25519",
            "fingerprint": "SHA256:xyz",
        }
    ]
    assert run("key-pair", "delete", "kp-abcd1234").code == 0
