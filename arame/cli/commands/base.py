"""What every Arame command shares: error reporting and waiting on tasks."""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from cliff import command, lister, show

from arame.cli import errors
from arame.cli.columns import ListColumn
from arame.cli.progress import progress_for


def text_file(path: str) -> str:
    """An argparse type: the text of the file at `path`."""
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError as exc:
        raise argparse.ArgumentTypeError(
            f"cannot read {path}: {exc.strerror}"
        ) from exc


class _ReportsErrors:
    """Turns API and task failures into a short stderr message and exit 1.

    cliff would log the exception itself, but only as ``str(exc)``; catching
    here gives one place for the wording and keeps tracebacks for --debug.
    """

    def run(self, parsed_args: argparse.Namespace) -> int:
        try:
            return super().run(parsed_args)
        except errors.EXPECTED as exc:
            if self.app.options.debug:
                raise
            for line in errors.describe(exc):
                self.app.stderr.write(line + "\n")
            return 1


class Command(_ReportsErrors, command.Command):
    pass


class Lister(_ReportsErrors, lister.Lister):
    pass


class ShowOne(_ReportsErrors, show.ShowOne):
    pass


def add_wait_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--wait",
        action="store_true",
        help="show the task's progress and exit when it ends (1 if it failed)",
    )
    parser.add_argument(
        "--wait-timeout",
        type=float,
        default=600,
        metavar="SECONDS",
        help="how long --wait waits (default: 600)",
    )


def wait_for_task(
    app: Any, task_id: str, timeout: float, nodes: int | None = None
) -> dict[str, Any]:
    """Wait with progress on stderr (counting `nodes` for a task over a
    unit's nodes); raises TaskFailed / TaskTimeout."""
    with progress_for(app.stderr, nodes) as progress:
        return app.client.tasks.wait(
            task_id, timeout=timeout, on_update=progress.update
        )


def task_answer(
    app: Any,
    parsed_args,
    resource_id: str,
    action: str,
    answer: Mapping[str, Any],
    nodes: int | None = None,
):
    """ShowOne data for a request answered with a task (delete, actions):
    the task (and the nodes it acts on, for a unit's), and with --wait how
    it ended; `nodes` counts the progress of a task over many nodes."""
    result = {
        # The id, where the caller gave a name.
        "id": answer.get("id") or resource_id,
        "action": action,
        "task_id": answer["task_id"],
    }
    if "node_ids" in answer:
        result["node_ids"] = answer["node_ids"]
    if parsed_args.wait:
        task = wait_for_task(
            app, answer["task_id"], parsed_args.wait_timeout, nodes
        )
        result["task_status"] = task["status"]
    return one(
        result,
        ("id", "action", "task_id", "node_ids", "task_status"),
        {"node_ids": ListColumn},
    )


def show_after_wait(
    app: Any,
    manager: Any,
    answer: Mapping[str, Any],
    parsed_args,
    resource_id: str | None = None,
) -> Mapping[str, Any]:
    """With --wait: the record as the task left it (the 202 answer predates
    it); `resource_id` where the answer does not carry the record's id."""
    if not parsed_args.wait:
        return answer
    wait_for_task(app, answer["task_id"], parsed_args.wait_timeout)
    return {
        **manager.get(resource_id or answer["id"]),
        "task_id": answer["task_id"],
    }


class TaskCommand(ShowOne):
    """A request on one resource (its id, or a name the SDK resolves) that
    the API answers with a task, with --wait; by default it shows the task
    (task_answer)."""

    action: str = ""
    metavar = "NAME_OR_ID"

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("id", metavar=self.metavar)
        add_wait_options(parser)
        return parser

    def request(self, resource_id: str) -> Mapping[str, Any]:
        raise NotImplementedError

    def take_action(self, parsed_args):
        return task_answer(
            self.app,
            parsed_args,
            parsed_args.id,
            self.action,
            self.request(parsed_args.id),
        )


def one(
    obj: Mapping[str, Any],
    fields: Sequence[str],
    formatters: Mapping[str, type] | None = None,
) -> tuple[tuple[str, ...], tuple[Any, ...]]:
    """ShowOne data: the known fields in order, then whatever else the API sent.

    Unknown fields are kept so a newer server's additions show up without a
    CLI release.
    """
    names = [f for f in fields if f in obj] + sorted(
        k for k in obj if k not in fields
    )
    return tuple(names), tuple(_cell(obj.get(n), n, formatters) for n in names)


def many(
    items: Iterable[Mapping[str, Any]],
    fields: Sequence[str],
    formatters: Mapping[str, type] | None = None,
) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
    """Lister data: a fixed set of columns, missing values left empty."""
    rows = [
        tuple(_cell(item.get(f), f, formatters) for f in fields)
        for item in items
    ]
    return tuple(fields), rows


def _cell(value: Any, name: str, formatters: Mapping[str, type] | None) -> Any:
    column = (formatters or {}).get(name)
    return column(value) if column else value
