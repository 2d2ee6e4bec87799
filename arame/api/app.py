"""The FastAPI application: one router per resource, errors in one shape."""

from fastapi import FastAPI

from arame import __version__
from arame.api import errors, middleware, web
from arame.api.routers import (
    auth,
    baremetal,
    catalog,
    floating_ips,
    health,
    host_bmc,
    host_evacuation,
    hosts,
    identity,
    instance_security_groups,
    instances,
    key_pairs,
    metrics,
    networks,
    quotas,
    routers,
    security_groups,
    snapshots,
    tasks,
    unit_groups,
    units,
    usage,
    version,
    volumes,
)
from arame.common.conf import CONF


def create_app() -> FastAPI:
    app = FastAPI(
        title="Arame API",
        version=__version__,
        description="IaaS cloud controller: instances, volumes, networks, "
        "bare metal. Every change is a task (202 + task_id).",
        responses=errors.documented(errors.ANY),
    )
    errors.install(app)
    for r in (
        health.router,
        auth.router,
        instances.router,
        tasks.router,
        hosts.router,
        host_bmc.router,
        host_evacuation.router,
        catalog.flavors,
        catalog.images,
        identity.accounts,
        identity.users,
        key_pairs.router,
        networks.router,
        security_groups.router,
        quotas.router,
        usage.router,
        volumes.router,
        snapshots.router,
        baremetal.router,
        unit_groups.router,
        units.router,
        version.router,
        instance_security_groups.router,
        metrics.router,
        routers.router,
        floating_ips.router,
    ):
        app.include_router(r)
    web.mount(app)
    app.add_middleware(
        middleware.ArameMiddleware, max_body=CONF.api.max_request_body_bytes
    )
    return app
