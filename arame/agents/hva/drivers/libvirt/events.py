"""libvirt's event loop, and waiting for a domain to stop.

libvirt delivers lifecycle events only to a process that registered an
event implementation before opening its first connection and keeps running
it: one daemon thread per process does that.
"""

import threading

import libvirt

from arame.common import waiting

_started = False
_lock = threading.Lock()

STOP_REASONS = {
    libvirt.VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN: "the guest powered itself off",
    libvirt.VIR_DOMAIN_EVENT_STOPPED_DESTROYED: "the domain was destroyed "
    "outside Arame",
    libvirt.VIR_DOMAIN_EVENT_STOPPED_CRASHED: "the guest crashed",
    libvirt.VIR_DOMAIN_EVENT_STOPPED_FAILED: "the emulator died",
    libvirt.VIR_DOMAIN_EVENT_STOPPED_MIGRATED: "the guest migrated away",
    libvirt.VIR_DOMAIN_EVENT_STOPPED_SAVED: "the guest was saved",
    libvirt.VIR_DOMAIN_EVENT_STOPPED_FROM_SNAPSHOT: "a snapshot was restored",
}


def start_loop() -> None:
    global _started
    with _lock:
        if _started:
            return
        libvirt.virEventRegisterDefaultImpl()
        # libvirt prints every error to stderr as well as raising it; the
        # driver handles (or logs) what it raises.
        libvirt.registerErrorHandler(lambda _ctx, _err: None, None)

        def run():
            while True:
                libvirt.virEventRunDefaultImpl()

        threading.Thread(
            target=run, name="libvirt-events", daemon=True
        ).start()
        _started = True


def wait_inactive(dom, timeout: float, interval: float = 0.1) -> bool:
    """True once the domain stopped, False at the deadline."""

    def stopped() -> bool:
        try:
            return not dom.isActive()
        except libvirt.libvirtError as e:
            if e.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                return True
            raise

    try:
        return waiting.wait_for(
            stopped, timeout, f"{dom.name()} to stop", interval=interval
        )
    except waiting.WaitTimeout:
        return False
