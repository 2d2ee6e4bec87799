"""Filters on what a host is rather than what it has left."""

from arame.common.conf import CONF
from arame.common.db.models import utcnow
from arame.scheduler.filters import BaseFilter


class ServiceAliveFilter(BaseFilter):
    """The host is enabled, not in maintenance, and its agent reported
    within service_down_time. An operator's disable or maintenance
    (PATCH /v1/hosts/{id}) stops new work only: guests already there
    stay."""

    def reason_to_reject(self, host, spec):
        if not host.enabled:
            return "disabled"
        if host.maintenance:
            return "in maintenance"
        if host.last_report_at is None:
            return "never reported"
        age = (utcnow() - host.last_report_at).total_seconds()
        if age > CONF.service_down_time:
            return f"down: last report {age:.0f} s ago"
        return None


class ProviderFilter(BaseFilter):
    """A vm flavor goes to a hypervisor, a bm flavor to bare metal."""

    def reason_to_reject(self, host, spec):
        if host.provider != spec.provider:
            return f"provider {host.provider}, not {spec.provider}"
        return None
