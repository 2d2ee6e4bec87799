"""The tgtadm commands of the tgt target driver, against an emulated tgtd."""

import pytest

from arame.agents.sta import errors
from arame.agents.sta.targets.tgt import TgtTarget
from arame.common import runner

VOL, VOL2 = "vol-aaaa0001", "vol-aaaa0002"
PATH = "/tank/volumes/vol-aaaa0001/disk.raw"
PW = "Secret-pass-0001"
IQN = "iqn.2025-01.org.arame:" + VOL


@pytest.fixture
def tgt(tgt_emu):
    return TgtTarget(
        "192.0.2.10", 3260, "2025-01", "org.arame", control_port=7
    )


def ops(emu, since=0):
    """(op, mode) of each tgtadm call that changes something."""
    out = []
    for c in emu.calls[since:]:
        i, m = c.index("--op"), c.index("--mode")
        if c[i + 1] != "show":
            out.append((c[i + 1], c[m + 1]))
    return out


def test_iqn_and_portal(tgt):
    assert tgt.iqn(VOL) == IQN
    assert tgt.volume_of(IQN) == VOL
    assert tgt.volume_of("iqn.2025-01.org.other:" + VOL) is None
    assert tgt.volume_of("iqn.2025-01.org.arame:not-a-volume") is None
    assert tgt.portal == "192.0.2.10:3260"
    v6 = TgtTarget("fd00::1", 3260, "2025-01", "org.arame")
    assert v6.portal == "[fd00::1]:3260"


def test_export_order_control_port_and_masked_password(tgt, tgt_emu):
    assert tgt.export(VOL, PATH, "10.0.0.5", "u-0001", PW) == {
        "iqn": IQN,
        "portal": "192.0.2.10:3260",
        "lun": 1,
    }
    # LUN, then CHAP, the ACL last: no moment without CHAP once reachable.
    assert ops(tgt_emu) == [
        ("new", "target"),
        ("new", "logicalunit"),
        ("update", "logicalunit"),
        ("delete", "account"),
        ("new", "account"),
        ("bind", "account"),
        ("bind", "target"),
    ]
    assert all(
        c[:5] == ["tgtadm", "-C", "7", "--lld", "iscsi"] for c in tgt_emu.calls
    )
    new_account = [i for i, c in enumerate(tgt_emu.calls) if PW in c]
    assert len(new_account) == 1
    assert tgt_emu.secrets[new_account[0]] == (PW,)
    t = tgt_emu.targets[1]
    assert (t.iqn, t.luns, t.accounts, t.acl) == (
        IQN,
        {1: PATH},
        ["u-0001"],
        ["10.0.0.5"],
    )
    assert t.params[1] == "scsi_id=vol-aaaa0001,scsi_sn=aaaa0001"
    assert tgt_emu.accounts == {"u-0001": PW}


def test_export_again_changes_address_and_password_safely(tgt, tgt_emu):
    tgt.export(VOL, PATH, "10.0.0.5", "u-0001", PW)
    n = len(tgt_emu.calls)
    tgt.export(VOL, PATH, "10.0.0.6", "u-0001", "Another-pass-02")
    # The ACL goes first (no login at all), the account is made anew.
    assert ops(tgt_emu, n) == [
        ("unbind", "target"),
        ("delete", "account"),
        ("new", "account"),
        ("bind", "account"),
        ("bind", "target"),
    ]
    t = tgt_emu.targets[1]
    assert (t.accounts, t.acl) == (["u-0001"], ["10.0.0.6"])
    assert tgt_emu.accounts == {"u-0001": "Another-pass-02"}
    assert len(tgt_emu.targets) == 1


def test_tids_come_from_tgtd(tgt, tgt_emu):
    tgt.export(VOL, PATH, "10.0.0.5", "u-0001", PW)
    tgt.export(VOL2, PATH + "2", "10.0.0.5", "u-0002", PW)
    assert sorted(tgt_emu.targets) == [1, 2]
    tgt.unexport(VOL)
    # A new agent object (agent restarted) knows nothing but what tgtd says.
    other = TgtTarget(
        "192.0.2.10", 3260, "2025-01", "org.arame", control_port=7
    )
    other.export(VOL, PATH, "10.0.0.5", "u-0001", PW)
    assert {t.tid: t.iqn for t in tgt_emu.targets.values()} == {
        2: "iqn.2025-01.org.arame:" + VOL2,
        3: IQN,
    }


def test_a_chap_user_serves_one_volume(tgt, tgt_emu):
    tgt.export(VOL, PATH, "10.0.0.5", "u-0001", PW)
    with pytest.raises(errors.ExportConflict):
        tgt.export(VOL2, PATH + "2", "10.0.0.5", "u-0001", PW)


def test_another_lun_path_is_refused(tgt, tgt_emu):
    tgt.export(VOL, PATH, "10.0.0.5", "u-0001", PW)
    with pytest.raises(errors.StorageError, match="serves"):
        tgt.export(VOL, "/elsewhere/disk.raw", "10.0.0.5", "u-0001", PW)


def test_unexport_is_idempotent_and_removes_the_account(tgt, tgt_emu):
    tgt.export(VOL, PATH, "10.0.0.5", "u-0001", PW)
    tgt.unexport(VOL)
    tgt.unexport(VOL)
    assert tgt_emu.targets == {} and tgt_emu.accounts == {}


def test_unexport_of_a_target_in_use(tgt, tgt_emu):
    tgt.export(VOL, PATH, "10.0.0.5", "u-0001", PW)
    tgt_emu.targets[1].sessions = 1
    with pytest.raises(errors.ExportBusy):
        tgt.unexport(VOL)
    assert 1 in tgt_emu.targets
    tgt.unexport(VOL, force=True)
    assert tgt_emu.targets == {}
    assert "--force" in tgt_emu.calls[-2]


def test_a_login_between_check_and_delete_is_busy_too(
    tgt, tgt_emu, monkeypatch
):
    tgt.export(VOL, PATH, "10.0.0.5", "u-0001", PW)
    real = tgt_emu._do

    def login_first(args, o):
        if (o["--op"], o["--mode"]) == ("delete", "target"):
            tgt_emu.targets[1].sessions = 1
        return real(args, o)

    monkeypatch.setattr(tgt_emu, "_do", login_first)
    with pytest.raises(errors.ExportBusy):
        tgt.unexport(VOL)


def test_a_stale_account_of_the_same_user_is_replaced(tgt, tgt_emu):
    tgt_emu.accounts["u-0001"] = "stale-password"
    tgt.export(VOL, PATH, "10.0.0.5", "u-0001", PW)
    assert tgt_emu.accounts == {"u-0001": PW}


def test_errors_never_carry_the_password(tgt, tgt_emu, monkeypatch):
    real = tgt_emu._do

    def broken(args, o):
        if (o["--op"], o["--mode"]) == ("new", "account"):
            raise runner.CommandError(
                args,
                "exit 22: tgtadm: out of memory",
                exit_code=22,
                stderr="tgtadm: out of memory",
            )
        return real(args, o)

    monkeypatch.setattr(tgt_emu, "_do", broken)
    with pytest.raises(errors.StorageError) as exc:
        tgt.export(VOL, PATH, "10.0.0.5", "u-0001", PW)
    assert "out of memory" in str(exc.value)
    assert PW not in str(exc.value)
    # Not chained to the CommandError, whose argv holds the password.
    assert exc.value.__cause__ is None and exc.value.__suppress_context__


def test_list_exports_and_rebuild_after_a_restart(tgt, tgt_emu):
    tgt.export(VOL, PATH, "10.0.0.5", "u-0001", PW)
    tgt_emu.run(
        [
            "tgtadm",
            "--op",
            "new",
            "--mode",
            "target",
            "--tid",
            "9",
            "--targetname",
            "iqn.2003-01.org.other:disk",
        ]
    )
    exports = tgt.list_exports()
    assert list(exports) == [VOL]
    assert exports[VOL].initiators == ("10.0.0.5",)
    assert exports[VOL].users == ("u-0001",)
    assert exports[VOL].path == PATH
    expected = [
        {
            "volume_id": VOL,
            "path": PATH,
            "initiator_address": "10.0.0.5",
            "chap_user": "u-0001",
            "chap_secret": PW,
        },
        {
            "volume_id": VOL2,
            "path": PATH + "2",
            "initiator_address": "10.0.0.5",
            "chap_user": "u-0002",
            "chap_secret": PW,
        },
    ]
    assert tgt.rebuild_exports(expected) == {
        "restored": [VOL2],
        "unchanged": [VOL],
        "removed": [],
        "failed": {},
    }
    # tgtd restarted: it holds nothing.
    tgt_emu.targets.clear()
    tgt_emu.accounts.clear()
    assert tgt.rebuild_exports(expected)["restored"] == [VOL, VOL2]
    assert set(tgt.list_exports()) == {VOL, VOL2}
    # Nobody expects VOL2 any more; a stale account goes too.
    tgt_emu.accounts["orphan"] = "x"
    assert tgt.rebuild_exports(expected[:1]) == {
        "restored": [],
        "unchanged": [VOL],
        "removed": [VOL2],
        "failed": {},
    }
    assert set(tgt_emu.accounts) == {"u-0001"}
