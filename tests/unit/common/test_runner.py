import pytest

from arame.common import runner


def test_output_and_exit_code():
    r = runner.run(["sh", "-c", "echo out; echo err >&2"])
    assert r.stdout == "out\n" and r.stderr == "err\n" and r.exit_code == 0


def test_failure_is_typed_and_keeps_stderr():
    with pytest.raises(runner.CommandError) as e:
        runner.run(["sh", "-c", "echo boom >&2; exit 3"])
    assert e.value.exit_code == 3 and "boom" in e.value.stderr
    assert runner.run(["sh", "-c", "exit 3"], ok_codes=(0, 3)).exit_code == 3


def test_timeout_kills_the_child():
    with pytest.raises(runner.CommandTimeout):
        runner.run(["sleep", "30"], timeout=0.2)


def test_missing_program():
    with pytest.raises(runner.CommandError, match="could not run"):
        runner.run(["/nonexistent/prog"])


def test_secrets_are_masked_in_errors():
    with pytest.raises(runner.CommandError) as e:
        runner.run(
            ["sh", "-c", "echo hunter2 >&2; exit 1"], secrets=["hunter2"]
        )
    assert "hunter2" not in str(e.value) and "***" in str(e.value)


def test_arguments_are_not_interpreted_by_a_shell(tmp_path):
    evil = f"; touch {tmp_path}/pwned"
    runner.run(["echo", evil])
    assert not (tmp_path / "pwned").exists()
