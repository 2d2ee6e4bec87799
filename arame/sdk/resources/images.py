from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from typing import IO, Any

import httpx

from arame.sdk.errors import ConnectionFailed
from arame.sdk.resources.base import Manager
from arame.sdk.session import error_from_response

# Bytes per request body chunk: large enough for throughput, small enough
# that an upload never holds more than this in memory.
CHUNK = 1024 * 1024


class ImageManager(Manager):
    path = "/v1/images"
    kind, prefix = "image", "img"

    def list(
        self, *, all: bool = False, **filters: Any
    ) -> list[dict[str, Any]]:
        return self._list(all=all, **filters)

    def get(self, image: str) -> dict[str, Any]:
        """``image``: an id or a name, here and in every call below."""
        return self._get(self.resolve(image))

    def delete(self, image: str) -> None:
        """Gone from every storage node and image cache; 409 (naming them)
        while instances or volumes still use it."""
        self._session.delete(self._item_path(self.resolve(image)))

    def create(
        self,
        name: str,
        format: str,
        *,
        size_bytes: int | None = None,
        sha256: str | None = None,
        visibility: str = "private",
    ) -> dict[str, Any]:
        """The image's record, `pending` until its bytes are uploaded."""
        body = {
            "name": name,
            "format": format,
            "visibility": visibility,
            "size_bytes": size_bytes,
            "sha256": sha256,
        }
        return self._session.post(
            self.path, json={k: v for k, v in body.items() if v is not None}
        )

    def upload(
        self,
        image: str,
        data: str | os.PathLike[str] | IO[bytes],
        *,
        sha256: str | None = None,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> dict[str, Any]:
        """Stream a file (a path, or a seekable binary file object read from
        its current position to its end) as the image's bytes; returns the
        image, `available`. Without `sha256` the file is read once more
        first to compute it. `on_progress(sent, total)` follows the upload."""
        image_id = self.resolve(image)
        if isinstance(data, (str, os.PathLike)):
            with open(data, "rb") as f:
                return self.upload(
                    image_id, f, sha256=sha256, on_progress=on_progress
                )
        start = data.tell()
        size = data.seek(0, os.SEEK_END) - start
        if sha256 is None:
            data.seek(start)
            digest = hashlib.sha256()
            for chunk in _chunks(data):
                digest.update(chunk)
            sha256 = digest.hexdigest()
        data.seek(start)
        return self._put_data(
            image_id, _chunks(data, size, on_progress), size, sha256
        )

    def _put_data(
        self, image_id: str, body: Iterator[bytes], size: int, sha256: str
    ) -> dict[str, Any]:
        # Session.request sends JSON only; a streamed body goes through its
        # HTTP client here, with the same auth and error envelope.
        session = self._session
        headers = {
            "Content-Length": str(size),
            "X-Image-Sha256": sha256,
            "Content-Type": "application/octet-stream",
        }
        if session.token:
            headers["Authorization"] = f"Bearer {session.token}"
        try:
            response = session._http.put(
                self._item_path(image_id, "data"),
                content=body,
                headers=headers,
            )
        except httpx.TransportError as exc:
            raise ConnectionFailed(
                f"cannot reach {session.endpoint}: "
                f"{str(exc) or type(exc).__name__}"
            ) from exc
        if response.is_success:
            return response.json()
        raise error_from_response(response)


def _chunks(
    f: IO[bytes],
    size: int | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> Iterator[bytes]:
    sent = 0
    while size is None or sent < size:
        chunk = f.read(CHUNK if size is None else min(CHUNK, size - sent))
        if not chunk:
            break
        sent += len(chunk)
        if on_progress is not None:
            on_progress(sent, size or sent)
        yield chunk
