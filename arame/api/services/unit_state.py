"""A unit's and a group's state, derived from their nodes at every read:
nothing to keep in step, nothing to go stale when a node changes behind
the unit's back (HA restart, power sync, a failed build)."""

# A node in one of these is on its way somewhere: the unit is booting.
_MOVING = frozenset(
    {
        "pending",
        "scheduling",
        "starting",
        "stopping",
        "rebooting",
        "evacuating",
    }
)
_LEAVING = frozenset({"shuttingdown", "terminated"})


def unit_state(status: str, node_statuses: list[str]) -> str:
    """`status` is the unit's own (active | deleting). First rule that
    matches wins."""
    if status == "deleting":
        return "deleting"
    staying = [n for n in node_statuses if n not in _LEAVING]
    if node_statuses and not staying:
        # Every node is going (delete_nodes of all of them).
        return "deleting"
    if "error" in staying:
        return "error"
    if any(n in _MOVING for n in staying):
        return "booting"
    if staying and all(n == "stopped" for n in staying):
        return "power_off"
    return "running"


# The group shows the most pressing of its units' states.
_GROUP_ORDER = ("error", "booting", "deleting", "running", "power_off")


def group_state(status: str, unit_states: list[str]) -> str:
    if status == "deleting":
        return "deleting"
    if not unit_states:
        return "running"
    if all(u == "power_off" for u in unit_states):
        return "power_off"
    for state in _GROUP_ORDER:
        if state in unit_states:
            return state
    return "running"
