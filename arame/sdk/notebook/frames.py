"""Rows as VCP users read them: their column names, their state words,
in a pandas DataFrame when pandas is installed, else a list of dicts.

pandas is imported on the first frame, not with arame.sdk: importing the
SDK stays cheap and a laptop without the [notebook] extra still works.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

# VCP's words for Arame's unit, group and instance states. A node on its
# way up (or back up) is BOOTING as VCP shows it; one going down is already
# POWER_OFF or DELETING, the state it is heading for.
STATES = {
    "booting": "BOOTING",
    "pending": "BOOTING",
    "scheduling": "BOOTING",
    "starting": "BOOTING",
    "rebooting": "BOOTING",
    # Rebuilt on another host, its own being down (evacuation).
    "evacuating": "BOOTING",
    "running": "RUNNING",
    "power_off": "POWER_OFF",
    "stopping": "POWER_OFF",
    "stopped": "POWER_OFF",
    "error": "ERROR",
    "deleting": "DELETING",
    "shuttingdown": "DELETING",
    "terminated": "DELETING",
}

UGROUP_COLUMNS = (
    "ugroup_name",
    "ugroup_id",
    "ugroup_state",
    "num_units",
    "num_nodes",
    "created_at",
)
UNIT_COLUMNS = (
    "ugroup_name",
    "unit_name",
    "unit_id",
    "unit_state",
    "provider",
    "flavor",
    "image",
    "num_nodes",
    "created_at",
)
NODE_COLUMNS = (
    "ugroup_name",
    "unit_name",
    "unit_state",
    "node_id",
    "node_name",
    "node_state",
    "ip_address",
    "provider",
    "flavor",
    "host",
    "status_reason",
    "created_at",
)
FLAVOR_COLUMNS = ("provider", "flavor", "vcpus", "memory_mb", "disk_gb")
IMAGE_COLUMNS = ("image_name", "image_id", "format", "visibility", "status")
METRIC_COLUMNS = (
    "at",
    "cpu_percent",
    "memory_used_mb",
    "memory_mb",
    "disk_read_bps",
    "disk_write_bps",
    "net_rx_bps",
    "net_tx_bps",
)
# Parsed to timestamps in a DataFrame, so they sort and plot as times.
_TIME_COLUMNS = ("created_at", "at")

#: Set to False to get lists of dicts even where pandas is installed.
use_pandas = True


def vcp_state(state: str | None) -> str | None:
    if state is None:
        return None
    return STATES.get(state, state.upper())


def pandas() -> Any:
    """The pandas module, or None when it is missing or turned off."""
    if not use_pandas:
        return None
    try:
        return importlib.import_module("pandas")
    except ImportError:
        return None


def frame(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> Any:
    """A DataFrame with exactly ``columns`` (a header only when there are
    no rows), or the same rows as a list of dicts."""
    picked = [{c: row.get(c) for c in columns} for row in rows]
    pd = pandas()
    if pd is None:
        return picked
    df = pd.DataFrame(picked, columns=list(columns))
    for column in _TIME_COLUMNS:
        if column in df.columns:
            df[column] = pd.to_datetime(df[column], utc=True)
    return df


def ugroup_row(group: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "ugroup_name": group["name"],
        "ugroup_id": group["id"],
        "ugroup_state": vcp_state(group.get("state")),
        "num_units": len(group.get("units") or ()),
        "num_nodes": group.get("node_count"),
        "created_at": group.get("created_at"),
    }


def unit_row(unit: Mapping[str, Any]) -> dict[str, Any]:
    spec = unit.get("spec") or {}
    return {
        "ugroup_name": unit.get("unit_group_name"),
        "unit_name": unit["name"],
        "unit_id": unit["id"],
        "unit_state": vcp_state(unit.get("state")),
        "provider": spec.get("provider"),
        "flavor": spec.get("flavor"),
        "image": spec.get("image"),
        "num_nodes": unit.get("node_count"),
        "created_at": unit.get("created_at"),
    }


def node_rows(unit: Mapping[str, Any]) -> list[dict[str, Any]]:
    spec = unit.get("spec") or {}
    return [
        {
            "ugroup_name": unit.get("unit_group_name"),
            "unit_name": unit["name"],
            "unit_state": vcp_state(unit.get("state")),
            "node_id": node["id"],
            "node_name": node.get("name"),
            "node_state": vcp_state(node.get("status")),
            "ip_address": node.get("ip_address"),
            "provider": spec.get("provider"),
            "flavor": spec.get("flavor"),
            "host": node.get("host"),
            "status_reason": node.get("status_reason"),
            "created_at": node.get("created_at"),
        }
        for node in unit.get("nodes") or ()
    ]


def flavor_row(flavor: Mapping[str, Any]) -> dict[str, Any]:
    return {**flavor, "flavor": flavor["name"]}


def image_row(image: Mapping[str, Any]) -> dict[str, Any]:
    return {**image, "image_name": image["name"], "image_id": image["id"]}
