"""An instance's usage record as the ledger takes it: what a flow sends as
`usage.open` / `usage.close`, and what the collector's drift check writes
in its place when that message was lost (the two must not differ)."""


def instance_record(inst, at) -> dict:
    """`at`: when it started or stopped counting (UTC), a datetime or its
    ISO 8601 text (the message carries text)."""
    return {
        "account_id": inst.account_id,
        "resource_id": inst.id,
        "resource_type": "instance",
        "flavor": inst.flavor,
        "vcpus": inst.vcpus,
        "memory_mb": inst.memory_mb,
        "at": at,
    }
