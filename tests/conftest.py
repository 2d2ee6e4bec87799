"""Every test tier runs Arame's code as its daemons do: on native threads,
oslo.service's threading backend selected before anything imports
oslo.messaging."""

from arame.cmd import use_native_threads

use_native_threads()
