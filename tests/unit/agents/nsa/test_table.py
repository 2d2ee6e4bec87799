from arame.agents.nsa.table import ReservationTable

from .conftest import res


def test_add_is_idempotent():
    t = ReservationTable()
    first = t.add(res(1))
    assert first.written == [res(1)] and first.dropped == []
    assert not t.add(res(1))
    assert len(t) == 1


def test_rename_replaces_and_drops_the_old_entry():
    t = ReservationTable([res(1)])
    renamed = res(1, name="other", ip=99)
    change = t.add(renamed)
    assert change.written == [renamed] and change.dropped == [res(1)]
    assert t.all() == [renamed]


def test_address_or_name_held_by_another_mac_is_taken_over():
    t = ReservationTable([res(1), res(2)])
    thief = res(3, name="host1", ip=12)  # host1's name, host2's address
    change = t.add(thief)
    assert sorted(r.mac for r in change.dropped) == [res(1).mac, res(2).mac]
    assert t.all() == [thief]


def test_remove():
    t = ReservationTable([res(1)])
    assert t.remove(res(1).mac).dropped == [res(1)]
    assert not t.remove(res(1).mac)
    assert len(t) == 0


def test_replace_all_is_a_diff():
    t = ReservationTable([res(1), res(2), res(3)])
    change = t.replace_all([res(2), res(3, name="renamed"), res(4)])
    assert sorted(r.hostname for r in change.written) == ["host4", "renamed"]
    assert sorted(r.hostname for r in change.dropped) == ["host1", "host3"]
    assert sorted(r.hostname for r in t.all()) == ["host2", "host4", "renamed"]
    assert not t.replace_all(t.all())
