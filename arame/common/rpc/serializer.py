"""The one serializer: our RequestContext in, JSON-safe primitives out."""

import oslo_messaging as messaging
from oslo_serialization import jsonutils

from arame.common.context import RequestContext


class Serializer(messaging.Serializer):
    def serialize_entity(self, ctxt, entity):
        return jsonutils.to_primitive(entity, convert_instances=True)

    def deserialize_entity(self, ctxt, entity):
        return entity

    def serialize_context(self, ctxt):
        if isinstance(ctxt, RequestContext):
            return ctxt.to_dict()
        return dict(ctxt or {})

    def deserialize_context(self, ctxt):
        return RequestContext.from_dict(ctxt)
