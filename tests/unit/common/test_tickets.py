"""Signed tickets: what verifies, and every way one must not."""

import pytest

from arame.common import tickets

SECRET = "s3cret-for-tests"
CLAIMS = {
    "image_id": "img-abcd1234",
    "node": "sta1",
    "size": 42,
    "sha256": "0" * 64,
}


def test_round_trip_returns_the_claims():
    t = tickets.sign(SECRET, CLAIMS, ttl=60)
    got = tickets.verify(SECRET, t, {"image_id": "img-abcd1234", "size": 42})
    assert {k: got[k] for k in CLAIMS} == CLAIMS
    assert isinstance(got["exp"], int)


def test_another_secret_is_a_bad_signature():
    t = tickets.sign(SECRET, CLAIMS, ttl=60)
    with pytest.raises(tickets.BadSignature):
        tickets.verify("other-secret", t, {})


def test_tampered_claims_are_a_bad_signature():
    t = tickets.sign(SECRET, CLAIMS, ttl=60)
    forged = tickets.sign("attacker", {**CLAIMS, "size": 10**12}, ttl=60)
    mixed = forged.split(".")[0] + "." + t.split(".")[1]
    with pytest.raises(tickets.BadSignature):
        tickets.verify(SECRET, mixed, {})


def test_expired():
    t = tickets.sign(SECRET, CLAIMS, ttl=10, now=1000)
    assert tickets.verify(SECRET, t, {}, now=1010)["size"] == 42
    with pytest.raises(tickets.Expired):
        tickets.verify(SECRET, t, {}, now=1011)


@pytest.mark.parametrize(
    "key,value", [("image_id", "img-zzzz9999"), ("node", "sta2"), ("size", 43)]
)
def test_claims_for_something_else(key, value):
    t = tickets.sign(SECRET, CLAIMS, ttl=60)
    with pytest.raises(tickets.WrongClaims, match=key):
        tickets.verify(SECRET, t, {key: value})


@pytest.mark.parametrize(
    "token", ["", "abc", "a.b.c", "!!.??", None, "x" * 5000 + ".y"]
)
def test_malformed(token):
    with pytest.raises(tickets.BadSignature):
        tickets.verify(SECRET, token, {})


def test_no_secret_signs_nothing_and_verifies_nothing():
    with pytest.raises(tickets.TicketError):
        tickets.sign("", CLAIMS, ttl=60)
    t = tickets.sign(SECRET, CLAIMS, ttl=60)
    with pytest.raises(tickets.TicketError):
        tickets.verify("", t, {})


def test_every_error_is_a_ticket_error():
    for cls in (tickets.BadSignature, tickets.Expired, tickets.WrongClaims):
        assert issubclass(cls, tickets.TicketError)
