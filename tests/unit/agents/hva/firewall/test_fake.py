import pytest

from arame.agents.hva.firewall import FakeFirewall, InvalidPort

from .samples import APP, port_dict


def test_fake_keeps_the_contract():
    fw = FakeFirewall()
    fw.setup()
    fw.apply_port(port_dict())
    fw.apply_port(port_dict())
    assert fw.ports() == {"i-3k9x2m0q"}
    fw.set_group_members(APP, ["10.0.0.8"])
    assert fw.members[APP] == ("10.0.0.8",)
    fw.remove_port("i-3k9x2m0q")
    fw.remove_port("i-3k9x2m0q")
    assert fw.ports() == set()
    with pytest.raises(InvalidPort):
        fw.apply_port(port_dict(mac="nope"))
    with pytest.raises(InvalidPort):
        fw.remove_port("nope")
