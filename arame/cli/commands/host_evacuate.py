"""arame host evacuate HOST [--wait] (admin): rebuild a down, fenced
host's ha instances on other hosts, one task per instance."""

from __future__ import annotations

from typing import Any

from arame.cli.commands.base import Lister, add_wait_options, many
from arame.sdk import TaskFailed, TaskTimeout

FIELDS = ("instance_id", "task_id", "result", "host", "reason")


class EvacuateHost(Lister):
    """Evacuate a down hypervisor host: fence it (storage, and power where
    a BMC is set) and rebuild each of its ha_enabled instances elsewhere
    with the same addresses; others are put in error saying why (admin).
    With --wait, exit 1 if any instance's evacuation failed."""

    def get_parser(self, prog_name):
        p = super().get_parser(prog_name)
        p.add_argument("host", metavar="HOST", help="name or id")
        add_wait_options(p)
        return p

    def take_action(self, a):
        client = self.app.client
        answer = client.hosts.evacuate(a.host)
        rows: list[dict[str, Any]] = []
        failed = 0
        for t in answer.get("tasks") or []:
            row = {
                "instance_id": t["instance_id"],
                "task_id": t["task_id"],
                "result": "queued" if t.get("new") else "already evacuating",
            }
            if a.wait:
                row.update(self._wait(t, a.wait_timeout))
                failed += row["result"] != "done"
            rows.append(row)
        for n in answer.get("not_evacuated") or []:
            rows.append(
                {
                    "instance_id": n["instance_id"],
                    "result": "not evacuated",
                    "reason": n["reason"],
                }
            )
        if failed:
            self.app.stderr.write(
                f"Error: {failed} instance(s) of {answer['host']} were not "
                "evacuated (see their tasks)\n"
            )
            self.exit_code = 1
        return many(rows, FIELDS)

    def _wait(self, task: dict[str, Any], timeout: float) -> dict[str, Any]:
        client = self.app.client
        try:
            client.tasks.wait(task["task_id"], timeout=timeout)
        except TaskFailed as e:
            return {"result": "failed", "reason": f"{e.step}: {e.message}"}
        except TaskTimeout:
            return {"result": "still running"}
        inst = client.instances.get(task["instance_id"])
        return {"result": "done", "host": inst.get("host")}

    def run(self, parsed_args):
        self.exit_code = 0
        code = super().run(parsed_args)
        return code or self.exit_code
