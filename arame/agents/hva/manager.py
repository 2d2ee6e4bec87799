"""The hypervisor agent's RPC endpoint for one host.

It checks every identifier before it reaches a driver, serialises the
operations on one instance, and turns what the driver observes on its own
(a guest died) into `instance.state` notifications for the collector.

Every operation is idempotent, so the scheduler may ask again whatever it
is not sure was done (a retry after a timeout, a flow resumed after a
crash): spawn of a guest that exists with the same id answers success with
its power state (one left defined but off by a crash is started); destroy
of a missing guest is success; power_on of a running guest and power_off
of a stopped one succeed and change nothing; reboot ends running either
way; attach of an attached volume answers the same device; detach of a
detached volume, or from a missing guest, is success; refresh_ports and
update_group_members set rules, they add none; remove_image of an image
not here succeeds. Power operations on a missing guest are refused
(InstanceNotFound): nothing would make them true.
"""

import contextlib
import uuid

import oslo_messaging as messaging
from oslo_log import log

from arame.agents.hva import messages
from arame.agents.hva.drivers.base import HypervisorDriver, InstanceNotFound
from arame.agents.hva.rpcapi import SYNC_REASON
from arame.common import ids

LOG = log.getLogger(__name__)

CONSOLE_LIMIT = 64 * 1024


def _compared(exp: dict) -> bool:
    """Records that follow what the host reports: the collector (1.3)
    names them (every state no flow owns, error included); an older one
    only running and stopped instances."""
    return exp.get("compare", exp["status"] in ("running", "stopped"))


class InvalidIdentifier(ValueError):
    pass


def _check_id(instance_id) -> str:
    if not ids.is_valid("instance", instance_id):
        raise InvalidIdentifier(f"not an instance id: {instance_id!r}")
    return instance_id


def _expand(members, groups, addresses) -> dict[str, list[dict]]:
    """refresh_host_ports' arguments as refresh_ports' ports, per guest
    (the rules and member lists shared, not copied)."""
    if not all(isinstance(x, dict) for x in (members, groups, addresses)):
        raise InvalidIdentifier("members, groups and addresses are dicts")
    out = {}
    for iid, ports in members.items():
        _check_id(iid)
        if not isinstance(ports, list) or not all(
            isinstance(p, dict) for p in ports
        ):
            raise InvalidIdentifier(f"ports of {iid} must be a list of dicts")
        out[iid] = [_port(p, groups, addresses) for p in ports]
    return out


def _port(port: dict, groups: dict, addresses: dict) -> dict:
    refs = [
        g if isinstance(g, dict) else {}
        for g in port.get("security_groups") or []
    ]
    named = [g.get("id") for g in refs]
    involved = port.get("group_members") or []
    if not isinstance(involved, list):
        raise InvalidIdentifier("group_members must list group ids")
    missing = [g for g in named if not isinstance(g, str) or g not in groups]
    missing += [
        g for g in involved if not isinstance(g, str) or g not in addresses
    ]
    if missing:
        raise InvalidIdentifier(f"groups not sent with the ports: {missing}")
    return {
        **port,
        "security_groups": [
            # The revision only where the scheduler sent one.
            {"id": g["id"], "rules": groups[g["id"]]}
            | ({"revision": g["revision"]} if "revision" in g else {})
            for g in refs
        ],
        "group_members": {g: addresses[g] for g in involved},
    }


class HypervisorManager:
    """1.0 - spawn, destroy, power_on, power_off, reboot, get_console_output,
             list_instances, refresh_ports, update_group_members
    1.1 - attach_volume, detach_volume
    1.2 - get_metrics
    1.3 - remove_image
    1.4 - refresh_host_ports
    1.5 - iSCSI disks name their CHAP chap_user / chap_secret (the names
          before, username / password, still read: messages.py)"""

    target = messaging.Target(version="1.5")

    def __init__(
        self, host: str, driver: HypervisorDriver, notifier, metrics=None
    ):
        self.host = host
        self.driver = driver
        self.notifier = notifier
        # A metrics.MetricsStore the sampler fills; None: sampling is off.
        self.metrics = metrics
        driver.register_event_callback(self._on_driver_event)

    def _lock(self, instance_id):
        return self.driver.instance_lock(instance_id)

    def _on_driver_event(self, instance_id, power_state, reason, **extra):
        # The event id lets the collector record it once, however often the
        # notification is delivered.
        self.notifier.info(
            {},
            "instance.state",
            {
                "instance_id": instance_id,
                "host": self.host,
                "power_state": power_state,
                "reason": reason,
                "event_id": uuid.uuid4().hex,
                **extra,
            },
        )

    # -- what runs vs what the controller expects ------------------------------
    def sync_power_states(self, collector) -> dict:
        """Compare the hypervisor with the controller's records and report
        the differences; deciding what to do is the collector's job.

        - a guest whose power state differs from the record: instance.state
          (unless the driver reports that change itself)
        - a guest the records place here that the hypervisor lacks:
          instance.state with power state `nostate` (event `missing`)
        - a domain nobody placed here: listed in `host.orphans`
        """
        expected = collector.expected_instances({}, self.host)["instances"]
        actual = self.driver.list_instances()
        report = {"drift": [], "missing": [], "orphans": []}
        for iid, power in sorted(actual.items()):
            exp = expected.get(iid)
            if exp is None:
                report["orphans"].append(
                    {"instance_id": iid, "power_state": power}
                )
            elif (
                _compared(exp)
                and exp["power_state"] != power
                # One report per change: the driver's own (it knows the
                # cause) would race ours at the collector.
                and not self.driver.reports_change(iid, power)
            ):
                report["drift"].append(iid)
                self._on_driver_event(
                    iid,
                    power,
                    f"{SYNC_REASON}: {self.host} reports "
                    f"{power}, the record said {exp['power_state']}",
                    event="drift",
                )
        for iid, exp in sorted(expected.items()):
            if iid not in actual and _compared(exp):
                report["missing"].append(iid)
                self._on_driver_event(
                    iid,
                    "nostate",
                    f"{SYNC_REASON}: no guest {iid} on {self.host}",
                    event="missing",
                )
        if report["orphans"]:
            LOG.warning(
                "domains on %s that no instance record places here: %s",
                self.host,
                [o["instance_id"] for o in report["orphans"]],
            )
            self.notifier.info(
                {},
                "host.orphans",
                {"host": self.host, "instances": report["orphans"]},
            )
        return report

    def destroy_stale_copies(self, collector) -> list[str]:
        """At start, before serving or reporting up: destroy every guest
        of this host's (the driver lists only domains this host's agent
        defined) that no record places here. A host that was down may
        come back to find its instances evacuated (rebuilt elsewhere with
        the same addresses and disks) or deleted; its copies must go
        before it says it is up. The instances destroyed.

        Not in the periodic sync: while the agent runs, a guest not placed
        here is reported (host.orphans) and the collector decides."""
        expected = collector.expected_instances({}, self.host)["instances"]
        stale = sorted(
            iid
            for iid in self.driver.list_instances()
            if iid not in expected and ids.is_valid("instance", iid)
        )
        for iid in stale:
            with self._lock(iid):
                LOG.warning(
                    "destroying the stale copy of %s on %s: no record "
                    "places it here (moved or deleted while this host was "
                    "away)",
                    iid,
                    self.host,
                )
                self.driver.destroy(iid)
        return stale

    def inventory(self) -> dict:
        inv = dict(self.driver.get_inventory())
        inv["name"] = self.host
        return inv

    # -- RPC methods -------------------------------------------------------
    def spawn(self, ctxt, instance: messages.InstanceSpec):
        iid = _check_id(instance.get("id"))
        # From a scheduler before 1.5, the root disk's old CHAP names.
        instance = messages.instance_with(  # type: ignore[assignment]
            instance, messages.accept_old_names
        )
        with self._lock(iid):
            LOG.info("spawn %s on %s", iid, self.host)
            return {"power_state": self.driver.spawn(instance)}

    def destroy(self, ctxt, instance_id):
        _check_id(instance_id)
        with self._lock(instance_id):
            LOG.info("destroy %s on %s", instance_id, self.host)
            self.driver.destroy(instance_id)
            return {"power_state": None}

    def _power(self, instance_id, op):
        _check_id(instance_id)
        with self._lock(instance_id):
            try:
                return {"power_state": getattr(self.driver, op)(instance_id)}
            except InstanceNotFound:
                raise InstanceNotFound(
                    f"{instance_id} is not on {self.host}"
                ) from None

    def power_on(self, ctxt, instance_id):
        return self._power(instance_id, "power_on")

    def power_off(self, ctxt, instance_id):
        return self._power(instance_id, "power_off")

    def reboot(self, ctxt, instance_id):
        return self._power(instance_id, "reboot")

    def get_console_output(self, ctxt, instance_id):
        _check_id(instance_id)
        try:
            text = self.driver.get_console_output(instance_id)
        except InstanceNotFound:
            raise InstanceNotFound(
                f"{instance_id} is not on {self.host}"
            ) from None
        data = text.encode("utf-8", "replace")
        truncated = len(data) > CONSOLE_LIMIT
        if truncated:
            data = data[-CONSOLE_LIMIT:]
        return {
            "output": data.decode("utf-8", "ignore"),
            "truncated": truncated,
        }

    def get_metrics(self, ctxt, instance_id, since=None):
        """1.2: the guest's samples taken after `since` (seconds since the
        epoch; None: all that are kept). No samples for a guest not here
        or not running: the caller knows where it placed it."""
        _check_id(instance_id)
        if since is not None and not isinstance(since, int | float):
            raise InvalidIdentifier(f"not a time: {since!r}")
        if self.metrics is None:
            return {"instance_id": instance_id, "interval": 0, "samples": []}
        return self.metrics.report(instance_id, since)

    def remove_image(self, ctxt, image_id):
        """1.3: a deleted image leaves the host (the driver's cache and
        local store); an entry guests still use goes with the last."""
        if not ids.is_valid("image", image_id):
            raise InvalidIdentifier(f"not an image id: {image_id!r}")
        return self.driver.remove_image(image_id)

    def refresh_ports(self, ctxt, instance_id, ports):
        _check_id(instance_id)
        with self._lock(instance_id):
            self.driver.refresh_ports(instance_id, ports)
            return {"ports": len(ports)}

    def refresh_host_ports(self, ctxt, members, groups, addresses):
        """1.4: refresh_ports of several guests as one batch (a group's
        rules changed: its members on this host). What they share comes
        once: members {instance id: ports}, where a port names its groups
        ("security_groups": [{"id"}], "group_members": [ids]), groups
        {id: rules}, addresses {id: member addresses}."""
        members = _expand(members, groups, addresses)
        with contextlib.ExitStack() as locks:
            # Always in the same order: two batches cannot deadlock.
            for iid in sorted(members):
                locks.enter_context(self._lock(iid))
            self.driver.refresh_host_ports(members)
        return {
            "instances": len(members),
            "ports": sum(len(p) for p in members.values()),
        }

    def update_group_members(self, ctxt, group_id, addresses):
        if not ids.is_valid("security_group", group_id):
            raise InvalidIdentifier(f"not a security group id: {group_id!r}")
        self.driver.update_group_members(group_id, list(addresses))

    def attach_volume(self, ctxt, instance_id, volume: messages.IscsiDisk):
        _check_id(instance_id)
        if not isinstance(volume, dict) or not ids.is_valid(
            "volume", volume.get("volume_id")
        ):
            raise InvalidIdentifier(
                "not a volume connection: no valid volume_id"
            )
        # From a scheduler before 1.5: the old CHAP names.
        volume = messages.accept_old_names(volume)  # type: ignore[assignment]
        with self._lock(instance_id):
            LOG.info(
                "attach %s to %s on %s",
                volume["volume_id"],
                instance_id,
                self.host,
            )
            try:
                return self.driver.attach_volume(instance_id, volume)
            except InstanceNotFound:
                raise InstanceNotFound(
                    f"{instance_id} is not on {self.host}"
                ) from None

    def detach_volume(self, ctxt, instance_id, volume_id):
        _check_id(instance_id)
        if not ids.is_valid("volume", volume_id):
            raise InvalidIdentifier(f"not a volume id: {volume_id!r}")
        with self._lock(instance_id):
            LOG.info(
                "detach %s from %s on %s", volume_id, instance_id, self.host
            )
            self.driver.detach_volume(instance_id, volume_id)
            return {}

    def list_instances(self, ctxt):
        return {"instances": self.driver.list_instances()}
