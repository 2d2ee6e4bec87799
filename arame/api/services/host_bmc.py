"""A hypervisor host's BMC: set, read (without its password), removed.

The scheduler cuts a down host's power through it before evacuating the
host's instances (scheduler/power_fencing.py). The fields are checked as
a bare-metal node's are (common/bmc.py: what ipmitool would refuse is a
422 naming the field) and the password is sealed (common/secretbox).
"""

from arame.api.services.hosts import _find_host
from arame.common import bmc, exceptions, secretbox
from arame.common.db import engine as db_engine
from arame.common.db import models

_FIELDS = ("bmc_address", "bmc_port", "bmc_username", "bmc_interface")


def _view(host: models.Host) -> dict:
    return {
        "host_id": host.id,
        "host": host.name,
        "configured": host.bmc_address is not None,
        **{f: getattr(host, f) for f in _FIELDS},
    }


def _host(s, ref: str) -> models.Host:
    host = _find_host(s, ref)
    if host is None:
        raise exceptions.NotFound(f"hypervisor host {ref} not found")
    return host


def _checked(req) -> dict:
    values = req.model_dump()
    check = {
        "bmc_address": bmc.bmc_address,
        "bmc_username": bmc.bmc_username,
        "bmc_password": lambda v: bmc.bmc_password(v, req.bmc_interface),
    }
    for field, fn in check.items():
        try:
            values[field] = fn(values[field])
        except bmc.InvalidNode as e:
            # The checks never repeat a password in their message.
            raise exceptions.Invalid(f"{field}: {e}", field=field) from None
    values["bmc_password"] = secretbox.seal(values["bmc_password"])
    return values


def get_bmc(ctxt, ref: str) -> dict:
    with db_engine.session() as s:
        return _view(_host(s, ref))


def set_bmc(ctxt, ref: str, req) -> dict:
    values = _checked(req)
    with db_engine.session() as s:
        host = _host(s, ref)
        for field, value in values.items():
            setattr(host, field, value)
        host.updated_at = models.utcnow()
        s.flush()
        return _view(host)


def delete_bmc(ctxt, ref: str) -> None:
    with db_engine.session() as s:
        host = _host(s, ref)
        for field in (*_FIELDS, "bmc_password"):
            setattr(host, field, None)
        host.updated_at = models.utcnow()
