"""[fake_hva] state_file: the fake guests outlive the agent, as a real
hypervisor's do."""

import json

from arame.agents.hva.drivers.fake import FakeDriver

IID, IID2 = "i-abcd0001", "i-abcd0002"


def guest(iid=IID):
    return {"id": iid, "name": "web", "hostname": "web"}


def test_in_memory_by_default(parsed_conf, tmp_path):
    FakeDriver("hv1").spawn(guest())
    assert FakeDriver("hv1").list_instances() == {}


def test_a_new_driver_on_the_file_sees_the_same_guests(config, tmp_path):
    path = tmp_path / "hva.json"
    config("state_file", str(path), group="fake_hva")
    d = FakeDriver("hv1")
    d.spawn(guest())
    d.spawn(guest(IID2))
    d.power_off(IID2)
    d.attach_volume(IID, {"volume_id": "vol-abcd0003"})
    # The agent is killed; the next one reads the file.
    again = FakeDriver("hv1")
    assert again.list_instances() == {IID: "running", IID2: "shutdown"}
    assert again.volumes(IID) == {"vol-abcd0003": "vdc"}
    assert "booted" in again.get_console_output(IID)
    again.destroy(IID2)
    doc = json.loads(path.read_text())
    assert list(doc["guests"]) == [IID]
    assert doc["guests"][IID]["power_state"] == "running"
    assert doc["guests"][IID]["host"] == "hv1"


def test_hosts_of_one_process_share_the_file(config, tmp_path):
    config("state_file", str(tmp_path / "hva.json"), group="fake_hva")
    a, b = FakeDriver("hv1"), FakeDriver("hv2")
    a.spawn(guest())
    b.spawn(guest(IID2))
    a.destroy(IID)
    assert FakeDriver("hv1").list_instances() == {}
    assert FakeDriver("hv2").list_instances() == {IID2: "running"}


def test_a_write_cut_short_leaves_the_guests_before_it(config, tmp_path):
    path = tmp_path / "hva.json"
    config("state_file", str(path), group="fake_hva")
    FakeDriver("hv1").spawn(guest())
    # Killed mid-write of the next change: the temporary file is half
    # written, the file itself still the old one.
    (tmp_path / "hva.json.tmp").write_text('{"guests": {')
    d = FakeDriver("hv1")
    assert d.list_instances() == {IID: "running"}
    d.spawn(guest(IID2))
    assert FakeDriver("hv1").list_instances() == {
        IID: "running",
        IID2: "running",
    }
