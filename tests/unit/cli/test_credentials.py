import stat

from arame.cli import credentials


def test_save_writes_a_private_file_that_load_reads_back(isolated_env):
    data = {
        "url": "http://a:9001",
        "token": "tok",
        "expires_at": "2030-01-01T00:00:00Z",
    }

    saved = credentials.save(data)

    assert saved == isolated_env / "credentials.json"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert stat.S_IMODE(saved.parent.stat().st_mode) == 0o700
    assert credentials.load() == data


def test_save_tightens_a_file_left_world_readable(isolated_env):
    isolated_env.mkdir()
    loose = isolated_env / "credentials.json"
    loose.write_text("{}")
    loose.chmod(0o644)

    credentials.save({"token": "tok"})

    assert stat.S_IMODE(loose.stat().st_mode) == 0o600
    assert [p.name for p in isolated_env.iterdir()] == ["credentials.json"]


def test_missing_or_broken_file_means_no_credentials(isolated_env, caplog):
    assert credentials.load() is None

    isolated_env.mkdir()
    (isolated_env / "credentials.json").write_text("{not json")

    assert credentials.load() is None
    assert "ignoring unreadable credentials file" in caplog.text


def test_default_location_is_under_the_user_config_dir(tmp_path):
    assert credentials.path(
        {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "x")}
    ) == (tmp_path / "x" / "arame" / "credentials.json")
    assert credentials.path(
        {"ARAME_CONFIG_DIR": "/etc/arame-cli"}
    ).as_posix() == ("/etc/arame-cli/credentials.json")
