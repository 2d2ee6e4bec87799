"""BMC passwords sealed at rest: what a database dump shows, and what the
key opens."""

import os
import stat

import pytest

from arame.common import exceptions, secretbox
from arame.common.conf import CONF


@pytest.fixture
def key_file(tmp_path):
    path = str(tmp_path / "keys" / "credential.key")
    CONF.set_override("credential_key_file", path)
    yield path
    CONF.clear_override("credential_key_file")


def test_sealed_value_hides_the_password_and_the_key_opens_it(key_file):
    sealed = secretbox.seal("Ipmi-pass-01")
    assert "Ipmi-pass-01" not in sealed and sealed.startswith("fernet:")
    assert secretbox.unseal(sealed) == "Ipmi-pass-01"
    # Made on first use, readable by its owner only.
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    # Two seals of one password differ (a dump does not show reuse).
    assert secretbox.seal("Ipmi-pass-01") != sealed


def test_another_key_cannot_open_it_and_says_so_without_the_value(
    key_file, tmp_path
):
    sealed = secretbox.seal("Ipmi-pass-02")
    CONF.set_override("credential_key_file", str(tmp_path / "other.key"))
    with pytest.raises(exceptions.ArameError) as e:
        secretbox.unseal(sealed)
    assert "other.key" in str(e.value) and "Ipmi-pass-02" not in str(e.value)


def test_a_value_that_was_never_sealed_is_refused(key_file):
    with pytest.raises(exceptions.ArameError, match="not sealed"):
        secretbox.unseal("plain-password")
