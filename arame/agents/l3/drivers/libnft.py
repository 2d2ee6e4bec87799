"""libnftables (Debian's nftables package ships libnftables.so.1) through
ctypes: what `nft -f -` does, without starting a process.

A context opens its netlink socket in the namespace of the thread that
makes it: make and use each context on one namespace's thread
(netns_thread). Calls go one at a time (a lock for the whole library):
its older releases keep parser state in globals, and a call takes about
a millisecond, so nothing is lost.
"""

import ctypes
import ctypes.util
import threading

_LIB_NAMES = ("libnftables.so.1", ctypes.util.find_library("nftables"))
_lock = threading.Lock()
_lib = None


class NftError(Exception):
    """nft refused the commands (its error text); nothing was changed:
    a buffer is one transaction."""


def load():
    """The library, or None if it is not installed here."""
    global _lib
    if _lib is not None:
        return _lib
    for name in _LIB_NAMES:
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        lib.nft_ctx_new.restype = ctypes.c_void_p
        lib.nft_ctx_new.argtypes = [ctypes.c_uint32]
        lib.nft_ctx_free.argtypes = [ctypes.c_void_p]
        lib.nft_ctx_buffer_output.argtypes = [ctypes.c_void_p]
        lib.nft_ctx_buffer_error.argtypes = [ctypes.c_void_p]
        lib.nft_ctx_get_output_buffer.restype = ctypes.c_char_p
        lib.nft_ctx_get_output_buffer.argtypes = [ctypes.c_void_p]
        lib.nft_ctx_get_error_buffer.restype = ctypes.c_char_p
        lib.nft_ctx_get_error_buffer.argtypes = [ctypes.c_void_p]
        lib.nft_run_cmd_from_buffer.argtypes = [
            ctypes.c_void_p,
            ctypes.c_char_p,
        ]
        _lib = lib
        return lib
    return None


class Nft:
    """One libnftables context, in the namespace of the thread making it
    (each call must come from that same thread's namespace)."""

    def __init__(self):
        lib = load()
        if lib is None:
            raise NftError("libnftables is not installed")
        self._lib = lib
        with _lock:
            self._ctx = lib.nft_ctx_new(0)  # NFT_CTX_DEFAULT
            if not self._ctx:
                raise NftError("nft_ctx_new failed")
            lib.nft_ctx_buffer_output(self._ctx)
            lib.nft_ctx_buffer_error(self._ctx)

    def run(self, text: str) -> str:
        """The commands of `text` (an `nft -f` file) in one transaction;
        their output. NftError with nft's message if refused."""
        lib = self._lib
        with _lock:
            rc = lib.nft_run_cmd_from_buffer(self._ctx, text.encode())
            out = lib.nft_ctx_get_output_buffer(self._ctx) or b""
            err = lib.nft_ctx_get_error_buffer(self._ctx) or b""
        if rc != 0:
            raise NftError(
                err.decode(errors="replace").strip() or f"nft exit {rc}"
            )
        return out.decode(errors="replace")

    def close(self) -> None:
        with _lock:
            if self._ctx:
                self._lib.nft_ctx_free(self._ctx)
                self._ctx = None
