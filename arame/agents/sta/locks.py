"""One lock per resource id, shared by everything in the agent that
changes that resource (RPC calls, the image data endpoint)."""

from oslo_concurrency import lockutils


def resource(resource_id: str):
    return lockutils.lock(f"sta-{resource_id}")
