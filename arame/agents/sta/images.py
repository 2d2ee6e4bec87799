"""Image bytes into the pool, from wherever they come.

Both ways in go through `ImageReceiver.receive(image_id, stream, size,
sha256)`: the RPC `import_image` (a file already on this node) and the
HTTP data endpoint to come (a request body streamed from the API with a
signed ticket). The bytes never travel over the bus; the stream is read
in bounded chunks and checked (size, sha256) before the image is frozen.
"""

from typing import BinaryIO

from oslo_log import log

from arame.agents.sta import checks, locks
from arame.agents.sta.backends.base import StorageBackend

LOG = log.getLogger(__name__)


class ImageReceiver:
    def __init__(self, backend: StorageBackend, max_gb: int):
        self.backend = backend
        self.max_gb = max_gb

    def receive(
        self, image_id: str, stream: BinaryIO, size: int, sha256: str
    ) -> dict:
        checks.image_id(image_id)
        checks.image_size(size, self.max_gb)
        checks.sha256(sha256)
        with locks.resource(image_id):
            LOG.info("receiving image %s (%d bytes)", image_id, size)
            return self.backend.import_image(
                image_id, stream, size, sha256
            ).to_dict()

    def import_file(
        self,
        image_id: str,
        path: str,
        size: int,
        sha256: str,
        allowed_dirs: list[str],
    ) -> dict:
        checks.image_id(image_id)
        real = checks.import_path(path, allowed_dirs)
        with open(real, "rb") as f:
            return self.receive(image_id, f, size, sha256)
