from arame.common import passwords


def test_right_password_verifies():
    h = passwords.hash_password("correct horse")
    assert passwords.verify_password("correct horse", h)


def test_wrong_password_does_not_verify():
    h = passwords.hash_password("correct horse")
    assert not passwords.verify_password("correct horse ", h)
    assert not passwords.verify_password("", h)


def test_hash_is_salted_and_never_contains_the_password():
    a, b = (passwords.hash_password("s3cret-pw") for _ in range(2))
    assert a != b
    assert "s3cret-pw" not in a
    assert a.startswith("scrypt$")


def test_unicode_password():
    h = passwords.hash_password("pässwörd-密码")
    assert passwords.verify_password("pässwörd-密码", h)
    assert not passwords.verify_password("passwort-密码", h)


def test_malformed_or_foreign_hash_never_verifies():
    assert not passwords.verify_password("x", "")
    assert not passwords.verify_password("x", "not-a-hash")
    assert not passwords.verify_password("x", "bcrypt$1$2$3$4$5")
