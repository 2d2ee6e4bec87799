"""The fakes' state file: whole documents, renamed into place, so a kill
mid-write leaves the old state readable."""

import json
import os
import stat

import pytest

from arame.agents import statefile


def test_absent_file_is_an_empty_state(tmp_path):
    assert statefile.StateFile(str(tmp_path / "s.json")).load() == {}
    assert statefile.open_state("") is None


def test_updates_of_two_owners_keep_each_other(tmp_path):
    path = str(tmp_path / "sub" / "s.json")
    a, b = statefile.StateFile(path), statefile.StateFile(path)
    a.update(lambda doc: doc.update(volumes={"vol-1": 1}))
    b.update(lambda doc: doc.update(exports={"vol-1": "x"}))
    assert statefile.StateFile(path).load() == {
        "volumes": {"vol-1": 1},
        "exports": {"vol-1": "x"},
    }
    # It may hold CHAP passwords (the fake iSCSI target).
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_a_write_cut_short_leaves_the_old_state(tmp_path):
    path = tmp_path / "s.json"
    sf = statefile.StateFile(str(path))
    sf.update(lambda doc: doc.update(guests={"i-1": {}}))
    # Killed while writing the next one: half a temporary file.
    (tmp_path / "s.json.tmp").write_text('{"guests": {"i-1": {}, "i-2"')
    assert statefile.StateFile(str(path)).load() == {"guests": {"i-1": {}}}
    # The next write goes through the same temporary name.
    sf.update(lambda doc: doc["guests"].pop("i-1"))
    assert json.loads(path.read_text()) == {"guests": {}}
    assert not (tmp_path / "s.json.tmp").exists()


def test_a_file_that_is_not_a_document_is_refused(tmp_path):
    path = tmp_path / "s.json"
    path.write_text("[1, 2")
    with pytest.raises(statefile.CorruptStateFile, match="s.json"):
        statefile.StateFile(str(path)).load()
    path.write_text("[]")
    with pytest.raises(statefile.CorruptStateFile, match="not a JSON object"):
        statefile.StateFile(str(path)).load()
