"""doc/notebooks/unit-groups.ipynb runs end to end against the all-in-one,
as a user runs it: after `arame login` in a terminal, on a Jupyter kernel
(nbclient), with an SSH key of its own. Any error in any cell fails."""

import os
import pathlib
import subprocess

import nbclient
import nbformat

from arame.cli.main import main as arame_cli

# The all-in-one of the guide's examples: its own process, state and port.
from tests.functional.test_doc_examples import PASSWORD, all_in_one  # noqa: F401

ROOT = pathlib.Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "doc" / "notebooks" / "unit-groups.ipynb"


def test_the_notebook_is_committed_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    dirty = [
        n
        for n, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        and (cell.get("outputs") or cell.get("execution_count"))
    ]
    assert dirty == []


def test_the_notebook_runs_against_the_all_in_one(
    all_in_one, tmp_path, monkeypatch
):
    env = {
        "ARAME_URL": all_in_one["url"],
        "ARAME_CONFIG_DIR": str(tmp_path / "config"),
        "ARAME_SSH_PUBKEY": str(tmp_path / "id_ed25519.pub"),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("ARAME_TOKEN", raising=False)
    # The user's terminal: a login saved, a key made.
    monkeypatch.setenv("ARAME_PASSWORD", PASSWORD)
    assert arame_cli(["login", "--username", "admin"]) == 0
    monkeypatch.delenv("ARAME_PASSWORD")
    subprocess.run(
        [
            "ssh-keygen",
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-f",
            str(tmp_path / "id_ed25519"),
        ],
        check=True,
    )

    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    try:
        # The kernel is this interpreter (ipykernel's own spec), with the
        # environment set above.
        client.execute(env=dict(os.environ))
    finally:
        nbformat.write(nb, tmp_path / "executed.ipynb")
    errors = [
        (n, out.get("ename"), out.get("evalue"))
        for n, cell in enumerate(nb.cells)
        for out in cell.get("outputs", ())
        if out.get("output_type") == "error"
    ]
    assert errors == []
    text = [_text(cell) for cell in nb.cells if cell.cell_type == "code"]
    assert "refused as expected" in text[1]
    assert "name='handson101', state='RUNNING'" in "".join(text)
    # After the cleanup, the groups' frame is its header alone.
    [frame] = [
        out["data"]["text/plain"]
        for out in nb.cells[-1].outputs
        if out["output_type"] == "execute_result"
    ]
    assert frame.startswith("Empty DataFrame"), frame


def _text(cell) -> str:
    chunks = []
    for out in cell.get("outputs", ()):
        chunks.append(out.get("text", ""))
        chunks.append((out.get("data") or {}).get("text/plain", ""))
    return "".join(chunks)
