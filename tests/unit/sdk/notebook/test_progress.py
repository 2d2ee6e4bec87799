"""Waits show nodes done / total and the current step (tqdm), or nothing
when tqdm is not installed."""

import importlib

from arame.sdk.notebook import progress


def test_a_wait_draws_nodes_done_and_the_step(make_sdk, spec, capsys):
    sdk = make_sdk(progress=True)
    ugroup = sdk.create_ugroup("handson")
    spec = sdk.get_spec("vm", "small", image="arame-test")
    ugroup.create_unit("web", spec, num_nodes=3)
    err = capsys.readouterr().err
    assert "unit 'web' (create)" in err
    assert "3/3" in err
    assert "node web-3 done" in err


def test_the_bar_follows_a_growing_total():
    bar = progress.Bar("x", 2)
    bar.show(1, 3, "node a done")
    assert (bar._bar.n, bar._bar.total) == (1, 3)
    bar.close()


def test_without_tqdm_a_wait_prints_nothing(make_sdk, monkeypatch, capsys):
    real = importlib.import_module

    def no_tqdm(name, *a):
        if name.startswith("tqdm"):
            raise ImportError(name)
        return real(name, *a)

    monkeypatch.setattr(progress.importlib, "import_module", no_tqdm)
    sdk = make_sdk(progress=True)
    ugroup = sdk.create_ugroup("handson")
    spec = sdk.get_spec("vm", "small", image="arame-test")
    assert ugroup.create_unit("web", spec).state == "RUNNING"
    assert capsys.readouterr().err == ""
