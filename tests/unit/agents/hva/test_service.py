from arame.agents.hva import service


def test_one_host_by_default(config):
    config("host", "node1")
    config("host_count", 1, group="fake_hva")
    assert service.host_names() == ["node1"]


def test_fake_driver_may_pretend_to_be_many_hosts(config):
    config("host", "node1")
    config("driver", "fake", group="hva")
    config("host_count", 3, group="fake_hva")
    assert service.host_names() == [
        "node1-fake0000",
        "node1-fake0001",
        "node1-fake0002",
    ]


def test_driver_is_loaded_by_name(config):
    config("driver", "fake", group="hva")
    drv = service.load_driver("hv1")
    assert type(drv).__name__ == "FakeDriver" and drv.host == "hv1"


def _power_sync(monkeypatch) -> bool:
    """Whether the daemon built runs the power sync (the bus is not the
    point: only which components are built)."""
    monkeypatch.setattr(service.rpc, "get_notifier", lambda name: None)
    monkeypatch.setattr(service.rpc, "get_server", lambda *a, **kw: None)
    monkeypatch.setattr(service, "CollectorAPI", lambda: None)
    components, _ = service.build_components()
    return any(getattr(c, "name", "") == "power-sync" for c in components)


def test_fake_guests_in_memory_have_no_power_sync(config, monkeypatch):
    config("driver", "fake", group="hva")
    assert not _power_sync(monkeypatch)


def test_fake_guests_kept_in_a_file_are_synced(config, monkeypatch, tmp_path):
    """They outlive the agent: an instance deleted meanwhile leaves a
    guest behind, as on a real hypervisor."""
    config("driver", "fake", group="hva")
    config("state_file", str(tmp_path / "hva.json"), group="fake_hva")
    assert _power_sync(monkeypatch)
