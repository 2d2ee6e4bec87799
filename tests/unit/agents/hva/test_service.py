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
