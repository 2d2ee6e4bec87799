"""Quotas of an account: show the limits and what is in use; set limits
(admin)."""

from __future__ import annotations

import argparse

from arame.cli.commands.base import ShowOne, one

# The limits the API knows today; a newer server's extra ones still show.
LIMITS = ("instances", "vcpus", "memory_mb", "volumes", "storage_gb")


def _limit(text: str) -> int | None:
    """N, -1 (no limit) or `default` (back to the cloud's default)."""
    if text == "default":
        return None
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected a number, -1 (no limit) or 'default'"
        ) from None
    if value < -1:
        raise argparse.ArgumentTypeError(f"{text!r}: must be -1 or more")
    return value


def flatten(quota: dict) -> dict:
    """{"account_id", "<limit>": limit, "<limit>_in_use": use} for display."""
    out = {"account_id": quota.get("account_id")}
    limits, in_use = quota.get("limits") or {}, quota.get("in_use") or {}
    for name in list(LIMITS) + sorted(set(limits) - set(LIMITS)):
        if name in limits:
            out[name] = limits[name]
            out[f"{name}_in_use"] = in_use.get(name)
    return out


def _fields(flat: dict) -> tuple:
    return tuple(flat)


class ShowQuota(ShowOne):
    """Show an account's limits and what it uses."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("account", metavar="ACCOUNT_ID")
        return parser

    def take_action(self, parsed_args):
        flat = flatten(self.app.client.accounts.get_quota(parsed_args.account))
        return one(flat, _fields(flat))


class SetQuota(ShowOne):
    """Set limits of an account (admin): a number, -1 for no limit, or
    `default`; limits not given are kept."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("account", metavar="ACCOUNT_ID")
        for name in LIMITS:
            parser.add_argument(
                f"--{name.replace('_', '-')}",
                dest=name,
                type=_limit,
                default=argparse.SUPPRESS,
                metavar="N",
            )
        return parser

    def take_action(self, parsed_args):
        limits = {
            n: getattr(parsed_args, n)
            for n in LIMITS
            if hasattr(parsed_args, n)
        }
        if not limits:
            raise ValueError(
                "nothing to set: give at least one limit, e.g. --instances 20"
            )
        flat = flatten(
            self.app.client.accounts.set_quota(parsed_args.account, **limits)
        )
        return one(flat, _fields(flat))
