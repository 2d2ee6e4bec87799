"""A cpio "newc" archive, the format the kernel unpacks as an initramfs.

Written here rather than with cpio(1) so that the archive holds what we say
(root-owned files, a /dev/console node) without running as root or faking
it, and so that the same inputs give the same bytes (fixed mtimes).
"""

import stat

_MAGIC = b"070701"
_TRAILER = "TRAILER!!!"


def _pad(n: int) -> bytes:
    return b"\0" * (-n % 4)


class Archive:
    """Entries in the order added; a directory must come before its files."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._ino = 0
        self.names: set[str] = set()

    def _entry(
        self,
        name: str,
        mode: int,
        data: bytes = b"",
        *,
        rdev: tuple[int, int] = (0, 0),
        nlink: int = 1,
    ) -> None:
        name = name.strip("/")
        if name in self.names:
            raise ValueError(f"{name} is already in the archive")
        self.names.add(name)
        self._ino += 1
        raw_name = name.encode() + b"\0"
        fields = (
            self._ino,
            mode,
            0,
            0,
            nlink,
            0,
            len(data),
            0,
            0,
            rdev[0],
            rdev[1],
            len(raw_name),
            0,
        )
        header = _MAGIC + b"".join(b"%08X" % f for f in fields)
        self._chunks += [
            header,
            raw_name,
            _pad(len(header) + len(raw_name)),
            data,
            _pad(len(data)),
        ]

    def directory(self, name: str, mode: int = 0o755) -> None:
        self._entry(name, stat.S_IFDIR | mode, nlink=2)

    def file(self, name: str, data: bytes, mode: int = 0o644) -> None:
        self._entry(name, stat.S_IFREG | mode, data)

    def symlink(self, name: str, target: str) -> None:
        self._entry(name, stat.S_IFLNK | 0o777, target.encode())

    def char_device(
        self, name: str, major: int, minor: int, mode: int = 0o600
    ) -> None:
        self._entry(name, stat.S_IFCHR | mode, rdev=(major, minor))

    def getvalue(self) -> bytes:
        trailer = Archive()
        trailer._ino = -1  # the trailer's inode number is 0 by convention
        trailer._entry(_TRAILER, 0, nlink=1)
        return b"".join(self._chunks + trailer._chunks)
