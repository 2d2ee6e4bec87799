"""What libvirt refuses that means done: the same request asked twice, or
someone else (HA, autostart, another spawn of the same guest) got there
between the driver's look and its request. The driver's operations stay
idempotent through these."""

import libvirt

NOT_RUNNING = libvirt.VIR_ERR_OPERATION_INVALID
GONE = libvirt.VIR_ERR_NO_DOMAIN


def ignore(op, *codes):
    """op(), where libvirt's refusal with one of codes means done."""
    try:
        op()
    except libvirt.libvirtError as e:
        if e.get_error_code() not in codes:
            raise


def start(dom) -> None:
    """dom.create(), where a guest already running is success (asked
    twice): libvirt refuses that with "already running" (its code differs
    between drivers, so the domain's state decides)."""
    try:
        dom.create()
    except libvirt.libvirtError:
        if not dom.isActive():
            raise


def already_exists(e: libvirt.libvirtError) -> bool:
    return e.get_error_code() == libvirt.VIR_ERR_DOM_EXIST or (
        e.get_error_code() == libvirt.VIR_ERR_OPERATION_FAILED
        and "already exists" in str(e)
    )
