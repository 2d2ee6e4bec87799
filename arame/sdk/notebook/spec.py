"""A unit's spec: the flavor's values, then whatever the user overrides.

Fields are plain attributes so a notebook sets them one by one, as on VCP
(``spec.volume_size = 15``); VCP's names are accepted as aliases of
Arame's, and a misspelt field is an error instead of a silent no-op.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from arame.sdk.notebook import sshkeys

FIELDS = (
    "provider",
    "flavor",
    "image",
    "root_gb",
    "network",
    "security_groups",
    "key_pairs",
    "user_data",
    "ip_addresses",
    "ha_enabled",
)
# VCP's names (and Arame's older ones) for the same fields.
ALIASES = {
    "volume_size": "root_gb",
    "disk_size_gb": "root_gb",
    "user_init_command": "user_data",
    "instance_type": "flavor",
    "vm_size": "flavor",
}
_LISTS = ("security_groups", "key_pairs", "ip_addresses")

# (public key) -> key pair id: imports the key or finds the pair holding it.
KeyImporter = Callable[[sshkeys.PublicKey], str]


class Spec:
    """Build with ``sdk.get_spec(provider, flavor)``; ``print(spec)``
    shows every field."""

    def __init__(
        self,
        provider: str,
        flavor: str,
        *,
        flavor_info: Mapping[str, Any] | None = None,
        key_importer: KeyImporter | None = None,
        **fields: Any,
    ) -> None:
        object.__setattr__(self, "_values", dict.fromkeys(FIELDS))
        object.__setattr__(self, "_flavor_info", dict(flavor_info or {}))
        object.__setattr__(self, "_key_importer", key_importer)
        object.__setattr__(self, "_key_files", [])
        self.provider = provider
        self.flavor = flavor
        self.key_pairs: list[str] = []
        for name, value in fields.items():
            setattr(self, name, value)

    # -- fields ----------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        field = ALIASES.get(name, name)
        values = object.__getattribute__(self, "_values")
        if field in values:
            return values[field]
        raise AttributeError(_unknown(name))

    def __setattr__(self, name: str, value: Any) -> None:
        field = ALIASES.get(name, name)
        if field not in FIELDS:
            raise AttributeError(_unknown(name))
        self._values[field] = _checked(field, value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Spec) and self._values == other._values

    __hash__ = None  # type: ignore[assignment]  # mutable: not a dict key

    def set_ssh_pubkey(self, path: str | Path) -> list[str]:
        """Give the nodes the public key(s) in ``path`` (for root).

        Every key in the file is checked, then imported as a key pair, or
        the pair already holding that key is reused. Returns the key pair
        ids added to ``key_pairs``.
        """
        keys = sshkeys.read_file(path)
        if self._key_importer is None:
            raise RuntimeError(
                "this spec is not tied to an ArameSDK: make it with "
                "sdk.get_spec(provider, flavor)"
            )
        added = [self._key_importer(key) for key in keys]
        self.key_pairs = list(dict.fromkeys([*self.key_pairs, *added]))
        self._key_files.append(str(Path(path).expanduser()))
        return added

    # -- what the API gets -----------------------------------------------
    def to_api(self) -> dict[str, Any]:
        """The ``spec`` body of POST /v1/units (ip_addresses travel beside
        it, not in it)."""
        body = {
            k: v
            for k, v in self._values.items()
            if v is not None and k != "ip_addresses"
        }
        if not body.get("key_pairs"):
            body.pop("key_pairs", None)
        return body

    def check_ready(self) -> None:
        if not self.image:
            raise ValueError(
                "spec.image is not set: set it to an image name or id "
                "(sdk.df_images() lists them)"
            )

    # -- display -----------------------------------------------------------
    def __repr__(self) -> str:
        return f"<Spec provider={self.provider} flavor={self.flavor}>"

    def __str__(self) -> str:
        info = self._flavor_info
        lines = [f"Spec (provider {self.provider}, flavor {self.flavor})"]
        notes = {
            "flavor": _flavor_note(info),
            "root_gb": "volume_size; "
            + (
                f"flavor's {info['disk_gb']} GB when unset"
                if "disk_gb" in info
                else "the flavor's when unset"
            ),
            "user_data": "user_init_command",
            "key_pairs": ", ".join(self._key_files)
            if self._key_files
            else "set_ssh_pubkey(path)",
            "network": "the default network when unset",
        }
        for field in FIELDS:
            shown = _show(field, self._values[field])
            note = notes.get(field)
            lines.append(
                f"  {field:<16}{shown}" + (f"   ({note})" if note else "")
            )
        return "\n".join(lines)


def _unknown(name: str) -> str:
    known = ", ".join([*FIELDS, *ALIASES])
    return f"Spec has no field {name!r} (fields: {known})"


def _checked(field: str, value: Any) -> Any:
    if value is None:
        return [] if field == "key_pairs" else None
    if field in _LISTS:
        # One value is a list of one, as VCP's calls allow.
        value = [value] if isinstance(value, str) else list(value)
    if field == "root_gb":
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError("root_gb (volume_size) is a whole number of GB")
        if value < 1:
            raise ValueError("root_gb (volume_size) must be at least 1 GB")
    # Its size is the server's to judge ([api] max_user_data_bytes, 96 KiB
    # by default): an operator may allow more.
    if field == "user_data" and not isinstance(value, str):
        raise TypeError("user_data (user_init_command) is a string")
    if field == "provider" and value not in ("vm", "bm"):
        raise ValueError(
            f"provider {value!r}: Arame's providers are 'vm' (virtual "
            "machines) and 'bm' (bare-metal servers)"
        )
    return value


def _flavor_note(info: Mapping[str, Any]) -> str | None:
    if not info:
        return None
    return (
        f"{info.get('vcpus')} vCPU, {info.get('memory_mb')} MB, "
        f"{info.get('disk_gb')} GB"
    )


def _show(field: str, value: Any) -> str:
    if value is None or value == []:
        return "-"
    if field == "user_data":
        first = value.splitlines()[0] if value else ""
        return f"{first[:40]!r}... ({len(value.encode())} bytes)"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)
