"""POST /v1/hosts/{id}/evacuate: the records of a down host's evacuation
(common/evacuation.py) in one transaction, then a cast per new task."""

from oslo_log import log

from arame.api.services.hosts import _find_host
from arame.common import evacuation, exceptions
from arame.common.db import engine as db_engine
from arame.common.db import models
from arame.scheduler import rpcapi as scheduler_rpcapi

LOG = log.getLogger(__name__)


class EvacuationService:
    def __init__(self, scheduler=None):
        self._scheduler = scheduler

    @property
    def scheduler(self):
        # Made at first use: the API process imports routers at start.
        if self._scheduler is None:
            self._scheduler = scheduler_rpcapi.SchedulerAPI()
        return self._scheduler

    def evacuate(self, ctxt, ref: str) -> dict:
        with db_engine.session() as s:
            host = _find_host(s, ref)
            if host is None:
                raise exceptions.NotFound(f"host {ref} not found")
            evacuation.check_evacuable(s, host)
            begun = evacuation.begin(
                s, host, request_id=getattr(ctxt, "request_id", None)
            )
            s.flush()
            ev = s.get(models.HostEvacuation, host.name)
            out = {
                "host": host.name,
                "state": ev.state,
                "fenced_at": ev.fenced_at
                if evacuation.fenced(ev, host)
                else None,
                "tasks": begun.tasks,
                "not_evacuated": begun.not_evacuated,
            }
        evacuation.cast(self.scheduler, ctxt, begun, LOG)
        return out


service = EvacuationService()
