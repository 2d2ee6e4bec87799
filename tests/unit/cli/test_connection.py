from arame.cli.connection import DEFAULT_URL, Connection, resolve

STORED = {"url": "http://stored:9001", "token": "tok-stored"}


def test_option_beats_environment_beats_stored_beats_default():
    env = {"ARAME_URL": "http://env:9001", "ARAME_TOKEN": "tok-env"}
    assert resolve("http://opt:9001", "tok-opt", env, STORED) == Connection(
        "http://opt:9001", "tok-opt"
    )
    assert resolve(None, None, env, STORED) == Connection(
        "http://env:9001", "tok-env"
    )
    assert resolve(None, None, {}, STORED) == Connection(
        "http://stored:9001", "tok-stored"
    )
    assert resolve(None, None, {}, None) == Connection(DEFAULT_URL, None)


def test_stored_token_is_not_sent_to_another_endpoint():
    assert resolve("http://other:9001", None, {}, STORED) == Connection(
        "http://other:9001", None
    )
    assert (
        resolve("http://stored:9001/", None, {}, STORED).token == "tok-stored"
    )
