"""iPXE scripts that boot a bare-metal node: pure functions, no I/O.

A node PXE-boots iPXE (the NIC's own ROM, or `undionly.kpxe` handed out
by nsa's dnsmasq), which fetches a script nsa serves for its MAC. The
script either `sanboot`s the node's iSCSI root volume (no deploy ramdisk,
no image copy) or boots a kernel + initramfs image.

Every field is checked before it lands in a script: iPXE expands `${...}`,
splits on spaces and treats `||`, `&&` and `:label` as control, so a value
that is not exactly what it claims to be could change what the node runs.
A bad field raises ValueError.
"""

import ipaddress
import re
import urllib.parse

# RFC 3720 names, restricted to what Arame makes: iqn.<yyyy-mm>.<reversed
# domain>[:<anything of [a-z0-9.:-]>], or eui.<16 hex digits>.
_IQN_RE = re.compile(
    r"iqn\.\d{4}-(0[1-9]|1[0-2])\.[a-z0-9]([a-z0-9-]*[a-z0-9])?"
    r"(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[a-z0-9][a-z0-9.:-]{0,200})?"
    r"|eui\.[0-9a-f]{16}"
)
# The same rules as sta's CHAP credentials (agents/sta/checks.py).
_CHAP_USER_RE = re.compile(r"[A-Za-z0-9._-]{1,64}")
_CHAP_SECRET_RE = re.compile(r"[A-Za-z0-9._~+/=-]{12,64}")
_HOST_RE = re.compile(
    r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
)
_PATH_RE = re.compile(r"[A-Za-z0-9._~/%+-]{1,512}")
# A kernel command line: words of these characters and single spaces; no
# `$` (expansion), `|`/`&` (iPXE operators), quotes or backslashes.
_CMDLINE_RE = re.compile(r"[A-Za-z0-9._,:=/+@%~-]+( [A-Za-z0-9._,:=/+@%~-]+)*")

ISCSI_PORT = 3260
MAX_LUN = 255
MAX_CMDLINE = 1024
URL_SCHEMES = ("http", "https", "tftp")


def iqn(value) -> str:
    if not isinstance(value, str) or not _IQN_RE.fullmatch(value):
        raise ValueError(f"not an iSCSI qualified name: {value!r}")
    return value


def _ip(value) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        return ipaddress.ip_address(value)
    except (ValueError, TypeError):
        raise ValueError(f"not an IP address: {value!r}") from None


def _port(value) -> int:
    if isinstance(value, str) and value.isdigit() and len(value) <= 5:
        value = int(value)
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or not 1 <= value <= 65535
    ):
        raise ValueError(f"not a TCP port: {value!r}")
    return value


def portal(value) -> tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int]:
    """`ip`, `ip:port` or `[ipv6]:port` (sta's `portal`) -> (ip, port)."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"not an iSCSI portal: {value!r}")
    if value.startswith("["):
        host, sep, rest = value[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise ValueError(f"not an iSCSI portal: {value!r}")
        addr = _ip(host)
        if addr.version != 6:
            raise ValueError(f"not an iSCSI portal: {value!r}")
        return addr, _port(rest[1:]) if rest else ISCSI_PORT
    if value.count(":") == 1:
        host, port = value.split(":")
        addr = _ip(host)
        if addr.version != 4:
            raise ValueError(f"not an iSCSI portal: {value!r}")
        return addr, _port(port)
    return _ip(value), ISCSI_PORT


def lun(value) -> int:
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or not 0 <= value <= MAX_LUN
    ):
        raise ValueError(f"not a LUN: {value!r}")
    return value


def chap_user(value) -> str:
    if not isinstance(value, str) or not _CHAP_USER_RE.fullmatch(value):
        raise ValueError(
            f"CHAP user must be 1-64 of [A-Za-z0-9._-]: {value!r}"
        )
    return value


def chap_secret(value) -> str:
    # Never echo the value, not even in an error.
    if not isinstance(value, str) or not _CHAP_SECRET_RE.fullmatch(value):
        raise ValueError("CHAP secret must be 12-64 of [A-Za-z0-9._~+/=-]")
    return value


def san_uri(portal_value: str, iqn_value: str, lun_value: int) -> str:
    """iPXE's `iscsi:<server>:<protocol>:<port>:<lun>:<target name>`."""
    addr, port = portal(portal_value)
    host = f"[{addr}]" if addr.version == 6 else str(addr)
    return f"iscsi:{host}::{port}:{lun(lun_value)}:{iqn(iqn_value)}"


def boot_url(value) -> str:
    """An absolute http(s)/tftp URL, or a path relative to the script
    (served from the same TFTP root or web directory)."""
    if not isinstance(value, str):
        raise ValueError(f"not a URL: {value!r}")  # noqa: TRY004 (one type)
    if "://" not in value:
        if (
            not _PATH_RE.fullmatch(value)
            or value.startswith("/")
            or ".." in value.split("/")
        ):
            raise ValueError(f"not a relative path: {value!r}")
        return value
    u = urllib.parse.urlsplit(value)
    if (
        u.scheme not in URL_SCHEMES
        or u.username
        or u.password
        or u.query
        or u.fragment
    ):
        raise ValueError(f"not an http(s) or tftp URL: {value!r}")
    host = u.hostname or ""
    try:
        _ip(host.strip("[]"))
    except ValueError:
        if not _HOST_RE.fullmatch(host):
            raise ValueError(f"not a host in {value!r}") from None
    if u.port is not None:
        _port(u.port)
    if not _PATH_RE.fullmatch(
        u.path.lstrip("/") or "x"
    ) or ".." in u.path.split("/"):
        raise ValueError(f"not a path in {value!r}")
    return value


def cmdline(value) -> str:
    if value == "":
        return value
    if (
        not isinstance(value, str)
        or len(value) > MAX_CMDLINE
        or not _CMDLINE_RE.fullmatch(value)
    ):
        raise ValueError(
            f"not a kernel command line iPXE passes as is: {value!r}"
        )
    return value


# DHCP runs once in the ROM before the script is fetched: ask again only
# when the script is reached some other way (an embedded or USB iPXE).
_HEADER = "#!ipxe\nisset ${ip} || dhcp\n"


def _failure(what: str) -> str:
    # Left on the console so that an operator (and a test) sees why the
    # node did not boot; then iPXE gives back to the BIOS's next device.
    return f":failed\necho Arame: {what} failed: ${{errno}}\nexit 1\n"


def sanboot_script(
    *,
    portal: str,
    iqn: str,
    lun: int,
    chap_user: str,
    chap_secret: str,
    initiator_iqn: str | None = None,
) -> str:
    """A script that boots the node from its iSCSI root volume, logging in
    with the volume's CHAP credentials (the initiator proves itself)."""
    uri = san_uri(portal, iqn, lun)
    lines = [
        _HEADER.rstrip("\n"),
        f"set username {_chap_user(chap_user)}",
        f"set password {_chap_secret(chap_secret)}",
    ]
    if initiator_iqn is not None:
        lines.append(f"set initiator-iqn {_iqn(initiator_iqn)}")
    lines.append(f"sanboot {uri} || goto failed")
    return "\n".join(lines) + "\n" + _failure(f"sanboot of {_iqn(iqn)}")


def kernel_script(*, kernel_url: str, initrd_url: str, cmdline: str) -> str:
    """A script that boots a kernel + initramfs image."""
    k, i, c = boot_url(kernel_url), boot_url(initrd_url), _cmdline(cmdline)
    kernel = f"kernel {k} {c}".rstrip()
    return (
        _HEADER + f"{kernel} || goto failed\n"
        f"initrd {i} || goto failed\n"
        "boot || goto failed\n" + _failure("kernel boot")
    )


# The keyword arguments shadow the checks of the same names.
_iqn, _chap_user, _chap_secret, _cmdline = iqn, chap_user, chap_secret, cmdline
