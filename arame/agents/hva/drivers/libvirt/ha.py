"""What a guest stopping on its own means, and restarting it (HA).

A stop event for a guest the driver wants on is not ours: the guest powered
itself off (reported stopped), crashed with HA off (reported crashed), or
crashed with HA on, when it is restarted in place unless it already was
restarted `ha_max_restarts` times within `ha_restart_window` seconds.

Such a stop is reported once, by this watch: the power sync, which sees
the same stop, leaves it alone meanwhile (reports_stop).
"""

import collections
import threading
import time

import libvirt

from arame.agents.hva.drivers.base import InstanceNotFound
from arame.agents.hva.drivers.libvirt import config as xmlconf
from arame.agents.hva.drivers.libvirt import done, events
from arame.common.conf import CONF


class GuestWatch:
    """Answers one libvirt driver's lifecycle events. The driver owns what
    it last asked of each guest (`desired`); this only reads it, and turns
    a guest off in it when it gives up on that guest."""

    def __init__(self, driver, desired: dict[str, str]):
        self.driver = driver
        self.desired = desired
        self._restarts: dict[str, collections.deque] = {}
        # When the current stop of a guest wanted on was first seen (by
        # its event or by the power sync); a start ends it.
        self._stops: dict[str, float] = {}

    def forget(self, iid: str) -> None:
        """The guest is gone: its restart history with it."""
        self._restarts.pop(iid, None)
        self._stops.pop(iid, None)

    def reports_stop(self, iid: str, power_state: str) -> bool:
        """True while a guest's change is this watch's to report, so the
        power sync must not: the guest is wanted on but not running (its
        stop event is on its way or being handled), or that was so less
        than a sync interval ago (the record the sync compared with may
        not hold our report yet).

        Two reports of one stop race: the collector keeps the reason of
        the one it records last, and notifications may reach it in any
        order, so no ordering of the sends makes it safe. One report per
        change does, and this one knows the cause. It lasts one interval:
        a stop whose event libvirt never delivered (its connection
        dropped) is reported by the next sync.
        """
        now = time.monotonic()
        if self.desired.get(iid) == "on" and power_state != "running":
            since = self._stops.setdefault(iid, now)
        else:
            since = self._stops.get(iid)
        return since is not None and now - since < CONF.hva.power_sync_interval

    def on_lifecycle(self, conn, dom, event, detail, _opaque):
        """In libvirt's event thread: never block here."""
        name = dom.name()
        if event == libvirt.VIR_DOMAIN_EVENT_STARTED:
            self._stops.pop(name, None)
        # Only guests this agent wants running: not another agent's on a
        # shared libvirtd, not one we are stopping.
        if (
            event != libvirt.VIR_DOMAIN_EVENT_STOPPED
            or self.desired.get(name) != "on"
        ):
            return
        self._stops[name] = time.monotonic()
        threading.Thread(
            target=self.guest_stopped,
            args=(name, detail),
            name=f"hva-event-{name}",
            daemon=True,
        ).start()

    def guest_stopped(self, iid: str, detail: int) -> None:
        drv = self.driver
        with drv.instance_lock(iid):
            if self.desired.get(iid) != "on":
                return  # we stopped it (or it is being destroyed)
            why = events.STOP_REASONS.get(detail, f"stopped (detail {detail})")
            try:
                dom = drv._domain(iid)
                if dom.isActive():
                    return
                meta = xmlconf.read_metadata(dom.XMLDesc())
            except (InstanceNotFound, libvirt.libvirtError):
                return
            if detail == libvirt.VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN:
                # The guest powered itself off: that is a stop, not a crash.
                self.desired[iid] = "off"
                drv.emit_event(iid, "shutdown", why, event="guest_shutdown")
                return
            if meta.get("ha_enabled") != "1":
                self.desired[iid] = "off"
                drv.emit_event(
                    iid, "crashed", f"{why}; HA is off", event="crashed"
                )
                return
            if not self._restart_allowed(iid):
                self.desired[iid] = "off"
                c = CONF.libvirt
                drv.emit_event(
                    iid,
                    "crashed",
                    f"{why}; not restarted: {c.ha_max_restarts} HA "
                    f"restarts within {c.ha_restart_window}s",
                    event="ha_gave_up",
                )
                return
            t0 = time.monotonic()
            try:
                done.start(dom)
            except libvirt.libvirtError as e:
                self.desired[iid] = "off"
                drv.emit_event(
                    iid,
                    "crashed",
                    f"{why}; HA restart failed: {e}",
                    event="ha_failed",
                )
                return
            drv.emit_event(
                iid,
                "running",
                f"{why}; restarted by HA on {drv.host}",
                event="ha_restart",
                duration_ms=round((time.monotonic() - t0) * 1000, 2),
            )

    def _restart_allowed(self, iid: str) -> bool:
        c = CONF.libvirt
        now = time.monotonic()
        hist = self._restarts.setdefault(iid, collections.deque())
        while hist and now - hist[0] > c.ha_restart_window:
            hist.popleft()
        if len(hist) >= c.ha_max_restarts:
            return False
        hist.append(now)
        return True
