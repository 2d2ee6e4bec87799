"""The daemons' and commands' entry points (console scripts in setup.cfg).

Importing this package prepares the process the way every daemon needs it,
before the entry point's module imports oslo.messaging (use_native_threads).
Only processes that run Arame's daemons do that: `import arame.sdk` or the
CLI leave warnings and oslo.service alone.
"""

import warnings

from oslo_service import backend


def use_native_threads() -> None:
    """Select oslo.service's threading backend, before anything imports
    oslo.messaging (which otherwise picks eventlet), and keep futurist's
    try-import of eventlet from writing a deprecation warning into every
    daemon's log. Idempotent; the test suites call it too."""
    warnings.filterwarnings("ignore", message="(?s).*Eventlet is deprecated")
    warnings.filterwarnings(
        "ignore", message=".*eventletutils module is deprecated.*"
    )
    backend.init_backend(backend.BackendType.THREADING)


use_native_threads()
