"""Arame: an IaaS cloud controller."""

import warnings

# oslo.service (pulled in by oslo.messaging) picks the eventlet backend unless
# told otherwise, and futurist try-imports eventlet. We run on native threads:
# select the threading backend before anything imports oslo.messaging, and keep
# the try-import's deprecation warning out of every daemon's log.
warnings.filterwarnings("ignore", message="(?s).*Eventlet is deprecated")
warnings.filterwarnings("ignore", message=".*eventletutils module is deprecated.*")

from oslo_service import backend as _oslo_backend  # noqa: E402

_oslo_backend.init_backend(_oslo_backend.BackendType.THREADING)

__version__ = "0.1.0"
