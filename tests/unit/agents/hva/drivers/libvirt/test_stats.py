"""Bulk domain stats in the libvirt driver: a record's counters (sums
over devices, the memory the guest reports or QEMU's in its stead), only
this host's domains with their labels, metadata read once per domain, and
the balloon's statistics asked for once per start of a guest."""

import libvirt

from arame.agents.hva.drivers.libvirt import config as xmlconf
from arame.agents.hva.drivers.libvirt import stats

IID = "i-abcd0001"

RECORD = {
    "cpu.time": 12_000_000_000,
    "vcpu.current": 2,
    "balloon.current": 1048576,
    "balloon.maximum": 1048576,
    "balloon.rss": 300_000,
    "balloon.available": 1000_000,
    "balloon.unused": 600_000,
    "block.count": 2,
    "block.0.rd.bytes": 1000,
    "block.0.wr.bytes": 200,
    "block.1.rd.bytes": 24,
    "net.count": 1,
    "net.0.rx.bytes": 5000,
    "net.0.tx.bytes": 7000,
}


def test_counters_of_a_record():
    assert stats.counters(RECORD) == {
        "cpu_time_ns": 12_000_000_000,
        "vcpus": 2,
        "memory_mb": 1024.0,
        "memory_used_mb": 400_000 / 1024,
        "disk_read_bytes": 1024,
        "disk_write_bytes": 200,
        "net_rx_bytes": 5000,
        "net_tx_bytes": 7000,
    }


def test_memory_available_to_the_guest_is_not_used():
    rec = {**RECORD, "balloon.usable": 800_000}
    assert stats.counters(rec)["memory_used_mb"] == 200_000 / 1024


def test_without_the_guests_figures_qemus_resident_memory_stands_in():
    rec = {
        k: v
        for k, v in RECORD.items()
        if k not in ("balloon.available", "balloon.unused")
    }
    assert stats.counters(rec)["memory_used_mb"] == 300_000 / 1024
    # never more than the guest has
    rec["balloon.rss"] = 5_000_000
    assert stats.counters(rec)["memory_used_mb"] == 1024.0


def test_a_record_without_devices():
    c = stats.counters({"cpu.time": 5, "balloon.maximum": 2048})
    assert c["disk_read_bytes"] == c["net_tx_bytes"] == 0
    assert (c["memory_mb"], c["vcpus"]) == (2.0, 1)


class FakeDomain:
    def __init__(self, name, host, uuid, dom_id=7, account="a-acct0001"):
        self._name, self._uuid, self._id = name, uuid, dom_id
        self.periods = []
        self.xml_reads = 0
        self.xml = xmlconf.domain_xml(
            xmlconf.Guest(
                name=name,
                uuid=uuid,
                virt_type="qemu",
                vcpus=1,
                memory_mb=512,
                machine="pc",
                console_log="/x/console.log",
                metadata={
                    "host": host,
                    "account_id": account,
                    "unit_id": "un-unit0001",
                },
            )
        )

    def name(self):
        return self._name

    def UUIDString(self):
        return self._uuid

    def ID(self):
        return self._id

    def XMLDesc(self, flags=0):
        self.xml_reads += 1
        return self.xml

    def setMemoryStatsPeriod(self, period, flags):
        assert flags == libvirt.VIR_DOMAIN_AFFECT_LIVE
        self.periods.append(period)


class FakeConn:
    def __init__(self, records):
        self.records = records
        self.asked = []

    def getAllDomainStats(self, kinds, flags):
        self.asked.append((kinds, flags))
        return self.records


def test_only_this_hosts_guests_with_their_labels(config):
    config("metrics_interval", 5, group="hva")
    mine = FakeDomain(IID, "hv1", "u-1")
    theirs = FakeDomain("i-abcd0002", "hv2", "u-2")
    other = FakeDomain("not-an-instance", "hv1", "u-3")
    no_balloon = {
        k: v for k, v in RECORD.items() if not k.startswith("balloon.un")
    }
    conn = FakeConn([(mine, no_balloon), (theirs, RECORD), (other, RECORD)])
    gs = stats.GuestStats("hv1", lambda: conn)
    out = gs.read()
    assert list(out) == [IID]
    assert out[IID]["account_id"] == "a-acct0001"
    assert out[IID]["unit_id"] == "un-unit0001"
    assert out[IID]["net_rx_bytes"] == 5000
    assert conn.asked == [
        (stats.STATS, libvirt.VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE)
    ]
    # The guest has no balloon figures yet: QEMU is asked to poll them.
    assert mine.periods == [5]
    gs.read()
    # Once per domain: its metadata and the period (same start).
    assert (mine.xml_reads, theirs.xml_reads, other.xml_reads) == (1, 1, 0)
    assert mine.periods == [5]
    # Started again (a new domain id): asked again.
    mine._id = 8
    gs.read()
    assert mine.periods == [5, 5]


def test_a_domain_gone_meanwhile_is_left_out():
    class Gone(FakeDomain):
        def XMLDesc(self, flags=0):
            raise libvirt.libvirtError("no domain")

    gone = Gone(IID, "hv1", "u-9")
    conn = FakeConn([(gone, RECORD)])
    assert stats.GuestStats("hv1", lambda: conn).read() == {}
