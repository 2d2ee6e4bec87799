"""Reading tgtd's state back from `tgtadm --op show` (text from tgt 1.0.85)."""

from arame.agents.sta.targets.tgt_show import parse_accounts, parse_targets

SHOW = """\
Target 1: iqn.2025-01.org.arame:vol-aaaaaaaa
    System information:
        Driver: iscsi
        State: ready
    I_T nexus information:
        I_T nexus: 2
            Initiator: iqn.2008-11.org.linux-kvm alias: none
            Connection: 0
                IP Address: 127.0.0.1
    LUN information:
        LUN: 0
            Type: controller
            SCSI ID: IET     00010000
            SCSI SN: beaf10
            Size: 0 MB, Block size: 1
            Online: Yes
            Removable media: No
            Prevent removal: No
            Readonly: No
            SWP: No
            Thin-provisioning: No
            Backing store type: null
            Backing store path: None
            Backing store flags:
        LUN: 1
            Type: disk
            SCSI ID: vol-aaaaaaaa
            SCSI SN: aaaaaaaa
            Size: 1074 MB, Block size: 512
            Online: Yes
            Removable media: No
            Prevent removal: No
            Readonly: No
            SWP: No
            Thin-provisioning: No
            Backing store type: rdwr
            Backing store path: /tmp/staexp/mnt/volumes/vol-aaaaaaaa/disk.raw
            Backing store flags:
    Account information:
        u1
        u2 (outgoing)
    ACL information:
        127.0.0.1
Target 3: iqn.x:y
    System information:
        Driver: iscsi
        State: ready
    I_T nexus information:
    LUN information:
        LUN: 0
            Type: controller
            Backing store path: None
    Account information:
    ACL information:
"""


def test_targets():
    t1, t3 = parse_targets(SHOW)
    assert (t1.tid, t1.iqn, t1.sessions) == (
        1,
        "iqn.2025-01.org.arame:vol-aaaaaaaa",
        1,
    )
    assert t1.luns == {
        0: None,
        1: "/tmp/staexp/mnt/volumes/vol-aaaaaaaa/disk.raw",
    }
    assert (t1.accounts, t1.outgoing, t1.acl) == (
        ["u1"],
        ["u2"],
        ["127.0.0.1"],
    )
    assert (t3.tid, t3.iqn, t3.sessions, t3.luns) == (
        3,
        "iqn.x:y",
        0,
        {0: None},
    )
    assert (t3.accounts, t3.acl) == ([], [])


def test_nothing():
    assert parse_targets("") == []
    assert parse_accounts("Account list:\n") == []


def test_accounts():
    assert parse_accounts("Account list:\n    u1\n    vol-abcd1234\n") == [
        "u1",
        "vol-abcd1234",
    ]
